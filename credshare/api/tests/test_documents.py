"""Issuers through the API: issue a document from a PDF or from a transcript's data, find it,
correct it with a new version, withdraw or revoke it, and run bulk jobs; only their own
documents, and every refusal a 4xx with a code."""

import base64
import io
import json

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from credshare.api.models import ApiKey
from credshare.api.tests.conftest import ApiClient, error_of, make_key
from credshare.core import testing
from credshare.documents import bulk
from credshare.documents.models import Document, IssuanceJob
from credshare.notifications.models import OutgoingEmail
from credshare.sharing.models import ShareAccess


def pdf_base64(data: bytes | None = None) -> str:
    return base64.b64encode(data if data is not None else testing.sample_pdf("api")).decode()


def issue_body(learner_email="zoe@example.org", **values) -> dict:
    body = {
        "learner_email": learner_email,
        "type": "certificate",
        "title": "First-aid certificate",
        "issue_date": "2026-05-04",
        "external_id": "SIS-0001",
        "student_number": "S123",
        "pdf_base64": pdf_base64(),
    }
    body.update(values)
    return {key: value for key, value in body.items() if value is not None}


RECORD = {
    "program": "Bachelor of Testing",
    "courses": [["TST101", "Testing basics", "3", "A"], ["TST202", "Testing more", "3", "B+"]],
    "gpa": "3.7",
    "credential": "B.Test.",
}


