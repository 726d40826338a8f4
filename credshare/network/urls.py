from django.urls import path

from credshare.network import views

app_name = "network"
urlpatterns = [
    path("<slug:slug>/", views.profile, name="profile"),
    path("<slug:slug>/branding/", views.branding, name="branding"),
    path("<slug:slug>/logo/", views.logo, name="logo"),
    path("<slug:slug>/fields/", views.field_list, name="fields"),
    path("<slug:slug>/fields/new/", views.field_new, name="field_new"),
    path("<slug:slug>/fields/<int:pk>/", views.field_edit, name="field_edit"),
    path("<slug:slug>/fields/<int:pk>/move/", views.field_move, name="field_move"),
    path("<slug:slug>/fields/<int:pk>/required/", views.field_required, name="field_required"),
    path("<slug:slug>/fields/<int:pk>/active/", views.field_active, name="field_active"),
    path("<slug:slug>/staff/", views.staff, name="staff"),
    path("<slug:slug>/staff/invite/", views.member_invite, name="member_invite"),
    path(
        "<slug:slug>/staff/invitations/<int:pk>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("<slug:slug>/staff/<int:pk>/role/", views.member_role, name="member_role"),
    path("<slug:slug>/staff/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("<slug:slug>/keys/", views.key_list, name="keys"),
    path("<slug:slug>/keys/new/", views.key_new, name="key_new"),
    path("<slug:slug>/keys/<uuid:public_id>/revoke/", views.key_revoke, name="key_revoke"),
    path("<slug:slug>/webhooks/", views.webhook_list, name="webhooks"),
    path("<slug:slug>/webhooks/new/", views.webhook_new, name="webhook_new"),
    path("<slug:slug>/webhooks/<uuid:public_id>/", views.webhook_detail, name="webhook"),
    path("<slug:slug>/webhooks/<uuid:public_id>/edit/", views.webhook_edit, name="webhook_edit"),
    path(
        "<slug:slug>/webhooks/<uuid:public_id>/rotate/",
        views.webhook_rotate,
        name="webhook_rotate",
    ),
    path(
        "<slug:slug>/webhooks/<uuid:public_id>/delete/",
        views.webhook_delete,
        name="webhook_delete",
    ),
    path(
        "<slug:slug>/deliveries/<uuid:public_id>/redeliver/",
        views.delivery_redeliver,
        name="delivery_redeliver",
    ),
]
