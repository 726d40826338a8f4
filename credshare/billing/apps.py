from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "credshare.billing"
    label = "billing"
