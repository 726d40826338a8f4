from django.urls import path

from credshare.accounts import privacy_views

app_name = "account_privacy"
urlpatterns = [
    path("", privacy_views.privacy_page, name="page"),
    path("export/", privacy_views.privacy_export, name="export"),
    path("close/", privacy_views.account_close, name="close"),
    path("closed/", privacy_views.account_closed, name="closed"),
]
