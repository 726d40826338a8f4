from django.urls import path

from credshare.accounts import views

app_name = "accounts"
urlpatterns = [path("invitations/<str:token>/", views.invitation, name="invitation")]
