from django.urls import path

from credshare.verification import views

app_name = "verification"
urlpatterns = [
    path("<uuid:public_id>/", views.document_verify, name="document"),
]
