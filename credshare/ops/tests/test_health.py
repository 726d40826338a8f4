import os

import pytest
from django.core.files.storage import FileSystemStorage

from credshare.core import testing

pytestmark = pytest.mark.django_db

SECRET = "s3cret-password-xyz"


class UnreachableStorage(FileSystemStorage):
    """A storage whose server is gone; its error names the bucket's credentials."""

    def _save(self, name, content):
        raise OSError(f"could not reach https://admin:{SECRET}@storage.internal:9000/bucket")


def test_all_checks_pass(client, settings):
    settings.CREDSHARE_TASKS = "inline"

    response = client.get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    for name in ("database", "cache", "storage"):
        assert body["checks"][name]["ok"] is True
        assert body["checks"][name]["latency_ms"] >= 0
    assert body["checks"]["queue"] == {"ok": True, "status": "not used"}
    assert "no-store" in response["Cache-Control"]
    # The storage probe cleans up after itself.
    assert not any((settings.MEDIA_ROOT / "health").glob("*"))


def test_failing_storage_gives_503_without_the_error_text(client, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.UnreachableStorage"},
    }

    response = client.get("/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["storage"]["ok"] is False
    assert body["checks"]["storage"]["error"] == "storage_unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert SECRET not in response.content.decode()
    assert "storage.internal" not in response.content.decode()


def test_cache_on_a_closed_port_gives_503_without_its_url(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://:{SECRET}@127.0.0.1:1/0",
        }
    }

    response = client.get("/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["cache"] == {
        "ok": False,
        "latency_ms": body["checks"]["cache"]["latency_ms"],
        "error": "cache_unavailable",
    }
    assert SECRET not in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()


def test_queue_is_checked_with_celery_and_a_dead_broker_gives_503(client, settings):
    settings.CREDSHARE_TASKS = "celery"
    settings.CELERY_BROKER_URL = f"redis://:{SECRET}@127.0.0.1:1/0"

    response = client.get("/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["queue"]["ok"] is False
    assert body["checks"]["queue"]["error"] == "queue_unavailable"
    assert SECRET not in response.content.decode()


@pytest.mark.celery
def test_queue_check_passes_against_the_redis_here(client, settings):
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        message = f"needs Redis at {url} ({error}; Debian package redis-server)"
        if os.environ.get(testing.REQUIRE_ALL_ENV):
            pytest.fail(message)
        pytest.skip(message)
    settings.CREDSHARE_TASKS = "celery"
    settings.CELERY_BROKER_URL = url

    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json()["checks"]["queue"]["ok"] is True


def test_liveness_touches_no_dependency(client, settings):
    # Even with every dependency unreachable, the process itself answers.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }

    response = client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]
