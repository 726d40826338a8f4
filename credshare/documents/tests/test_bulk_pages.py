"""The bulk issuance pages (upload, progress, JSON progress, report, list: issuer members only)
and the issue_bulk command.

Jobs are not started by the pages in these tests: CREDSHARE_TASKS is "none" (nothing starts),
the start is checked through the on-commit callback, and the tests run the job themselves
with issuance_job_process (threads and test transactions do not mix)."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from credshare.core import testing
from credshare.documents import bulk
from credshare.documents.models import Document, IssuanceJob


@pytest.fixture(autouse=True)
def _jobs_not_started(settings):
    settings.CREDSHARE_TASKS = "none"


@pytest.fixture
def registrar(university):
    return testing.make_issuer_staff(university, "registrar@example-university.org")


@pytest.fixture
def staff_client(client, registrar):
    client.force_login(registrar)
    return client


def _rows(zoe, count=3, **bad):
    rows = [testing.bulk_row(n, zoe.email) for n in range(count)]
    rows[-1].update(bad)
    return rows


def _url(name, university, job=None):
    args = [university.slug] + ([job.public_id] if job else [])
    return reverse(f"issuer_documents:{name}", args=args)


def test_upload_queues_the_job_and_starts_it_after_commit(
    staff_client, university, zoe, monkeypatch, django_capture_on_commit_callbacks
):
    started = []
    monkeypatch.setattr(bulk, "issuance_job_start", lambda *, job: started.append(job.pk))
    assert staff_client.get(_url("bulk_new", university)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            _url("bulk_new", university),
            {
                "rows": testing.bulk_csv(_rows(zoe, issue_date="tomorrow")),
                "pdfs": testing.bulk_zip(),
            },
        )
    job = IssuanceJob.objects.get()
    assert response.status_code == 302
    assert response.url == _url("bulk_detail", university, job)
    assert started == [job.pk]
    assert job.total == 3 and job.created_by.email == "registrar@example-university.org"

    page = staff_client.get(response.url).content.decode()
    assert "<progress" in page and 'value="0"' in page and 'max="3"' in page
    assert "documents/progress.js" in page and "<script>" not in page
    assert "Refresh" in page

    bulk.issuance_job_process(job_id=job.pk)
    progress = json.loads(staff_client.get(_url("bulk_progress", university, job)).content)
    assert progress["done"] == 3 and progress["issued"] == 2 and progress["rejected"] == 1
    assert progress["remaining"] == 0 and progress["finished"] and progress["percent"] == 100
    assert Document.objects.filter(issuer=university).count() == 2

    page = staff_client.get(_url("bulk_detail", university, job)).content.decode()
    assert "progress.js" not in page and _url("bulk_report", university, job) in page

    report = staff_client.get(_url("bulk_report", university, job))
    assert report["Content-Type"].startswith("text/csv")
    assert "attachment" in report["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(report.content.decode())))
    assert lines[0] == ["row", "external_id", "reason"] and len(lines) == 2
    assert lines[1][0] == "4" and "YYYY-MM-DD" in lines[1][2]

    listing = staff_client.get(_url("bulk_list", university)).content.decode()
    assert str(job.public_id) in listing


def test_a_file_level_fault_shows_on_the_form(staff_client, university, zoe):
    columns = [c for c in testing.BULK_CSV_COLUMNS if c != "email"]
    response = staff_client.post(
        _url("bulk_new", university),
        {"rows": testing.bulk_csv(_rows(zoe), columns=columns), "pdfs": testing.bulk_zip()},
    )
    assert response.status_code == 400
    assert "no column named email" in response.content.decode()
    response = staff_client.post(
        _url("bulk_new", university),
        {
            "rows": testing.bulk_csv(_rows(zoe, file="x.pdf")),
            "pdfs": testing.bulk_zip({"../x.pdf": b"%PDF-1.4"}),
        },
    )
    assert response.status_code == 400
    assert "outside the archive" in response.content.decode()
    response = staff_client.post(
        _url("bulk_new", university), {"rows": testing.bulk_csv(_rows(zoe))}
    )
    assert response.status_code == 400
    assert not IssuanceJob.objects.exists()


def test_only_the_issuers_members_see_its_jobs(client, university, registrar, zoe, free_college):
    job = bulk.issuance_job_create(
        issuer=university,
        created_by=registrar,
        rows_file=testing.bulk_csv(_rows(zoe, count=1)),
        pdf_archive=testing.bulk_zip(),
    )
    names = ("bulk_list", "bulk_new")
    job_names = ("bulk_detail", "bulk_progress", "bulk_report")
    for user in (zoe, testing.make_issuer_staff(free_college, "staff@free-college.org")):
        client.force_login(user)
        for name in names:
            assert client.get(_url(name, university)).status_code == 404
        for name in job_names:
            assert client.get(_url(name, university, job)).status_code == 404
    # A member of another issuer does not reach this job through their own organization.
    for name in job_names:
        assert client.get(_url(name, free_college, job)).status_code == 404
    client.logout()
    assert client.get(_url("bulk_detail", university, job)).status_code == 302


def test_the_command_runs_the_job_with_a_progress_bar(university, zoe, tmp_path):
    rows_path = tmp_path / "rows.csv"
    rows_path.write_bytes(
        testing.bulk_csv(_rows(zoe, email="nobody@example.org", first_name="", last_name="")).read()
    )
    pdfs_path = tmp_path / "pdfs.zip"
    pdfs_path.write_bytes(testing.bulk_zip().read())
    out = io.StringIO()
    call_command(
        "issue_bulk",
        "--issuer",
        university.slug,
        "--rows",
        str(rows_path),
        "--pdfs",
        str(pdfs_path),
        stdout=out,
    )
    output = out.getvalue()
    assert "\r[" in output and "3/3" in output and "rows/s" in output and "ETA" in output
    assert "2 issued, 1 rejected, 0 remaining" in output
    report = tmp_path / "rows.rejected.csv"
    assert str(report) in output
    assert "No one has an account" in report.read_text()
    assert Document.objects.filter(issuer=university).count() == 2

    # The same files again: nothing issued twice.
    out = io.StringIO()
    call_command(
        "issue_bulk", "--issuer", university.slug, "--rows", str(rows_path), "--pdfs",
        str(pdfs_path), stdout=out,
    )  # fmt: skip
    assert "2 issued, 1 rejected" in out.getvalue()
    assert Document.objects.filter(issuer=university).count() == 2

    with pytest.raises(CommandError, match="no column named"):
        bad = tmp_path / "bad.csv"
        bad.write_text("email\nzoe@example.org\n")
        call_command("issue_bulk", "--issuer", university.slug, "--rows", str(bad))


def test_the_command_resumes_a_stopped_job(university, registrar, zoe):
    job = bulk.issuance_job_create(
        issuer=university,
        created_by=registrar,
        rows_file=testing.bulk_jsonl(
            [{k: v for k, v in row.items() if k != "file"} for row in _rows(zoe, count=2)]
        ),
    )
    bulk.issuance_job_process(job_id=job.pk, max_rows=1)
    out = io.StringIO()
    call_command("issue_bulk", "--resume", str(job.public_id), stdout=out)
    assert "2 issued, 0 rejected, 0 remaining" in out.getvalue()
    assert "No row was rejected." in out.getvalue()
    assert Document.objects.filter(issuer=university).count() == 2
