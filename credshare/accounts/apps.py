from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "credshare.accounts"
    label = "accounts"
