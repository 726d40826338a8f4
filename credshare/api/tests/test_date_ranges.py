"""Dates and numbers an API client sends have a sane range, refused with a code (never a
500), and a share whose expiry date was stored at either end of the calendar still lists and
reads, live or revoked."""

import base64
import datetime
import json
import uuid

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from credshare.api.schemas import DocumentIn
from credshare.api.tests.conftest import error_of
from credshare.api.tests.test_documents import issue_body
from credshare.core.ranges import check_issue_date, check_valid_until, years_after
from credshare.documents.models import Document
from credshare.sharing.models import Share
from credshare.sharing.services import share_revoke

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
HUGE = "99999999999999999999"


def detail_codes(response, field: str) -> list[str]:
    """The codes of the 422's details about FIELD."""
    assert response.status_code == 422, response.content
    error = error_of(response)
    assert error["code"] == "invalid_request"
    return [d["code"] for d in error["details"] if d.get("loc") and d["loc"][-1] == field]


@pytest.mark.parametrize(
    ("issue_date", "code"),
    [
        (TODAY.isoformat(), None),
        ("1900-01-01", None),
        ((TODAY + DAY).isoformat(), "issue_date_future"),
        ("9999-12-31", "issue_date_future"),
        ("1899-12-31", "issue_date_too_old"),
        ("0001-01-01", "issue_date_too_old"),
        ("10000-01-01", "date_from_datetime_parsing"),
        (HUGE, "date_from_datetime_parsing"),
    ],
)
def test_a_document_is_issued_only_with_an_issue_date_in_range(
    university_api, zoe, issue_date, code
):
    response = university_api.post("/documents", issue_body(issue_date=issue_date))

    if code is None:
        assert response.status_code == 201
        assert response.json()["issue_date"] == issue_date
    else:
        codes = detail_codes(response, "issue_date")
        assert codes and codes[0].startswith(code)
        assert not Document.objects.exists()


@pytest.mark.parametrize(
    ("valid_until", "code"),
    [
        (None, None),
        (TODAY.isoformat(), None),
        (years_after(TODAY, 100).isoformat(), None),
        ((TODAY - DAY).isoformat(), "valid_until_before_issue_date"),
        ((years_after(TODAY, 100) + DAY).isoformat(), "valid_until_too_far"),
        ("9999-12-31", "valid_until_too_far"),
        ("0001-01-01", "valid_until_before_issue_date"),
    ],
)
def test_a_document_is_issued_only_with_a_last_valid_day_in_range(
    university_api, zoe, valid_until, code
):
    body = issue_body(issue_date=TODAY.isoformat(), valid_until=valid_until)

    response = university_api.post("/documents", body)

    if code is None:
        assert response.status_code == 201
        assert response.json()["valid_until"] == valid_until
    else:
        assert detail_codes(response, "valid_until") == [code]
        assert not Document.objects.exists()


def test_the_errors_of_a_date_out_of_range_are_in_the_clients_language(university_api, zoe):
    university_api.language = "fr"

    response = university_api.post("/documents", issue_body(issue_date="9999-12-31"))

    [detail] = [d for d in error_of(response)["details"] if d["loc"][-1] == "issue_date"]
    assert detail["message"] == "La date de délivrance ne peut pas être dans le futur."


@given(st.dates(), st.one_of(st.none(), st.dates()))
def test_the_issue_schema_takes_any_dates_in_range_or_refuses_them_with_a_code(
    issue_date, valid_until
):
    body = {
        "learner_email": "zoe@example.org",
        "type": "certificate",
        "title": "Any",
        "pdf_base64": "JVBERi0=",
        "issue_date": issue_date.isoformat(),
        "valid_until": valid_until.isoformat() if valid_until else None,
    }
    try:
        document = DocumentIn.model_validate(body)
    except ValidationError as error:
        assert {e["type"] for e in error.errors()} <= {
            "issue_date_future",
            "issue_date_too_old",
            "valid_until_before_issue_date",
            "valid_until_too_far",
        }
    else:
        check_issue_date(document.issue_date)
        check_valid_until(document.valid_until, issue_date=document.issue_date)


