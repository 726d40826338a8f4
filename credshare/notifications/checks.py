from django.conf import settings
from django.core.checks import Error, register

DELIVERY_MODES = ("inline", "worker")


@register()
def check_email_delivery(app_configs, **kwargs) -> list[Error]:
    # A typo would otherwise silently leave every email pending (or never use the worker).
    mode = getattr(settings, "CREDSHARE_EMAIL_DELIVERY", "inline")
    if mode not in DELIVERY_MODES:
        return [
            Error(
                f"CREDSHARE_EMAIL_DELIVERY is {mode!r}; it must be 'inline' or 'worker'.",
                id="notifications.E001",
            )
        ]
    return []
