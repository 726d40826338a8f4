import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from credshare.ops.logging import JsonFormatter

TOKEN = "Tk9secretShareToken123"
BASE_DIR = Path(__file__).resolve().parents[3]


@pytest.fixture
def json_lines():
    """What django.request writes through a JsonFormatter handler, line by line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


@pytest.mark.django_db
def test_a_failed_request_logs_one_json_line_with_its_id_and_no_share_token(client, json_lines):
    response = client.get(f"/s/{TOKEN}/", headers={"X-Request-ID": "req-42"})

    assert response.status_code >= 400
    [entry] = json_lines()
    assert entry["request_id"] == "req-42"
    assert entry["logger"] == "django.request"
    assert entry["level"] == "WARNING"
    assert entry["status_code"] == response.status_code
    assert "/s/<redacted>/" in entry["message"]
    assert TOKEN not in json.dumps(entry)
    assert entry["time"].endswith("+00:00")


def test_exception_text_and_extra_fields_are_in_the_line_with_tokens_redacted():
    logger = logging.getLogger("credshare.ops.tests")
    try:
        raise ValueError(f"bad link /s/{TOKEN}/")
    except ValueError:
        record = logger.makeRecord(
            logger.name,
            logging.ERROR,
            __file__,
            1,
            "opening %s failed",
            (f"/s/{TOKEN}/",),
            sys.exc_info(),
            extra={"path": f"/s/{TOKEN}/", "attempts": 3},
        )

    entry = json.loads(JsonFormatter().format(record))

    assert entry["message"] == "opening /s/<redacted>/ failed"
    assert "ValueError: bad link /s/<redacted>/" in entry["exception"]
    assert entry["path"] == "/s/<redacted>/"
    assert entry["attempts"] == 3
    assert "request_id" not in entry
    assert TOKEN not in json.dumps(entry)


def test_the_json_setting_makes_the_configured_handlers_write_json():
    # A fresh process, configured from settings.LOGGING exactly as in production.
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('credshare.somewhere').warning("
        f"'opened %s', '/s/{TOKEN}/', extra={{'path': '/s/{TOKEN}/'}})"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "credshare.settings",
        "CREDSHARE_LOG_FORMAT": "json",
    }

    result = subprocess.run(  # noqa: S603 -- our own interpreter and a fixed script
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    [line] = result.stderr.splitlines()
    entry = json.loads(line)
    assert entry["logger"] == "credshare.somewhere"
    assert entry["message"] == "opened /s/<redacted>/"
    assert entry["path"] == "/s/<redacted>/"
    assert TOKEN not in line
