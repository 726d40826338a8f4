from django.urls import path

from credshare.audit import views

app_name = "audit"
urlpatterns = [
    path("<slug:slug>/audit/", views.organization_log, name="organization"),
]
