from django.urls import path

from credshare.documents import issuer_views as views

app_name = "issuer_documents"
urlpatterns = [
    path("<slug:slug>/documents/", views.document_list, name="list"),
    path("<slug:slug>/documents/new/", views.document_new, name="new"),
    path("<slug:slug>/documents/<int:pk>/", views.document_detail, name="detail"),
    path("<slug:slug>/documents/<int:pk>/versions/", views.version_add, name="version_add"),
    path(
        "<slug:slug>/documents/<int:pk>/versions/<int:number>/download/",
        views.version_download,
        name="version_download",
    ),
    path("<slug:slug>/documents/<int:pk>/withdraw/", views.document_withdraw, name="withdraw"),
]
