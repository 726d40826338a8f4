"""Idempotency-Key on POST: the same key and body give the same response and one effect; the
same key with another request is a 422; a failed request keeps nothing; keys last 24 hours."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command

from credshare.api.models import IdempotencyRecord
from credshare.api.services import idempotency_records_purge
from credshare.api.tests.conftest import ApiClient, error_of, make_key
from credshare.api.tests.test_documents import issue_body
from credshare.core import testing
from credshare.documents.models import Document, IssuanceJob


def test_the_same_post_ten_times_has_one_effect_and_one_response(university_api, zoe):
    key = {"Idempotency-Key": "issue-zoe-first-aid"}
    body = issue_body(external_id="")  # nothing else to deduplicate it

    responses = [university_api.post("/documents", body, headers=key) for _ in range(10)]

    assert Document.objects.count() == 1
    assert {response.status_code for response in responses} == {201}
    assert {response.content for response in responses} == {responses[0].content}
    assert responses[0].json()["id"] == str(Document.objects.get().public_id)
    assert not responses[0].has_header("Idempotent-Replayed")
    assert all(response["Idempotent-Replayed"] == "true" for response in responses[1:])


def test_without_a_key_each_post_has_its_effect(university_api, zoe):
    body = issue_body(external_id="")

    university_api.post("/documents", body)
    university_api.post("/documents", body)

    assert Document.objects.count() == 2


def test_the_same_key_with_another_body_is_a_422(university_api, zoe):
    key = {"Idempotency-Key": "k-1"}
    first = university_api.post("/documents", issue_body(title="First"), headers=key)

    other = university_api.post("/documents", issue_body(title="Second"), headers=key)

    assert first.status_code == 201
    assert other.status_code == 422
    assert error_of(other)["code"] == "idempotency_key_reused"
    assert list(Document.objects.values_list("title", flat=True)) == ["First"]


def test_the_same_key_on_another_address_is_a_422(ecole_api, share_to_ecole, share_to_acme):
    key = {"Idempotency-Key": "mark-1"}
    first = ecole_api.post(f"/shares/{share_to_ecole.public_id}/processed", headers=key)
    assert first.status_code == 200

    other = ecole_api.post(f"/shares/{share_to_acme.public_id}/processed", headers=key)

    assert other.status_code == 422
    assert error_of(other)["code"] == "idempotency_key_reused"


def test_keys_belong_to_one_api_key(university, university_api, zoe):
    second = ApiClient(make_key(university, ["documents:issue"], name="Second system").text)
    headers = {"Idempotency-Key": "shared-name"}

    university_api.post("/documents", issue_body(external_id=""), headers=headers)
    second.post("/documents", issue_body(external_id=""), headers=headers)

    assert Document.objects.count() == 2


def test_a_failed_request_keeps_nothing_and_its_retry_runs(university_api):
    key = {"Idempotency-Key": "learner-not-there-yet"}
    body = issue_body(learner_email="late@example.org")

    refused = university_api.post("/documents", body, headers=key)
    testing.make_user("late@example.org", "Late Learner")
    retried = university_api.post("/documents", body, headers=key)

    assert refused.status_code == 400
    assert retried.status_code == 201
    assert not retried.has_header("Idempotent-Replayed")
    assert Document.objects.get().learner.email == "late@example.org"


def test_a_multipart_upload_with_the_same_key_makes_one_job(university_api, zoe):
    key = {"Idempotency-Key": "bulk-2026-06"}
    rows = [testing.bulk_row(1, zoe.email)]

    first = university_api.post_files("/jobs", {"rows": testing.bulk_jsonl(rows)}, headers=key)
    again = university_api.post_files("/jobs", {"rows": testing.bulk_jsonl(rows)}, headers=key)
    other = university_api.post_files(
        "/jobs", {"rows": testing.bulk_jsonl(rows + [testing.bulk_row(2, zoe.email)])}, headers=key
    )

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.content == first.content
    assert other.status_code == 422
    assert IssuanceJob.objects.count() == 1


@pytest.mark.parametrize("value", ["", "x" * 256, "héllo"])
def test_a_malformed_key_is_a_400(university_api, zoe, value):
    response = university_api.post("/documents", issue_body(), headers={"Idempotency-Key": value})

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_idempotency_key"
    assert not Document.objects.exists()


def test_a_key_is_new_again_after_24_hours(university_api, zoe):
    key = {"Idempotency-Key": "daily-run"}
    body = issue_body(external_id="")
    start = datetime.datetime(2026, 5, 5, 8, tzinfo=datetime.UTC)  # after the issue date

    with time_machine.travel(start, tick=False):
        university_api.post("/documents", body, headers=key)
    with time_machine.travel(start + datetime.timedelta(hours=23), tick=False):
        replayed = university_api.post("/documents", body, headers=key)
    with time_machine.travel(start + datetime.timedelta(hours=25), tick=False):
        fresh = university_api.post("/documents", body, headers=key)

    assert replayed["Idempotent-Replayed"] == "true"
    assert fresh.status_code == 201
    assert not fresh.has_header("Idempotent-Replayed")
    assert Document.objects.count() == 2


def test_records_older_than_24_hours_are_purged(university_api, zoe):
    start = datetime.datetime(2026, 5, 5, 8, tzinfo=datetime.UTC)  # after the issue date
    with time_machine.travel(start, tick=False):
        university_api.post(
            "/documents", issue_body(external_id="A"), headers={"Idempotency-Key": "old"}
        )
    with time_machine.travel(start + datetime.timedelta(hours=20), tick=False):
        university_api.post(
            "/documents", issue_body(external_id="B"), headers={"Idempotency-Key": "recent"}
        )

    with time_machine.travel(start + datetime.timedelta(hours=30), tick=False):
        assert idempotency_records_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]

    with time_machine.travel(start + datetime.timedelta(hours=50), tick=False):
        out = io.StringIO()
        call_command("purge_idempotency_keys", stdout=out)
    assert not IdempotencyRecord.objects.exists()
    assert "1" in out.getvalue()
