import os
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from credshare.notifications.models import OutgoingEmail

pytestmark = pytest.mark.django_db

TOKEN = "Zq8secretShareToken456"


def scrape(client, **kwargs) -> tuple[dict, str]:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }, response.content.decode()


def request_count(samples: dict, route: str, status: str) -> float:
    labels = tuple(sorted({"method": "GET", "route": route, "status": status}.items()))
    return samples.get(("credshare_http_requests_total", labels), 0.0)


def test_a_request_is_counted_under_its_route_name_not_its_path(client):
    before, _ = scrape(client)

    response = client.get(f"/s/{TOKEN}/")

    after, text = scrape(client)
    status = f"{response.status_code // 100}xx"
    assert request_count(after, "recipient:open", status) == (
        request_count(before, "recipient:open", status) + 1
    )
    assert TOKEN not in text
    assert "/s/" not in text
    assert "credshare_http_request_duration_seconds_bucket" in text


def test_pending_emails_are_a_gauge(client):
    OutgoingEmail.objects.create(to="zoe@example.org", subject="s", text_body="t", language="en")

    samples, _ = scrape(client)

    assert samples[("credshare_outgoing_emails_pending", ())] == 1
    assert samples[("credshare_webhook_deliveries_pending", ())] == 0


def test_without_a_token_only_loopback_may_read(client, settings):
    settings.CREDSHARE_METRICS_TOKEN = ""

    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


def test_with_a_token_only_its_bearer_may_read(client, settings):
    settings.CREDSHARE_METRICS_TOKEN = "metrics-token-1"

    assert client.get("/metrics").status_code == 404
    wrong = {"Authorization": "Bearer metrics-token-2"}
    assert client.get("/metrics", headers=wrong).status_code == 404
    right = {"Authorization": "Bearer metrics-token-1"}
    response = client.get("/metrics", headers=right, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200
    assert "credshare_http_requests_total" in response.content.decode()


def test_with_a_multiprocess_directory_a_scrape_adds_up_every_process(tmp_path):
    # Gunicorn's workers are processes: each writes its counts to PROMETHEUS_MULTIPROC_DIR,
    # and the scrape, served by any one of them, reports the sum.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "credshare.settings",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    observe = (
        "import django; django.setup(); from credshare.ops import metrics; "
        "metrics.observe_request('GET', 'home', 200, 0.01)"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", observe], env=env, check=True, timeout=60)  # noqa: S603
    render = (
        "import django; django.setup(); from credshare.ops import metrics; "
        "import sys; sys.stdout.write(metrics.request_metrics().decode())"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", render],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(result.stdout)
        for sample in family.samples
    }
    labels = tuple(sorted({"method": "GET", "route": "home", "status": "2xx"}.items()))
    assert samples[("credshare_http_requests_total", labels)] == 2
