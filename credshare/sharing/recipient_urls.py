"""The recipient's pages, under /s/: the secret link, then token-free pages for the share."""

from django.urls import path

from credshare.sharing import recipient_views as views

app_name = "recipient"
urlpatterns = [
    path("shares/<int:pk>/", views.share_page, name="share"),
    path("shares/<int:pk>/code/", views.access_code_enter, name="code"),
    path("shares/<int:pk>/code/new/", views.access_code_new, name="code_new"),
    path(
        "shares/<int:pk>/documents/<int:document_pk>/pdf/",
        views.document_file,
        {"as_attachment": False},
        name="view",
    ),
    path(
        "shares/<int:pk>/documents/<int:document_pk>/download/",
        views.document_file,
        {"as_attachment": True},
        name="download",
    ),
    # Last: a token is never "shares".
    path("<str:token>/", views.share_open, name="open"),
]
