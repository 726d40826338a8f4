from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: the health checks, request ids, JSON logs and Prometheus metrics."""

    name = "credshare.ops"
    label = "ops"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from credshare.ops.logging import clear_request_id

        # After the response is closed: Django logs a failed request's path (django.request)
        # once the middleware has returned, and that line should still carry the id.
        request_finished.connect(clear_request_id, dispatch_uid="credshare.ops.clear_request_id")
