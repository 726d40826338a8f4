"""The health checks behind /health/: each one touches a dependency the way requests do, and
answers ok or a generic error code. Exception texts stay in the server's log: they may name
hosts, ports and users."""

import logging
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection

logger = logging.getLogger(__name__)

# Seconds a broker connection may take before the queue counts as down.
QUEUE_TIMEOUT = 2.0


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    latency_ms: float
    # A fixed code when the check failed ("database_unavailable"), never the exception.
    error: str = ""
    used: bool = True

    def as_dict(self) -> dict:
        if not self.used:
            return {"ok": True, "status": "not used"}
        result = {"ok": self.ok, "latency_ms": self.latency_ms}
        if self.error:
            result["error"] = self.error
        return result


def _timed(name: str, probe) -> CheckResult:
    started = time.perf_counter()
    try:
        probe()
    except Exception:
        logger.warning("Health check %s failed", name, exc_info=True)
        ok = False
    else:
        ok = True
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    return CheckResult(ok=ok, latency_ms=latency_ms, error="" if ok else f"{name}_unavailable")


def _probe_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("unexpected answer to SELECT 1")


def _probe_cache() -> None:
    cache = caches["default"]
    key = f"credshare:health:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    try:
        if cache.get(key) != "ok":
            raise RuntimeError("the cache did not return the value just set")
    finally:
        cache.delete(key)


def _probe_queue() -> None:
    from kombu import Connection

    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=QUEUE_TIMEOUT,
        transport_options={
            **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            "socket_timeout": QUEUE_TIMEOUT,
        },
    ) as broker:
        broker.ensure_connection(max_retries=0, timeout=QUEUE_TIMEOUT)


def _probe_storage() -> None:
    storage = storages["default"]
    body = uuid.uuid4().hex.encode()
    name = storage.save(f"health/probe-{uuid.uuid4().hex}.txt", ContentFile(body))
    try:
        with storage.open(name, "rb") as probe:
            if probe.read() != body:
                raise RuntimeError("the storage did not return the file just written")
    finally:
        storage.delete(name)


def run_checks() -> dict[str, CheckResult]:
    queue = (
        _timed("queue", _probe_queue)
        if settings.CREDSHARE_TASKS == "celery"
        else CheckResult(ok=True, latency_ms=0.0, used=False)
    )
    return {
        "database": _timed("database", _probe_database),
        "cache": _timed("cache", _probe_cache),
        "queue": queue,
        "storage": _timed("storage", _probe_storage),
    }


def overall_status(checks: dict[str, CheckResult]) -> str:
    """ "down" without the database (no page can work), "degraded" when another check fails."""
    if not checks["database"].ok:
        return "down"
    if all(check.ok for check in checks.values()):
        return "ok"
    return "degraded"
