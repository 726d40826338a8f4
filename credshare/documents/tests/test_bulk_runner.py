"""Bulk issuance (credshare/documents/bulk.py): the 200-row job with 10 bad rows, reruns and
resumed workers without duplicates, the progress and the report."""

import csv
import io
import time

import pytest
from django.db.models import Count

from credshare.core import testing
from credshare.documents import bulk
from credshare.documents.models import Document, IssuanceJob, IssuanceRow


@pytest.fixture
def registrar(university):
    return testing.make_issuer_staff(university, "registrar@example-university.org")


@pytest.fixture
def learners(db):
    return [testing.make_user(f"learner{n}@example.org", f"Learner {n}") for n in range(5)]


def _two_hundred_rows(learners) -> list[dict]:
    """200 rows, every 20th one bad in its own way: 10 bad rows."""
    bad = {
        1: {"email": "not-an-email"},
        # A new address is issued to only with the learner's name.
        21: {"email": "nobody@example.org", "first_name": "", "last_name": ""},
        41: {"issue_date": "01/06/2026"},
        61: {"issue_date": "2026-02-30"},
        81: {"file": "missing.pdf"},
        101: {"file": "corrupt.pdf"},
        121: {"document_type": "passport"},
        141: {"title": ""},
        161: {"external_id": ""},
        181: {"file": "../escape.pdf"},
    }
    rows = []
    for number in range(200):
        row = testing.bulk_row(
            number,
            learners[number % len(learners)].email,
            file=f"transcript-{number % 3}.pdf",
        )
        row.update(bad.get(number, {}))
        rows.append(row)
    return rows


def _pdfs() -> dict[str, bytes]:
    pdfs = {f"transcript-{n}.pdf": testing.sample_pdf(f"bulk {n}") for n in range(3)}
    pdfs["corrupt.pdf"] = b"%PDF-1.7\nthis is not really a PDF\n"
    return pdfs


def _report(job) -> list[list[str]]:
    return list(csv.reader(io.StringIO(bulk.issuance_rejections_csv(job=job))))


def test_200_rows_with_10_bad_then_the_same_files_again(university, registrar, learners):
    rows = _two_hundred_rows(learners)
    pdfs = _pdfs()
    job = bulk.issuance_job_create(
        issuer=university,
        created_by=registrar,
        rows_file=testing.bulk_csv(rows),
        pdf_archive=testing.bulk_zip(pdfs),
    )
    assert job.source == IssuanceJob.Source.CSV_ZIP
    assert job.status == IssuanceJob.Status.QUEUED
    assert job.total == 200 and job.rows.count() == 200

    assert bulk.issuance_job_process(job_id=job.pk) == 200
    job.refresh_from_db()
    assert job.status == IssuanceJob.Status.DONE
    assert job.started_at and job.finished_at
    assert Document.objects.filter(issuer=university).count() == 190
    report = _report(job)
    assert report[0] == ["row", "external_id", "reason"]
    assert len(report) == 1 + 10
    reasons = {int(number): reason for number, _, reason in report[1:]}
    # CSV row numbers: the header is row 1, the document with index 0 row 2.
    assert set(reasons) == {n + 2 for n in (1, 21, 41, 61, 81, 101, 121, 141, 161, 181)}
    assert "not a valid email address" in reasons[3]
    assert "No one has an account" in reasons[23]
    assert "YYYY-MM-DD" in reasons[43] and "YYYY-MM-DD" in reasons[63]
    assert "no file named missing.pdf" in reasons[83]
    assert "damaged" in reasons[103]
    assert "passport" in reasons[123]
    assert "title is missing" in reasons[143]
    assert "external id is missing" in reasons[163]
    assert "not allowed" in reasons[183]

    document = Document.objects.get(issuer=university, external_id="EXT-00002")
    assert document.student_number == "S0000002"
    assert document.learner == learners[2]
    assert document.versions.count() == 1

    again = bulk.issuance_job_create(
        issuer=university,
        created_by=registrar,
        rows_file=testing.bulk_csv(rows),
        pdf_archive=testing.bulk_zip(pdfs),
    )
    bulk.issuance_job_process(job_id=again.pk)
    assert Document.objects.filter(issuer=university).count() == 190
    statuses = dict(again.rows.values_list("status").annotate(n=Count("pk")).order_by())
    assert statuses == {IssuanceRow.Status.ISSUED: 190, IssuanceRow.Status.REJECTED: 10}
    assert len(_report(again)) == 11
    # The rerun's rows point at the documents the first run issued.
    first = job.rows.get(number=4)
    assert again.rows.get(number=4).document_id == first.document_id is not None


