from django.urls import path

from credshare.sharing import views

app_name = "sharing"
urlpatterns = [
    path("", views.share_list, name="list"),
    path("new/", views.share_start, name="start"),
    path("new/organization/", views.share_with_organization, name="with_organization"),
    path("new/organization/fields/", views.share_fields, name="fields"),
    path("<int:pk>/", views.share_detail, name="detail"),
    path("<int:pk>/done/", views.share_done, name="done"),
    path("<int:pk>/revoke/", views.share_revoke, name="revoke"),
]