def page_text(pdf: bytes) -> str:
    """The text operators of the PDF's first page, decompressed."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    page = reader.root["/Pages"]["/Kids"][0]
    contents = page["/Contents"]
    streams = contents if isinstance(contents, list) else [contents]
    return b"".join(stream.data for stream in streams).decode("latin-1")


# Issuing


def test_issuing_a_pdf_puts_a_signed_document_into_the_learners_account(
    university_api, university, zoe
):
    response = university_api.post("/documents", issue_body())

    assert response.status_code == 201
    body = response.json()
    document = Document.objects.get(public_id=body["id"])
    assert (document.issuer, document.learner) == (university, zoe)
    assert (document.external_id, document.student_number) == ("SIS-0001", "S123")
    assert document.document_type == "certificate"
    version = document.versions.get()
    assert body["version"] == {
        "number": 1,
        "sha256": version.sha256,
        "size": version.size,
        "created": body["version"]["created"],
    }
    assert body["learner"] == {"name": "Zoé Citoyenne", "email": "zoe@example.org"}
    assert body["status"] == "active"
    # Signed: the stored file is not the uploaded one.
    assert version.file.read() != testing.sample_pdf("api")


def test_the_same_external_id_returns_the_document_already_issued(university_api, zoe):
    first = university_api.post("/documents", issue_body())
    again = university_api.post("/documents", issue_body(title="Another title"))

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["title"] == "First-aid certificate"
    assert Document.objects.filter(external_id="SIS-0001").count() == 1


def test_a_transcript_is_rendered_from_its_data(university_api, zoe):
    response = university_api.post(
        "/documents",
        issue_body(type="transcript", title="Official transcript", pdf_base64=None, record=RECORD),
    )

    assert response.status_code == 201
    document = Document.objects.get(public_id=response.json()["id"])
    assert document.record == RECORD
    text = page_text(document.versions.get().file.read())
    assert "Bachelor of Testing" in text
    assert "TST202" in text


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GIF89a not a pdf", "not_pdf"),
        (b"%PDF-1.4\n1 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj\n%%EOF", "javascript"),
        (b"%PDF-1.7\nthis is not a PDF body at all", "corrupt"),
    ],
)
def test_a_refused_pdf_is_a_400_invalid_pdf_with_its_reason(university_api, zoe, data, code):
    response = university_api.post("/documents", issue_body(pdf_base64=pdf_base64(data)))

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_pdf"
    assert error["details"][0]["code"] == code
    assert not Document.objects.filter(external_id="SIS-0001").exists()


def test_a_refusal_is_in_the_language_of_accept_language(university_key, zoe):
    french = ApiClient(university_key.text, language="fr")

    response = french.post("/documents", issue_body(pdf_base64=pdf_base64(b"not a pdf")))

    assert error_of(response)["message"] == "Le fichier n'est pas un PDF."
    assert response["Content-Language"] == "fr"


def test_an_address_that_is_not_one_is_a_400(university_api):
    response = university_api.post(
        "/documents", issue_body(learner_email="not an address", learner_name="Someone")
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_email"
    assert not Document.objects.exists()


def test_a_new_address_without_the_learners_name_is_a_400(university_api):
    response = university_api.post("/documents", issue_body(learner_email="nobody@example.org"))

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "learner_name_required"
    assert error["details"][0]["field"] == "learner_name"
    assert not Document.objects.filter(learner_email="nobody@example.org").exists()


@pytest.mark.parametrize(
    "values",
    [
        {"pdf_base64": None},  # neither a PDF nor data
        {"record": RECORD},  # both
        {"pdf_base64": "not base64!"},
        {"type": "passport"},
        {"issue_date": "yesterday"},
        {"title": ""},
        {"valid_until": "2020-01-01"},  # before the issue date
        {"record": {"program": "P", "courses": [["only", "three", "parts"]]}, "pdf_base64": None},
        {"title": "nul\x00byte"},
    ],
)
def test_a_body_that_breaks_the_schema_is_a_422(university_api, zoe, values):
    response = university_api.post("/documents", issue_body(**values))

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_request"
    assert error["details"]
    assert not Document.objects.exists()


def test_a_body_that_is_not_json_is_a_400(university_api):
    response = university_api.client.post(
        "/api/v1/documents",
        "{not json",
        content_type="application/json",
        headers=university_api.headers(),
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_request"


# Reading


def test_an_issuer_reads_its_own_documents_only(university_api, zoe_transcript, free_college, zoe):
    other = testing.make_document(zoe, free_college, "Other issuer's")

    mine = university_api.get(f"/documents/{zoe_transcript.public_id}")
    theirs = university_api.get(f"/documents/{other.public_id}")

    assert mine.status_code == 200
    assert mine.json()["title"] == "Official transcript"
    assert theirs.status_code == 404
    assert error_of(theirs)["code"] == "not_found"
    assert "Other issuer" not in theirs.content.decode()


def test_an_issuer_cannot_correct_or_withdraw_another_issuers_document(
    university_api, free_college, zoe
):
    other = testing.make_document(zoe, free_college, "Other issuer's")

    version = university_api.post(f"/documents/{other.public_id}/versions", {"record": RECORD})
    withdraw = university_api.post(f"/documents/{other.public_id}/withdraw", {"reason": "Mine?"})

    assert version.status_code == withdraw.status_code == 404
    other.refresh_from_db()
    assert other.is_active
    assert other.versions.count() == 1


# Versions and withdrawal


def test_a_new_version_is_served_at_once_and_the_learner_told(
    university_api, ecole_api, share_to_ecole, zoe_transcript
):
    response = university_api.post(
        f"/documents/{zoe_transcript.public_id}/versions",
        {"pdf_base64": pdf_base64(testing.sample_pdf("corrected"))},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["version"]["number"] == 2
    assert body["versions_count"] == 2
    shared = ecole_api.get(f"/shares/{share_to_ecole.public_id}").json()
    listed = next(d for d in shared["documents"] if d["id"] == str(zoe_transcript.public_id))
    assert (listed["version"], listed["sha256"]) == (2, body["version"]["sha256"])
    assert OutgoingEmail.objects.filter(to="zoe@example.org").exists()


def test_a_version_from_data_becomes_the_documents_data(university_api, zoe_transcript):
    response = university_api.post(
        f"/documents/{zoe_transcript.public_id}/versions", {"record": RECORD}
    )

    assert response.status_code == 201
    zoe_transcript.refresh_from_db()
    assert zoe_transcript.record == RECORD
    assert "Bachelor of Testing" in page_text(zoe_transcript.versions.get(number=2).file.read())


def test_withdrawing_stops_every_share_serving_the_document(
    university_api, ecole_api, share_to_ecole, zoe_transcript
):
    response = university_api.post(
        f"/documents/{zoe_transcript.public_id}/withdraw", {"reason": "Issued in error"}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert response.json()["status_reason"] == "Issued in error"
    download = ecole_api.get(
        f"/shares/{share_to_ecole.public_id}/documents/{zoe_transcript.public_id}/pdf"
    )
    assert download.status_code == 410
    assert error_of(download)["code"] == "document_withdrawn"
    assert not ShareAccess.objects.filter(action=ShareAccess.Action.DOWNLOADED).exists()


def test_revoking_and_then_changing_a_document_is_a_409(university_api, zoe_transcript):
    path = f"/documents/{zoe_transcript.public_id}"

    revoked = university_api.post(f"{path}/withdraw", {"reason": "Fraud", "revoke": True})
    again = university_api.post(f"{path}/withdraw", {"reason": "Again"})
    version = university_api.post(f"{path}/versions", {"record": RECORD})

    assert revoked.json()["status"] == "revoked"
    for response in (again, version):
        assert response.status_code == 409
        assert error_of(response)["code"] == "document_not_active"
    zoe_transcript.refresh_from_db()
    assert zoe_transcript.status_reason == "Fraud"
    assert zoe_transcript.versions.count() == 1


def test_a_blank_reason_is_a_422(university_api, zoe_transcript):
    response = university_api.post(
        f"/documents/{zoe_transcript.public_id}/withdraw", {"reason": "   "}
    )

    assert response.status_code == 422
    zoe_transcript.refresh_from_db()
    assert zoe_transcript.is_active


# Bulk jobs


def test_a_bulk_job_is_queued_run_and_followed(university_api, university, zoe):
    rows = [
        {**testing.bulk_row(1, zoe.email), **RECORD},
        # A new address with no name to issue to: rejected.
        testing.bulk_row(2, "nobody@example.org", first_name="", last_name=""),
    ]

    created = university_api.post_files("/jobs", {"rows": testing.bulk_jsonl(rows)})

    assert created.status_code == 202
    job = created.json()
    assert (job["status"], job["source"], job["total"]) == ("queued", "jsonl", 2)
    bulk.issuance_job_process(job_id=IssuanceJob.objects.get(public_id=job["id"]).pk)

    followed = university_api.get(f"/jobs/{job['id']}")
    progress = followed.json()["progress"]
    assert followed.json()["status"] == "done"
    assert (progress["issued"], progress["rejected"], progress["remaining"]) == (1, 1, 0)
    assert progress["finished"] is True
    assert Document.objects.get(issuer=university, external_id="EXT-00001").learner == zoe
    report = university_api.get(f"/jobs/{job['id']}/rejections")
    assert report.status_code == 200
    assert report["Content-Type"].startswith("text/csv")
    lines = report.content.decode().splitlines()
    assert lines[0] == "row,external_id,reason"
    assert lines[1].startswith("2,EXT-00002,")
    assert len(lines) == 2


def test_a_csv_with_its_zip_of_pdfs_is_queued(university_api, zoe):
    response = university_api.post_files(
        "/jobs",
        {
            "rows": testing.bulk_csv([testing.bulk_row(1, zoe.email)]),
            "pdf_archive": testing.bulk_zip(),
        },
    )

    assert response.status_code == 202
    assert response.json()["source"] == "csv_zip"


@pytest.mark.parametrize(
    ("files", "code", "field"),
    [
        (
            lambda: {"rows": testing.bulk_csv([testing.bulk_row(1, "a@b.c")])},
            "archive_missing",
            "pdf_archive",
        ),
        (
            lambda: {
                "rows": testing.bulk_csv([{"email": "a@b.c"}], columns=("email",)),
                "pdf_archive": testing.bulk_zip(),
            },
            "missing_columns",
            "rows",
        ),
        (
            lambda: {
                "rows": testing.bulk_csv([testing.bulk_row(1, "a@b.c")]),
                "pdf_archive": testing.pdf_upload(name="pdfs.zip"),
            },
            "archive_corrupt",
            "pdf_archive",
        ),
        (lambda: {"rows": testing.pdf_upload(name="rows.pdf")}, "unknown_format", "rows"),
    ],
)
def test_a_file_refused_as_a_whole_is_a_400_with_its_code(university_api, files, code, field):
    response = university_api.post_files("/jobs", files())

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == code
    assert error["details"][0]["field"] == field
    assert not IssuanceJob.objects.exists()


def test_a_job_without_rows_is_a_422(university_api):
    response = university_api.post_files("/jobs", {"pdf_archive": testing.bulk_zip()})

    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_request"


def test_another_issuers_job_is_a_404(university_api, free_college, zoe):
    theirs = bulk.issuance_job_create(
        issuer=free_college,
        created_by=None,
        rows_file=testing.bulk_jsonl([testing.bulk_row(1, zoe.email)]),
    )
    other = ApiClient(make_key(free_college, [ApiKey.Scope.JOBS_RUN]).text)

    assert other.get(f"/jobs/{theirs.public_id}").status_code == 200
    for path in (f"/jobs/{theirs.public_id}", f"/jobs/{theirs.public_id}/rejections"):
        response = university_api.get(path)
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_rejection_reasons_are_safe_in_a_spreadsheet(university_api, university):
    job = bulk.issuance_job_create(
        issuer=university,
        created_by=None,
        rows_file=testing.bulk_jsonl([json.dumps({"external_id": "=CMD()"})]),
    )
    bulk.issuance_job_process(job_id=job.pk)

    report = university_api.get(f"/jobs/{job.public_id}/rejections")

    assert "'=CMD()" in report.content.decode()
