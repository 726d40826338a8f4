from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "credshare.core"
    label = "core"

    def ready(self) -> None:
        # Registers the integer `__in` lookup that drops numbers no column can hold.
        from credshare.core import lookups  # noqa: F401
