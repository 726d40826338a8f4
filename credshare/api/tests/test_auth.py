"""API keys at the door: a missing, wrong or revoked key is a 401; a key without the scope an
operation needs is a 403; a key's use is recorded."""

import datetime

import pytest
import time_machine

from credshare.api.models import ApiKey
from credshare.api.services import api_key_revoke
from credshare.api.tests.conftest import ApiClient, error_of, make_key
from credshare.documents.models import Document

Scope = ApiKey.Scope


def test_a_request_without_a_key_is_a_401_invalid_key(share_to_ecole):
    response = ApiClient().get("/shares")

    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_key"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert share_to_ecole.reference not in response.content.decode()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer csk_0123456789ab_not-the-secret",
        "Bearer not-a-key-at-all",
        "Bearer ",
        "Basic Y2FtaWxsZTpwYXNzd29yZA==",
        "csk_only_the_key",
    ],
)
def test_a_wrong_key_is_a_401_invalid_key(share_to_ecole, header):
    client = ApiClient()

    response = client.get("/shares", headers={"Authorization": header})

    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_key"


def test_a_real_prefix_with_a_wrong_secret_is_a_401(ecole_key, share_to_ecole):
    csk, prefix, _secret = ecole_key.text.split("_", 2)

    response = ApiClient(f"{csk}_{prefix}_{'x' * 43}").get("/shares")

    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_key"


def test_a_revoked_key_fails_from_its_next_request_on(ecole_key, ecole_api, share_to_ecole):
    assert ecole_api.get("/shares").status_code == 200

    api_key_revoke(key=ecole_key.model, by=None)
    response = ecole_api.get("/shares")

    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_key"
    assert share_to_ecole.reference not in response.content.decode()


def test_a_keys_last_use_is_recorded(ecole_key, ecole_api):
    assert ecole_key.model.last_used_at is None
    first = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(first, tick=False):
        assert ecole_api.get("/shares").status_code == 200
    ecole_key.model.refresh_from_db()
    assert ecole_key.model.last_used_at == first

    # Written at most once a minute, then again.
    with time_machine.travel(first + datetime.timedelta(seconds=20), tick=False):
        ecole_api.get("/shares")
    ecole_key.model.refresh_from_db()
    assert ecole_key.model.last_used_at == first
    later = first + datetime.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        ecole_api.get("/shares")
    ecole_key.model.refresh_from_db()
    assert ecole_key.model.last_used_at == later


def test_a_failed_key_records_no_use(ecole_key):
    ApiClient(ecole_key.text + "x").get("/shares")

    ecole_key.model.refresh_from_db()
    assert ecole_key.model.last_used_at is None


# Scopes


def test_a_key_that_may_only_read_cannot_download_or_mark_processed(ecole, share_to_ecole):
    reader = ApiClient(make_key(ecole, [Scope.SHARES_READ]).text)
    share_id = share_to_ecole.public_id
    document = share_to_ecole.documents.first()

    assert reader.get(f"/shares/{share_id}").status_code == 200
    download = reader.get(f"/shares/{share_id}/documents/{document.public_id}/pdf")
    processed = reader.post(f"/shares/{share_id}/processed")

    assert download.status_code == 403
    assert error_of(download)["code"] == "missing_scope"
    assert processed.status_code == 403
    assert error_of(processed)["code"] == "missing_scope"
    share_to_ecole.refresh_from_db()
    assert share_to_ecole.processed_at is None


def test_a_key_that_may_only_download_cannot_list(ecole, share_to_ecole):
    downloader = ApiClient(make_key(ecole, [Scope.DOCUMENTS_DOWNLOAD]).text)

    response = downloader.get("/shares")

    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "missing_scope"
    assert error["details"] == [{"scope": "shares:read"}]


def test_a_receiving_key_cannot_issue_even_with_a_well_formed_body(ecole_api, zoe):
    response = ecole_api.post(
        "/documents",
        {
            "learner_email": zoe.email,
            "type": "transcript",
            "title": "Forged",
            "issue_date": "2026-01-01",
            "record": {"program": "P", "courses": [["A", "B", "3", "A"]]},
        },
    )

    assert response.status_code == 403
    assert error_of(response)["code"] == "missing_scope"
    assert not Document.objects.filter(title="Forged").exists()


def test_the_scope_is_checked_before_the_body(ecole_api):
    # A key without the scope learns nothing of what the body should be.
    response = ecole_api.post("/documents", {"nonsense": True})

    assert response.status_code == 403
    assert error_of(response)["code"] == "missing_scope"


def test_an_issuing_key_cannot_read_shares(university_api, share_to_ecole):
    response = university_api.get("/shares")

    assert response.status_code == 403
    assert error_of(response)["code"] == "missing_scope"


def test_a_withdraw_only_key_reads_its_documents_but_cannot_issue(university, zoe_transcript):
    withdrawer = ApiClient(make_key(university, [Scope.DOCUMENTS_WITHDRAW]).text)

    read = withdrawer.get(f"/documents/{zoe_transcript.public_id}")
    version = withdrawer.post(
        f"/documents/{zoe_transcript.public_id}/versions",
        {"record": {"program": "P", "courses": [["A", "B", "3", "A"]]}},
    )

    assert read.status_code == 200
    assert read.json()["id"] == str(zoe_transcript.public_id)
    assert version.status_code == 403
    assert error_of(version)["code"] == "missing_scope"
    assert zoe_transcript.versions.count() == 1
