from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "credshare.accounts"
    label = "accounts"

    def ready(self):
        from credshare.accounts import receivers  # noqa: F401 -- connects the receivers
