from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "credshare.verification"
    label = "verification"
