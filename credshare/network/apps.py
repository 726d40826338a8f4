from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "credshare.network"
    label = "network"

    def ready(self):
        from credshare.network import receivers  # noqa: F401 -- connects the receivers
