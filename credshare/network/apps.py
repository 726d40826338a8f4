from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "credshare.network"
    label = "network"
