"""Prometheus metrics (prometheus_client): request counts and latency, and a few cheap gauges
read from the database when Prometheus scrapes.

Under gunicorn each worker is a process of its own: set PROMETHEUS_MULTIPROC_DIR to an empty
directory (emptied at every start) before the workers start, and each worker writes its counts
there; a scrape, served by any worker, adds them up.
"""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "credshare_http_requests",
    "HTTP requests served, by method, URL pattern name and status class.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "credshare_http_request_duration_seconds",
    "Time to build the response (streamed bodies excluded), by method, URL pattern name and "
    "status class.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def observe_request(method: str, route: str, status_code: int, seconds: float) -> None:
    # Unknown methods are anyone's choice of string: one label for them all.
    method = method if method in KNOWN_METHODS else "other"
    status = f"{status_code // 100}xx"
    REQUESTS.labels(method, route, status).inc()
    LATENCY.labels(method, route, status).observe(seconds)


class BacklogCollector:
    """Work waiting for the background workers, counted at scrape time: one COUNT each, on
    an index that starts with the status column. (Running issuance jobs are left out: their
    status has no index.)"""

    def collect(self):
        from credshare.notifications.models import OutgoingEmail
        from credshare.webhooks.models import WebhookDelivery

        emails = GaugeMetricFamily(
            "credshare_outgoing_emails_pending", "Emails in the outbox not sent yet."
        )
        emails.add_metric(
            [], OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING).count()
        )
        yield emails
        webhooks = GaugeMetricFamily(
            "credshare_webhook_deliveries_pending", "Webhook deliveries not delivered yet."
        )
        webhooks.add_metric(
            [], WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count()
        )
        yield webhooks


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def request_metrics() -> bytes:
    """This process's counts, or with PROMETHEUS_MULTIPROC_DIR the sum over every process."""
    if multiprocess_mode():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry)


def backlog_metrics() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BacklogCollector())
    return generate_latest(registry)


def render() -> tuple[bytes, str]:
    """The exposition text of every metric, and its content type."""
    return request_metrics() + backlog_metrics(), CONTENT_TYPE_LATEST
