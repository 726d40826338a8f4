from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "credshare.core"
    label = "core"
