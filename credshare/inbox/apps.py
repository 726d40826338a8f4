from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "credshare.inbox"
    label = "inbox"
