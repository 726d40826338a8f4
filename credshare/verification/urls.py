from django.urls import path

from credshare.verification import api, views

# Mounted at the site's root: the pages under /verify/, the API at the paths the VC-API
# gives a verifier (/credentials/verify) and its PDF counterpart.
app_name = "verification"
urlpatterns = [
    path("verify/", views.verify_start, name="start"),
    path("verify/<uuid:public_id>/", views.document_verify, name="document"),
    path("credentials/verify", api.credential_verify, name="api_credential"),
    path("pdfs/verify", api.pdf_verify, name="api_pdf"),
]
