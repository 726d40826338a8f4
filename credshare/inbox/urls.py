from django.urls import path

from credshare.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.inbox_list, name="list"),
    path("shares/<int:pk>/", views.inbox_share, name="share"),
    path(
        "shares/<int:pk>/documents/<int:document_pk>/pdf/",
        views.inbox_document_file,
        {"as_attachment": False},
        name="view",
    ),
    path(
        "shares/<int:pk>/documents/<int:document_pk>/download/",
        views.inbox_document_file,
        {"as_attachment": True},
        name="download",
    ),
]
