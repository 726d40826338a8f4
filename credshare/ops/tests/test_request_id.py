import re

import pytest

pytestmark = pytest.mark.django_db


def test_a_sane_request_id_is_echoed(client):
    response = client.get("/health/live", headers={"X-Request-ID": "lb-4f2a.9_Z-1"})

    assert response["X-Request-ID"] == "lb-4f2a.9_Z-1"


def test_a_request_without_an_id_gets_a_new_one(client):
    first = client.get("/health/live")["X-Request-ID"]
    second = client.get("/health/live")["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second


@pytest.mark.parametrize(
    "offered",
    ["a" * 65, "has space", "semi;colon", "new\\nline", "<script>", "ünïcode"],
)
def test_a_malformed_request_id_is_replaced(client, offered):
    response = client.get("/health/live", headers={"X-Request-ID": offered})

    assert response["X-Request-ID"] != offered
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
