"""One error shape for every failure, and the limits: requests a minute per key (429 with
Retry-After) and body sizes (413)."""

import base64
import datetime

import pytest
import time_machine

from credshare.api import receiving
from credshare.api.tests.conftest import ApiClient, error_of
from credshare.core import testing
from credshare.documents.models import Document

# One error shape


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/", 404, "not_found"),
        ("GET", "/no/such/address", 404, "not_found"),
        ("POST", "/no/such/address", 404, "not_found"),
        ("GET", "/shares/", 404, "not_found"),
        ("PUT", "/shares", 405, "method_not_allowed"),
        ("PATCH", "/documents", 405, "method_not_allowed"),
        ("GET", "/shares/not-a-uuid", 422, "invalid_request"),
        ("GET", "/shares?limit=0", 422, "invalid_request"),
        ("GET", "/shares?since=soon", 422, "invalid_request"),
        ("GET", "/shares/3f2c1e8a-1111-4222-8333-944445555666", 404, "not_found"),
    ],
)
def test_every_failure_has_the_one_error_shape(ecole_api, method, path, status, code):
    response = ecole_api.request(method, path)

    assert response.status_code == status
    assert error_of(response)["code"] == code


def test_a_405_says_which_methods_the_address_takes(ecole_api):
    response = ecole_api.request("PUT", "/shares")

    assert response["Allow"] == "GET"


def test_a_404_without_a_key_has_the_shape_too():
    response = ApiClient().get("/nothing-here")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_an_unexpected_error_is_a_500_that_says_nothing_more(ecole_api, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(receiving, "shares_page", broken)

    response = ecole_api.get("/shares")

    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "server_error"
    assert "details" not in error
    assert "secret internals" not in response.content.decode()


def test_errors_are_in_the_language_of_accept_language():
    english = ApiClient(language="en").get("/shares")
    french = ApiClient(language="fr").get("/shares")

    assert english["Content-Language"] == "en"
    assert french["Content-Language"] == "fr"
    assert error_of(english)["code"] == error_of(french)["code"] == "invalid_key"


def test_answers_are_kept_out_of_caches(ecole_api, share_to_ecole):
    assert ecole_api.get("/shares")["Cache-Control"] == "no-store"
    assert ecole_api.get("/nowhere")["Cache-Control"] == "no-store"


# Rate limits


@pytest.fixture
def three_a_minute(settings):
    settings.CREDSHARE_API_RATE_LIMIT = 3


def test_a_key_over_its_rate_gets_a_429_until_the_next_minute(three_a_minute, ecole_api, acme_api):
    minute = datetime.datetime(2026, 4, 1, 10, 0, 15, tzinfo=datetime.UTC)
    with time_machine.travel(minute, tick=False):
        allowed = [ecole_api.get("/shares").status_code for _ in range(3)]
        refused = ecole_api.get("/shares")
        other_key = acme_api.get("/shares")

    assert allowed == [200, 200, 200]
    assert refused.status_code == 429
    assert error_of(refused)["code"] == "rate_limited"
    assert refused["Retry-After"] == "45"
    assert other_key.status_code == 200
    with time_machine.travel(minute + datetime.timedelta(seconds=45), tick=False):
        assert ecole_api.get("/shares").status_code == 200


def test_every_request_of_a_key_counts_toward_its_rate(three_a_minute, ecole_api):
    with time_machine.travel(datetime.datetime(2026, 4, 1, 10, tzinfo=datetime.UTC), tick=False):
        failures = [ecole_api.get("/shares/not-a-uuid").status_code for _ in range(3)]
        refused = ecole_api.get("/shares")

    assert failures == [422, 422, 422]
    assert refused.status_code == 429


def test_requests_without_a_valid_key_are_refused_before_counting(three_a_minute, ecole_api):
    with time_machine.travel(datetime.datetime(2026, 4, 1, 10, tzinfo=datetime.UTC), tick=False):
        for _ in range(5):
            assert ApiClient("csk_nope").get("/shares").status_code == 401
        assert ecole_api.get("/shares").status_code == 200


# Body sizes


def test_a_json_body_over_the_limit_is_a_413(settings, ecole_api, share_to_ecole):
    settings.CREDSHARE_API_MAX_JSON_BYTES = 100

    response = ecole_api.post(f"/shares/{share_to_ecole.public_id}/processed", {"x": "y" * 200})

    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"
    share_to_ecole.refresh_from_db()
    assert share_to_ecole.processed_at is None


def test_a_json_body_may_carry_a_pdf_larger_than_the_json_limit(settings, university_api, zoe):
    pdf = testing.sample_pdf("large")
    settings.CREDSHARE_API_MAX_JSON_BYTES = 1000
    # Django's own limit on bodies read into memory is below this body too.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    body = {
        "learner_email": zoe.email,
        "type": "certificate",
        "title": "Large",
        "issue_date": "2026-01-01",
        "pdf_base64": base64.b64encode(pdf).decode(),
    }

    response = university_api.post("/documents", body)

    assert response.status_code == 201
    assert Document.objects.filter(title="Large").exists()


def test_a_pdf_larger_than_the_upload_limit_is_a_413(settings, university_api, zoe):
    pdf = testing.sample_pdf("x")
    # The limit of a JSON body with a PDF: the base64 of the largest PDF, and 1000 bytes.
    settings.CREDSHARE_MAX_UPLOAD_BYTES = len(pdf) // 2
    settings.CREDSHARE_API_MAX_JSON_BYTES = 1000
    body = {
        "learner_email": zoe.email,
        "type": "certificate",
        "title": "Too large",
        "issue_date": "2026-01-01",
        "pdf_base64": base64.b64encode(pdf).decode(),
    }

    response = university_api.post("/documents", body)

    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"
    assert not Document.objects.exists()


def test_an_upload_over_the_limit_is_a_413(settings, university_api, zoe):
    settings.CREDSHARE_API_MAX_BODY_BYTES = 5000
    rows = [testing.bulk_row(n, zoe.email) for n in range(1, 200)]

    response = university_api.post_files("/jobs", {"rows": testing.bulk_jsonl(rows)})

    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


def test_an_upload_over_djangos_memory_limit_is_taken(settings, university_api, zoe):
    # Files are spooled to disk: only the API's own limit applies to them.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000
    rows = [testing.bulk_row(n, zoe.email) for n in range(1, 50)]

    response = university_api.post_files("/jobs", {"rows": testing.bulk_jsonl(rows)})

    assert response.status_code == 202
    assert response.json()["total"] == 49
