from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "credshare.api"
    verbose_name = "API"
