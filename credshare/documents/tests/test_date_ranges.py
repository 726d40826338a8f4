"""Every way of issuing a document (the portal's form, bulk CSV and JSON Lines rows, the
service itself) takes an issue date from 1900 to today, never in the future, and a last
valid day from the issue date to a hundred years ahead; the issuer's document search takes
sane days. Out of range: a message next to the field, or the row's rejection reason, and
nothing issued. The API: credshare/api/tests/test_date_ranges.py."""

import datetime

import pytest
from django.utils import timezone

from credshare.core import testing
from credshare.core.ranges import DateOutOfRange, years_after
from credshare.credentials.models import IssuedCredential
from credshare.documents import bulk
from credshare.documents.models import Document, IssuanceRow
from credshare.documents.services import document_issue, document_version_add
from credshare.documents.tests.test_issuer_documents import errors_of, issue_data, url
from credshare.verification.credential import verify_credential

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
LAST_VALID_DAY = years_after(TODAY, 100)

# (issue date as typed, the reason when refused; None when issued)
ISSUE_DATES = [
    (TODAY.isoformat(), None),
    ((TODAY - DAY).isoformat(), None),
    ("1900-01-01", None),
    ((TODAY + DAY).isoformat(), "cannot be in the future"),
    ("9999-12-31", "cannot be in the future"),
    ("1899-12-31", "cannot be before"),
    ("0001-01-01", "cannot be before"),
]


@pytest.fixture
def registrar(university):
    return testing.make_issuer_staff(university, "registrar@university.example")


@pytest.fixture
def staff_client(client, registrar):
    client.raise_request_exception = False  # a 500 is an answer to assert on
    client.force_login(registrar)
    return client


@pytest.mark.parametrize(
    ("typed", "refused"), [*ISSUE_DATES, ("10000-01-01", "Enter a valid date.")]
)
def test_the_portal_issues_only_with_an_issue_date_in_range(
    staff_client, university, zoe, typed, refused
):
    data = issue_data(issue_date=typed, pdf=testing.pdf_upload())

    response = staff_client.post(url("new", university), data)

    if refused is None:
        assert response.status_code == 302
        assert Document.objects.get(title="Bachelor of Testing").issue_date.isoformat() == typed
    else:
        assert response.status_code == 400
        assert refused in errors_of(response, "issue_date")
        assert not Document.objects.filter(title="Bachelor of Testing").exists()


@pytest.mark.parametrize(
    ("typed", "refused"),
    [
        ("", None),
        (TODAY.isoformat(), None),
        (LAST_VALID_DAY.isoformat(), None),
        ((TODAY - DAY).isoformat(), "cannot expire before it is issued"),
        ((LAST_VALID_DAY + DAY).isoformat(), "at most 100 years from today"),
        ("9999-12-31", "at most 100 years from today"),
        ("0001-01-01", "cannot expire before it is issued"),
        ("10000-01-01", "Enter a valid date."),
    ],
)
def test_the_portal_issues_only_with_a_last_valid_day_in_range(
    staff_client, university, zoe, typed, refused
):
    data = issue_data(issue_date=TODAY.isoformat(), valid_until=typed, pdf=testing.pdf_upload())

    response = staff_client.post(url("new", university), data)

    if refused is None:
        assert response.status_code == 302
        document = Document.objects.get(title="Bachelor of Testing")
        assert document.valid_until == (datetime.date.fromisoformat(typed) if typed else None)
    else:
        assert response.status_code == 400
        assert refused in errors_of(response, "valid_until")
        assert not Document.objects.filter(title="Bachelor of Testing").exists()


def test_the_issue_date_field_tells_the_browser_its_range(staff_client, university):
    page = staff_client.get(url("new", university)).content.decode()

    assert f'max="{TODAY.isoformat()}"' in page
    assert 'min="1900-01-01"' in page


@pytest.mark.parametrize(
    ("issue_date", "valid_until", "code"),
    [
        (TODAY + DAY, None, "issue_date_future"),
        (datetime.date.min, None, "issue_date_too_old"),
        (TODAY, TODAY - DAY, "valid_until_before_issue_date"),
        (TODAY, datetime.date.max, "valid_until_too_far"),
    ],
)
def test_the_issue_service_refuses_dates_out_of_range_for_any_caller(
    zoe, university, issue_date, valid_until, code
):
    with pytest.raises(DateOutOfRange) as refused:
        document_issue(
            issuer=university,
            learner=zoe,
            document_type=Document.Type.CERTIFICATE,
            title="Out of range",
            issue_date=issue_date,
            valid_until=valid_until,
            pdf=testing.sample_pdf(),
        )

    assert refused.value.code == code
    assert not Document.objects.filter(title="Out of range").exists()


@pytest.mark.parametrize("source", ["csv", "jsonl"])
@pytest.mark.parametrize(
    ("typed", "refused"), [*ISSUE_DATES, ("10000-01-01", "is not a date written YYYY-MM-DD")]
)
def test_a_bulk_row_is_issued_only_with_an_issue_date_in_range(
    university, registrar, zoe, source, typed, refused
):
    row = testing.bulk_row(1, zoe.email, issue_date=typed)
    if source == "csv":
        job = bulk.issuance_job_create(
            issuer=university,
            created_by=registrar,
            rows_file=testing.bulk_csv([row]),
            pdf_archive=testing.bulk_zip(),
        )
    else:
        row.pop("file")
        row.update(program="Testing", courses=[["T1", "Testing", "3", "A"]])
        job = bulk.issuance_job_create(
            issuer=university, created_by=registrar, rows_file=testing.bulk_jsonl([row])
        )

    bulk.issuance_job_process(job_id=job.pk)

    [done] = job.rows.all()
    if refused is None:
        assert done.status == IssuanceRow.Status.ISSUED
        assert done.document.issue_date.isoformat() == typed
    else:
        assert done.status == IssuanceRow.Status.REJECTED
        assert refused in done.reason
        assert not Document.objects.exists()


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ({"issued_from": "2026-01-01", "issued_to": "2026-12-31"}, None),
        ({"issued_from": "0001-01-01"}, "Enter a date between"),
        ({"issued_to": "9999-12-31"}, "Enter a date between"),
        ({"issued_to": "10000-01-01"}, "Enter a valid date."),
        ({"page": "99999999999999999999"}, None),
    ],
)
def test_the_document_search_takes_sane_days_and_any_page_number(
    staff_client, university, zoe_transcript, query, refused
):
    response = staff_client.get(url("list", university), query)

    assert response.status_code == 200
    page = response.content.decode()
    if refused is None:
        assert zoe_transcript.title in page
    else:
        assert refused in page


def test_a_document_stored_valid_until_the_calendars_last_day_still_gets_versions_that_verify(
    zoe_transcript,
):
    Document.objects.filter(pk=zoe_transcript.pk).update(valid_until=datetime.date.max)
    zoe_transcript.refresh_from_db()

    version = document_version_add(document=zoe_transcript, pdf=testing.sample_pdf("v2"))

    credential = IssuedCredential.objects.get(version=version).credential
    assert credential["validUntil"] == "9999-12-31T00:00:00Z"
    assert verify_credential(credential).status == "valid"