@pytest.mark.parametrize(
    ("since", "code"),
    [
        ("2026-01-01T00:00:00Z", None),
        ("2026-01-01T00:00:00", None),
        ("9999-12-31T23:59:59-05:00", "date_out_of_range"),
        ("9999-12-31T23:59:59+14:00", "date_out_of_range"),
        ("0001-01-01T00:00:00+05:00", "date_out_of_range"),
        ("1899-12-31T23:59:59Z", "date_out_of_range"),
        ("10000-01-01T00:00:00Z", "datetime_from_date_parsing"),
    ],
)
def test_the_share_list_takes_a_since_moment_only_within_its_range(
    ecole_api, share_to_ecole, since, code
):
    response = ecole_api.get("/shares", {"since": since})

    if code is None:
        assert response.status_code == 200
        assert [share["id"] for share in response.json()["items"]] == [
            str(share_to_ecole.public_id)
        ]
    else:
        codes = detail_codes(response, "since")
        assert codes and codes[0].startswith(code.split("_from_")[0])


def forged_cursor(created: str) -> str:
    raw = json.dumps([created, str(uuid.uuid4())]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "created",
    [
        "9999-12-31T23:59:59.999999-05:00",
        "0001-01-01T00:00:00+14:00",
        "1800-01-01T00:00:00+00:00",
    ],
)
def test_a_made_up_cursor_at_the_calendars_edge_is_refused(ecole_api, share_to_ecole, created):
    response = ecole_api.get("/shares", {"cursor": forged_cursor(created)})

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_cursor"


@pytest.mark.parametrize("limit", [HUGE, "0", "-1", str(2**63)])
def test_a_page_size_out_of_range_is_refused(ecole_api, share_to_ecole, limit):
    response = ecole_api.get("/shares", {"limit": limit})

    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_request"


@pytest.mark.parametrize(
    "path",
    [f"/shares/{HUGE}", f"/shares/{HUGE}/processed", f"/documents/{HUGE}", f"/jobs/{HUGE}"],
)
def test_a_number_where_an_id_belongs_is_a_4xx(ecole_api, university_api, path):
    client = university_api if path.startswith(("/documents", "/jobs")) else ecole_api

    response = client.get(path)

    assert 400 <= response.status_code < 500
    assert error_of(response)["code"]


# A share whose expiry date was stored at either end of the calendar


@pytest.mark.parametrize(
    "stored", [datetime.date.max, datetime.date.max - DAY, datetime.date.min], ids=str
)
@pytest.mark.parametrize("revoked", [False, True], ids=["live", "revoked"])
def test_a_share_stored_with_an_extreme_expiry_lists_and_reads_in_the_api(
    ecole_api, share_to_ecole, stored, revoked
):
    Share.objects.filter(pk=share_to_ecole.pk).update(expires_on=stored)
    if revoked:
        share_revoke(share=Share.objects.get(pk=share_to_ecole.pk))
    state = "revoked" if revoked else "expired" if stored < TODAY else "active"

    for params in [{}, {"status": state}, {"processed": "false"}]:
        listed = ecole_api.get("/shares", params)
        assert listed.status_code == 200, params
        [item] = listed.json()["items"]
        assert item["state"] == state
        assert item["expires_on"] == stored.isoformat()
        assert item["expires_at"] is not None
    read = ecole_api.get(f"/shares/{share_to_ecole.public_id}")
    assert read.status_code == 200
    assert read.json()["state"] == state
    if state == "active":
        document = read.json()["documents"][0]["id"]
        pdf = ecole_api.get(f"/shares/{share_to_ecole.public_id}/documents/{document}/pdf")
        assert pdf.status_code == 200


def test_a_share_stored_with_an_extreme_expiry_is_active_and_never_expires_in_practice(
    ecole_api, share_to_ecole
):
    Share.objects.filter(pk=share_to_ecole.pk).update(expires_on=datetime.date.max)

    assert ecole_api.get("/shares", {"status": "expired"}).json()["items"] == []
    [item] = ecole_api.get("/shares", {"status": "active"}).json()["items"]
    assert item["expires_at"].startswith("9999-12-")
