from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "credshare.credentials"
    verbose_name = "Verifiable credentials"
