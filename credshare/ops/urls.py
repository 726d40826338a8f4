from django.urls import path

from credshare.ops import views

app_name = "ops"
urlpatterns = [
    path("health/", views.health, name="health"),
    path("health/live", views.live, name="health_live"),
    path("metrics", views.metrics, name="metrics"),
]
