from django.urls import path

from credshare.credentials import views

app_name = "credentials"
urlpatterns = [
    path("issuers/<slug:slug>/did.json", views.issuer_did_document, name="did"),
    path(
        "credentials/status/<slug:slug>/<int:number>",
        views.status_list_credential,
        name="status_list",
    ),
]
