from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "credshare.notifications"
    label = "notifications"

    def ready(self) -> None:
        from credshare.notifications import checks  # noqa: F401 -- registers the checks
