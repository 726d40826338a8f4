"""Receiving organizations' shares through the API: each key sees its organization's shares
only, lists them filtered and a page at a time, reads one, downloads its documents under the
inbox's rules (each download logged; 410 once it expired, was revoked or withdrawn), and marks
it processed."""

import datetime
import hashlib

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from credshare.api.tests.conftest import ApiClient, error_of
from credshare.core import testing
from credshare.documents.services import document_version_add
from credshare.sharing.models import Share, ShareAccess
from credshare.sharing.services import share_revoke


def api_path(url: str) -> str:
    """The path, under /api/v1, of an absolute API URL the API gave."""
    prefix = settings.CREDSHARE_BASE_URL.rstrip("/") + "/api/v1"
    assert url.startswith(prefix), url
    return url.removeprefix(prefix)


def served_bytes(response) -> bytes:
    return b"".join(response.streaming_content)


def listed_ids(api: ApiClient, **params) -> list[str]:
    response = api.get("/shares", params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def free_documents(free_college):
    """A learner with a document from an issuer whose documents are shared for free."""
    learner = testing.make_user("many@example.org", "Many Shares")
    return learner, testing.make_document(learner, free_college, "Free certificate")


def share_free(free_documents, organization, **values) -> Share:
    learner, document = free_documents
    return testing.share_with(learner, [document], organization, **values)


# Who sees what


def test_each_key_lists_only_its_organizations_shares(
    ecole_api, acme_api, share_to_ecole, share_to_acme, zoe, zoe_transcript
):
    testing.give_credits(zoe, zoe_transcript.issuer, 2)
    testing.share_by_link(zoe, [zoe_transcript])
    testing.share_by_email(zoe, [zoe_transcript], "someone@acme.example")

    assert listed_ids(ecole_api) == [str(share_to_ecole.public_id)]
    assert listed_ids(acme_api) == [str(share_to_acme.public_id)]


def test_another_organizations_share_is_a_404_everywhere(ecole_api, share_to_acme):
    share_id = share_to_acme.public_id
    document = share_to_acme.documents.get()

    responses = [
        ecole_api.get(f"/shares/{share_id}"),
        ecole_api.get(f"/shares/{share_id}/documents/{document.public_id}/pdf"),
        ecole_api.post(f"/shares/{share_id}/processed"),
        ecole_api.delete(f"/shares/{share_id}/processed"),
    ]

    for response in responses:
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
        assert "ACME-REF-9" not in response.content.decode()
    share_to_acme.refresh_from_db()
    assert share_to_acme.processed_at is None
    assert not ShareAccess.objects.filter(share=share_to_acme).exists()


def test_a_document_of_another_share_cannot_be_fetched_through_ones_own(
    ecole_api, share_to_ecole, share_to_acme
):
    acme_document = share_to_acme.documents.get()

    response = ecole_api.get(
        f"/shares/{share_to_ecole.public_id}/documents/{acme_document.public_id}/pdf"
    )

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# One share


def test_a_share_shows_its_reference_fields_learner_and_documents(
    ecole_api, share_to_ecole, zoe_transcript, zoe_diploma
):
    response = ecole_api.get(f"/shares/{share_to_ecole.public_id}")

    assert response.status_code == 200
    share = response.json()
    assert share["id"] == str(share_to_ecole.public_id)
    assert share["state"] == "active"
    assert share["reference"] == "Réf1234"
    assert share["learner"] == {"name": "Zoé Citoyenne", "email": "zoe@example.org"}
    assert share["fields"] == [
        {
            "key": "application_number",
            "label": "Application number",
            "value": "A-77",
            "display_value": "A-77",
        },
        {
            "key": "intended_program",
            "label": "Intended program",
            "value": "science",
            "display_value": "Sciences",
        },
    ]
    assert share["expires_on"] == testing.days_from_today(365).isoformat()
    assert share["processed_at"] is None
    # What only the learner sees is not there.
    assert "Private name" not in response.content.decode()
    assert "Private purpose" not in response.content.decode()
    documents = {document["id"]: document for document in share["documents"]}
    transcript = documents[str(zoe_transcript.public_id)]
    version = zoe_transcript.versions.get()
    assert transcript["type"] == "transcript"
    assert transcript["title"] == "Official transcript"
    assert transcript["issuer"]["name"] == "Example University"
    assert transcript["status"] == "active"
    assert transcript["version"] == 1
    assert transcript["sha256"] == version.sha256
    assert documents[str(zoe_diploma.public_id)]["type"] == "diploma"


def test_labels_follow_accept_language(ecole_key, share_to_ecole):
    french = ApiClient(ecole_key.text, language="fr")

    share = french.get(f"/shares/{share_to_ecole.public_id}").json()

    assert share["fields"][0]["label"] == "Application number (fr)"
    assert share["documents"][0]["issuer"]["name"] == "Example University (fr)"


def test_a_value_of_a_removed_field_still_shows_under_its_key(ecole, ecole_api, share_to_ecole):
    ecole.share_fields.filter(key="application_number").delete()

    share = ecole_api.get(f"/shares/{share_to_ecole.public_id}").json()

    assert {"key": "application_number", "value": "A-77"}.items() <= share["fields"][-1].items()


def test_a_corrected_document_shows_its_new_version(ecole_api, share_to_ecole, zoe_transcript):
    version = document_version_add(document=zoe_transcript, pdf=testing.sample_pdf("v2"))

    share = ecole_api.get(f"/shares/{share_to_ecole.public_id}").json()

    transcript = next(d for d in share["documents"] if d["id"] == str(zoe_transcript.public_id))
    assert transcript["version"] == 2
    assert transcript["sha256"] == version.sha256


def test_reading_an_active_share_is_logged_as_opened(ecole, ecole_api, share_to_ecole):
    ecole_api.get(f"/shares/{share_to_ecole.public_id}")

    access = ShareAccess.objects.get(share=share_to_ecole)
    assert access.action == ShareAccess.Action.OPENED
    assert access.organization == ecole


def test_a_revoked_share_shows_its_state_and_is_not_logged(ecole_api, share_to_ecole):
    share_revoke(share=share_to_ecole)

    share = ecole_api.get(f"/shares/{share_to_ecole.public_id}").json()

    assert share["state"] == "revoked"
    assert share["revoked_at"] is not None
    assert not ShareAccess.objects.filter(share=share_to_ecole).exists()


# Downloads


def test_a_download_serves_the_current_version_and_is_logged(
    ecole, ecole_api, share_to_ecole, zoe_transcript
):
    share = ecole_api.get(f"/shares/{share_to_ecole.public_id}").json()
    listed = next(d for d in share["documents"] if d["id"] == str(zoe_transcript.public_id))

    response = ecole_api.get(api_path(listed["download_url"]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    body = served_bytes(response)
    assert hashlib.sha256(body).hexdigest() == listed["sha256"]
    version = zoe_transcript.versions.get()
    access = ShareAccess.objects.get(share=share_to_ecole, action=ShareAccess.Action.DOWNLOADED)
    assert access.organization == ecole
    assert (access.document, access.version) == (zoe_transcript, version)


def download(api, share, document):
    return api.get(f"/shares/{share.public_id}/documents/{document.public_id}/pdf")


def test_a_revoked_share_serves_nothing(ecole_api, share_to_ecole, zoe_transcript):
    share_revoke(share=share_to_ecole)

    response = download(ecole_api, share_to_ecole, zoe_transcript)

    assert response.status_code == 410
    assert error_of(response)["code"] == "share_revoked"
    assert not ShareAccess.objects.filter(share=share_to_ecole).exists()


def test_an_expired_share_serves_nothing(ecole_api, share_to_ecole, zoe_transcript):
    Share.objects.filter(pk=share_to_ecole.pk).update(expires_on=datetime.date(2026, 5, 31))
    after_the_expiry_date = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC)

    with time_machine.travel(after_the_expiry_date, tick=False):
        response = download(ecole_api, share_to_ecole, zoe_transcript)

    assert response.status_code == 410
    assert error_of(response)["code"] == "share_expired"
    assert not ShareAccess.objects.filter(share=share_to_ecole).exists()


def test_a_share_works_until_the_end_of_its_expiry_date(ecole_api, share_to_ecole, zoe_transcript):
    Share.objects.filter(pk=share_to_ecole.pk).update(expires_on=datetime.date(2026, 5, 31))
    late_that_day = timezone.make_aware(datetime.datetime(2026, 5, 31, 23, 30))

    with time_machine.travel(late_that_day, tick=False):
        response = download(ecole_api, share_to_ecole, zoe_transcript)

    assert response.status_code == 200


def test_a_withdrawn_document_is_not_served(ecole_api, share_to_ecole, zoe_transcript):
    testing.withdraw_document(zoe_transcript)

    response = download(ecole_api, share_to_ecole, zoe_transcript)
    share = ecole_api.get(f"/shares/{share_to_ecole.public_id}").json()

    assert response.status_code == 410
    assert error_of(response)["code"] == "document_withdrawn"
    listed = next(d for d in share["documents"] if d["id"] == str(zoe_transcript.public_id))
    assert listed["status"] == "withdrawn"
    assert not ShareAccess.objects.filter(action=ShareAccess.Action.DOWNLOADED).exists()


# Processed


def test_marking_processed_is_kept_and_can_be_undone(ecole_api, share_to_ecole):
    path = f"/shares/{share_to_ecole.public_id}/processed"
    marked_at = datetime.datetime(2026, 7, 1, 10, tzinfo=datetime.UTC)

    with time_machine.travel(marked_at, tick=False):
        first = ecole_api.post(path)
    with time_machine.travel(marked_at + datetime.timedelta(hours=1), tick=False):
        again = ecole_api.post(path)

    assert first.status_code == again.status_code == 200
    assert first.json()["processed_at"] == again.json()["processed_at"]
    share_to_ecole.refresh_from_db()
    assert share_to_ecole.processed_at == marked_at
    assert listed_ids(ecole_api, processed="true") == [str(share_to_ecole.public_id)]
    assert listed_ids(ecole_api, processed="false") == []

    undone = ecole_api.delete(path)

    assert undone.status_code == 200
    assert undone.json()["processed_at"] is None
    assert listed_ids(ecole_api, processed="false") == [str(share_to_ecole.public_id)]


# Filters


def test_since_lists_the_shares_created_after_a_moment(ecole, ecole_api, free_documents):
    monday = datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC)
    with time_machine.travel(monday, tick=False):
        old = share_free(free_documents, ecole)
    with time_machine.travel(monday + datetime.timedelta(days=1), tick=False):
        new = share_free(free_documents, ecole)

    assert listed_ids(ecole_api, since="2026-03-02T12:00:00Z") == [str(new.public_id)]
    assert listed_ids(ecole_api, since="2026-03-02T08:00:00+00:00") == [
        str(new.public_id),
        str(old.public_id),
    ]
    # Without an offset: UTC.
    assert listed_ids(ecole_api, since="2026-03-02T09:00:00") == [str(new.public_id)]


def test_the_created_time_of_a_share_as_since_lists_only_later_ones(
    ecole, ecole_api, free_documents
):
    moment = datetime.datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        seen = share_free(free_documents, ecole)
    with time_machine.travel(moment + datetime.timedelta(microseconds=1), tick=False):
        later = share_free(free_documents, ecole)
    created = ecole_api.get(f"/shares/{seen.public_id}").json()["created"]

    assert created == "2026-03-02T09:00:00.123456Z"
    assert listed_ids(ecole_api, since=created) == [str(later.public_id)]


def test_status_filters_by_the_state_the_share_is_in_now(ecole, ecole_api, free_documents):
    on_june_1 = timezone.make_aware(datetime.datetime(2026, 6, 1, 12))
    with time_machine.travel(on_june_1, tick=False):
        active = share_free(free_documents, ecole, expires_on=datetime.date(2026, 6, 30))
        unlimited = share_free(free_documents, ecole)
        revoked = share_revoke(share=share_free(free_documents, ecole))
        expired = share_free(free_documents, ecole, expires_on=datetime.date(2026, 6, 14))
    on_june_15 = timezone.make_aware(datetime.datetime(2026, 6, 15, 12))

    with time_machine.travel(on_june_15, tick=False):
        states = {
            status: set(listed_ids(ecole_api, status=status))
            for status in ("active", "expired", "revoked")
        }
        everything = set(listed_ids(ecole_api))

    assert states == {
        "active": {str(active.public_id), str(unlimited.public_id)},
        "expired": {str(expired.public_id)},
        "revoked": {str(revoked.public_id)},
    }
    assert everything == set().union(*states.values())


def test_a_bad_filter_is_a_422_with_details(ecole_api):
    response = ecole_api.get("/shares", {"status": "lost", "limit": "500"})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_request"
    assert {tuple(detail["loc"]) for detail in error["details"]} == {
        ("query", "status"),
        ("query", "limit"),
    }


# Pagination


def all_pages(api: ApiClient, **params) -> list[list[str]]:
    pages = []
    cursor = None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        response = api.get("/shares", query)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50


def test_pages_follow_each_other_without_duplicates_or_gaps(ecole, ecole_api, free_documents):
    shares = [share_free(free_documents, ecole) for _ in range(7)]
    # Three shares made in the same microsecond: their order comes from the tie-breaker.
    same_moment = timezone.now() - datetime.timedelta(hours=1)
    Share.objects.filter(pk__in=[s.pk for s in shares[2:5]]).update(created=same_moment)
    expected = listed_ids(ecole_api, limit=100)

    pages = all_pages(ecole_api, limit=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [share_id for page in pages for share_id in page] == expected
    assert sorted(expected) == sorted(str(s.public_id) for s in shares)


def test_a_share_arriving_between_pages_does_not_shift_them(ecole, ecole_api, free_documents):
    shares = [share_free(free_documents, ecole) for _ in range(5)]
    first = ecole_api.get("/shares", {"limit": 2}).json()

    newcomer = share_free(free_documents, ecole)
    rest = all_pages(ecole_api, limit=2, cursor=first["next_cursor"])

    seen = [item["id"] for item in first["items"]] + [i for page in rest for i in page]
    assert seen == [str(s.public_id) for s in reversed(shares)]
    assert str(newcomer.public_id) not in seen


def test_the_cursor_carries_across_filters(ecole, ecole_api, free_documents):
    shares = [share_free(free_documents, ecole) for _ in range(4)]
    share_revoke(share=shares[1])

    pages = all_pages(ecole_api, limit=1, status="active")

    assert [i for page in pages for i in page] == [
        str(s.public_id) for s in reversed(shares) if s != shares[1]
    ]


def test_a_forged_cursor_is_a_400_invalid_cursor(ecole_api):
    response = ecole_api.get("/shares", {"cursor": "bm90IGEgY3Vyc29y"})

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_cursor"


def test_the_list_makes_no_query_per_share(
    ecole, ecole_api, free_documents, free_college, django_assert_max_num_queries
):
    learner, document = free_documents
    second = testing.make_document(learner, free_college, "Second certificate")
    for _ in range(30):
        testing.share_with(
            learner,
            [document, second],
            ecole,
            field_values={"application_number": "A-1", "intended_program": "science"},
        )
    ecole_api.get("/shares")  # the key's last use is written once a minute: not counted below

    with django_assert_max_num_queries(6):
        response = ecole_api.get("/shares", {"limit": 30})

    items = response.json()["items"]
    assert len(items) == 30
    assert all(len(item["documents"]) == 2 and len(item["fields"]) == 2 for item in items)
