import re
import time
import uuid

from django.conf import settings

from credshare.ops import metrics
from credshare.ops.logging import request_id_var

# An id a load balancer or client may pass on: short, and safe to write into logs and headers.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestIdMiddleware:
    """Gives each request an id, for its log lines and its response's `X-Request-ID` header.

    A sane `X-Request-ID` from the request (set by the proxy in front) is kept, so one id
    follows the request through every hop; anything else is replaced by a new one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Cleared on request_finished (credshare.ops.apps), after Django logs a failure.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def route_name(request) -> str:
    """The name of the URL pattern that served the request, never its path: paths hold share
    tokens and ids, and every distinct path would be a new time series."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name
    if request.path.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"


class MetricsMiddleware:
    """Counts requests and their latency by method, route name and status class."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        metrics.observe_request(
            request.method, route_name(request), response.status_code, time.perf_counter() - started
        )
        return response
