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
    path("<slug:slug>/documents/bulk/", views.bulk_list, name="bulk_list"),
    path("<slug:slug>/documents/bulk/new/", views.bulk_new, name="bulk_new"),
    path("<slug:slug>/documents/bulk/<uuid:public_id>/", views.bulk_detail, name="bulk_detail"),
    path(
        "<slug:slug>/documents/bulk/<uuid:public_id>/progress/",
        views.bulk_progress,
        name="bulk_progress",
    ),
    path(
        "<slug:slug>/documents/bulk/<uuid:public_id>/rejected.csv",
        views.bulk_report,
        name="bulk_report",
    ),
]
