from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "credshare.sharing"
    label = "sharing"