def test_a_job_resumed_after_a_crash_completes_without_duplicates(university, registrar, zoe):
    rows = [testing.bulk_row(n, zoe.email) for n in range(8)]
    job = bulk.issuance_job_create(
        issuer=university,
        created_by=registrar,
        rows_file=testing.bulk_csv(rows),
        pdf_archive=testing.bulk_zip(),
    )
    assert bulk.issuance_job_process(job_id=job.pk, max_rows=3) == 3
    job.refresh_from_db()
    assert job.status == IssuanceJob.Status.RUNNING
    progress = bulk.issuance_job_progress(job=job)
    assert (progress["done"], progress["remaining"], progress["total"]) == (3, 5, 8)

    # A worker killed after its document was created but before the row was marked: the
    # document exists, the row is still pending; the resumed worker finds it.
    row = job.rows.get(number=5)
    testing.make_document(zoe, university, "Already there")
    Document.objects.filter(title="Already there").update(external_id=row.external_id)

    assert bulk.issuance_job_process(job_id=job.pk) == 5
    assert bulk.issuance_job_process(job_id=job.pk) == 0
    job.refresh_from_db()
    assert job.status == IssuanceJob.Status.DONE
    issued = Document.objects.filter(issuer=university).exclude(external_id="")
    assert issued.count() == 8
    assert job.rows.filter(status=IssuanceRow.Status.ISSUED).count() == 8
    assert job.rows.get(number=5).document.title == "Already there"


def test_a_stop_request_ends_the_call_between_rows(university, registrar, zoe):
    rows = [testing.bulk_row(n, zoe.email) for n in range(3)]
    job = bulk.issuance_job_create(
        issuer=university,
        created_by=registrar,
        rows_file=testing.bulk_csv(rows),
        pdf_archive=testing.bulk_zip(),
    )
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 2

    assert bulk.issuance_job_process(job_id=job.pk, stop=stop) == 2
    assert job.rows.filter(status=IssuanceRow.Status.PENDING).count() == 1


def test_progress(university, registrar, zoe):
    rows = [testing.bulk_row(n, zoe.email) for n in range(3)]
    rows[1]["issue_date"] = "yesterday"
    job = bulk.issuance_job_create(
        issuer=university,
        created_by=registrar,
        rows_file=testing.bulk_csv(rows),
        pdf_archive=testing.bulk_zip(),
    )
    progress = bulk.issuance_job_progress(job=job)
    assert progress["done"] == 0 and progress["remaining"] == 3 and progress["total"] == 3
    assert progress["rate"] == 0 and progress["seconds_left"] is None
    assert progress["percent"] == 0

    bulk.issuance_job_process(job_id=job.pk, max_rows=2)
    progress = bulk.issuance_job_progress(job=job)
    assert progress["done"] == 2 and progress["issued"] == 1 and progress["rejected"] == 1
    assert progress["remaining"] == 1 and progress["percent"] == pytest.approx(66.7)
    assert progress["rate"] > 0 and progress["seconds_left"] is not None

    bulk.issuance_job_process(job_id=job.pk)
    progress = bulk.issuance_job_progress(job=job)
    assert progress["done"] == 3 and progress["remaining"] == 0 and progress["percent"] == 100
    assert progress["seconds_left"] == 0 and progress["finished"]


def test_jsonl_transcripts_are_rendered_and_issued(university, registrar, zoe):
    row = testing.bulk_row(1, zoe.email)
    del row["file"]
    row.update(
        program="B.Sc. Physics",
        courses=[["PHY101", "Mechanics", "3", "A"], ["PHY102", "Waves", "3", "B+"]],
        gpa="3.7",
        credential="Bachelor of Science",
    )
    bad = dict(row, external_id="EXT-2", courses="PHY101")
    job = bulk.issuance_job_create(
        issuer=university,
        created_by=registrar,
        rows_file=testing.bulk_jsonl([row, "{not json", bad, {"email": zoe.email}]),
    )
    assert job.source == IssuanceJob.Source.JSONL
    assert job.total == 4 and not job.pdf_archive
    bulk.issuance_job_process(job_id=job.pk)
    document = Document.objects.get(external_id="EXT-00001")
    assert document.title == "Transcript 1" and document.student_number == "S0000001"
    reasons = {number: reason for number, _, reason in _report(job)[1:]}
    assert set(reasons) == {"2", "3", "4"}
    assert "not valid JSON" in reasons["2"]
    assert "courses" in reasons["3"]
    assert "external_id" in reasons["4"]


def test_the_report_neutralizes_formulas(university, registrar, zoe):
    rows = [
        testing.bulk_row(1, zoe.email, external_id="=HYPERLINK(1)", issue_date="no"),
        testing.bulk_row(2, "+1 555", external_id="@SUM(A1)"),
    ]
    job = testing.run_bulk_csv(university, registrar, rows)
    report = _report(job)
    assert report[1][1] == "'=HYPERLINK(1)"
    assert report[2][1] == "'@SUM(A1)"
    assert all(not cell.startswith(("=", "+", "-", "@")) for line in report for cell in line)


def test_start_runs_the_job_in_a_thread_or_hands_it_to_celery(
    university, registrar, zoe, settings, monkeypatch
):
    job = bulk.issuance_job_create(
        issuer=university,
        created_by=registrar,
        rows_file=testing.bulk_csv([testing.bulk_row(1, zoe.email)]),
        pdf_archive=testing.bulk_zip(),
    )
    started = []
    monkeypatch.setattr(bulk, "_run_in_thread", started.append)
    settings.CREDSHARE_TASKS = "inline"
    bulk.issuance_job_start(job=job)
    for _ in range(100):
        if started:
            break
        time.sleep(0.01)
    assert started == [job.pk]

    settings.CREDSHARE_TASKS = "none"
    bulk.issuance_job_start(job=job)
    assert started == [job.pk]
