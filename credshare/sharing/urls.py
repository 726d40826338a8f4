from django.urls import path

from credshare.sharing import views
from credshare.sharing.models import Share

app_name = "sharing"
urlpatterns = [
    path("", views.share_list, name="list"),
    path("new/", views.share_start, name="start"),
    path(
        "new/organization/",
        views.share_window,
        {"channel_value": Share.Channel.ORGANIZATION},
        name="with_organization",
    ),
    path("new/organization/fields/", views.share_fields, name="fields"),
    path("new/email/", views.share_window, {"channel_value": Share.Channel.EMAIL}, name="by_email"),
    path("new/link/", views.share_window, {"channel_value": Share.Channel.LINK}, name="by_link"),
    path("new/finish/", views.share_finish, name="finish"),
    path("<int:pk>/", views.share_detail, name="detail"),
    path("<int:pk>/done/", views.share_done, name="done"),
    path("<int:pk>/qr.<str:kind>", views.share_qr, name="qr"),
    path("<int:pk>/expiry/", views.share_expiry, name="expiry"),
    path("<int:pk>/revoke/", views.share_revoke, name="revoke"),
    path("<int:pk>/code-unlock/", views.share_code_unlock, name="code_unlock"),
]
