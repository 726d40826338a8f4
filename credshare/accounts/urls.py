from django.urls import path

from credshare.accounts import views

app_name = "accounts"
urlpatterns = [
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("invitations/<str:token>/signup/", views.invitation_signup, name="invitation_signup"),
]
