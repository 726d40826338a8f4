from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "credshare.webhooks"
    verbose_name = "Webhooks"
