from django.urls import path

from credshare.credentials import views as credential_views
from credshare.documents import views

app_name = "documents"
urlpatterns = [
    path("", views.document_list, name="list"),
    path("<int:pk>/", views.document_detail, name="detail"),
    path("<int:pk>/pdf/", views.document_file, {"as_attachment": False}, name="view"),
    path("<int:pk>/download/", views.document_file, {"as_attachment": True}, name="download"),
    path("<int:pk>/credential/", credential_views.document_credential, name="credential"),
]
