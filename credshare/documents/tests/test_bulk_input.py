"""Bad input to bulk issuance: a fault of the whole file refuses the upload and creates
nothing; a fault of one row rejects that row only, with a clear reason."""

import io
import struct
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from credshare.core import testing
from credshare.documents import bulk
from credshare.documents.models import Document, IssuanceJob, IssuanceRow


@pytest.fixture
def registrar(university):
    return testing.make_issuer_staff(university, "registrar@example-university.org")


def _create(university, registrar, rows_file, pdf_archive=None):
    return bulk.issuance_job_create(
        issuer=university, created_by=registrar, rows_file=rows_file, pdf_archive=pdf_archive
    )


def _refused(university, registrar, rows_file, pdf_archive=None) -> str:
    with pytest.raises(bulk.BulkRejected) as refusal:
        _create(university, registrar, rows_file, pdf_archive)
    assert not IssuanceJob.objects.exists()
    assert not IssuanceRow.objects.exists()
    return refusal.value.code


def _zip_upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("pdfs.zip", data, content_type="application/zip")


def test_a_missing_column_refuses_the_whole_file(university, registrar, zoe):
    columns = [c for c in testing.BULK_CSV_COLUMNS if c != "issue_date"]
    rows = testing.bulk_csv([testing.bulk_row(1, zoe.email)], columns=columns)
    with pytest.raises(bulk.BulkRejected) as refusal:
        _create(university, registrar, rows, testing.bulk_zip())
    assert refusal.value.code == "missing_columns"
    assert "issue_date" in refusal.value.message
    assert not IssuanceJob.objects.exists()


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8-sig", "utf-8"])
def test_latin_1_and_utf_8_with_a_bom_are_read(university, registrar, zoe, encoding):
    row = testing.bulk_row(1, zoe.email, title="Relevé de notes", last_name="Lefèvre")
    job = _create(
        university,
        registrar,
        testing.bulk_csv([row], encoding=encoding),
        testing.bulk_zip(),
    )
    assert job.rows.get().data["external_id"] == "EXT-00001"
    bulk.issuance_job_process(job_id=job.pk)
    document = Document.objects.get(external_id="EXT-00001")
    assert document.title == "Relevé de notes"


def test_semicolon_separated_csv_is_read(university, registrar, zoe):
    text = ";".join(testing.BULK_CSV_COLUMNS) + "\n"
    text += f"E1;S1;{zoe.email};Zoé;C;diploma;Diplôme;2026-05-01;transcript.pdf\n"
    rows = SimpleUploadedFile("rows.csv", text.encode("utf-8"))
    job = _create(university, registrar, rows, testing.bulk_zip())
    bulk.issuance_job_process(job_id=job.pk)
    assert Document.objects.get(external_id="E1").document_type == "diploma"


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"issue_date": "2026-13-01"}, "is not a date written YYYY-MM-DD"),
        ({"issue_date": "June 1, 2026"}, "is not a date written YYYY-MM-DD"),
        ({"issue_date": "20260601"}, "is not a date written YYYY-MM-DD"),
        ({"email": "zoe@@example"}, "is not a valid email address"),
        (
            {"email": "someone@example.org", "first_name": "", "last_name": ""},
            "give the learner's first and last name",
        ),
        ({"file": "other.pdf"}, "The ZIP archive has no file named other.pdf"),
        ({"file": "corrupt.pdf"}, "damaged and cannot be read"),
        ({"file": "script.pdf"}, "JavaScript"),
        ({"file": "notes.txt"}, "not a PDF"),
    ],
)
def test_a_bad_row_is_rejected_with_its_reason_and_the_others_issued(
    university, registrar, zoe, values, reason
):
    rows = [
        testing.bulk_row(1, zoe.email),
        {**testing.bulk_row(2, zoe.email), **values},
        testing.bulk_row(3, zoe.email, issue_date="2026-06-01T10:00:00-04:00"),
    ]
    archive = testing.bulk_zip(
        {
            "transcript.pdf": testing.sample_pdf("ok"),
            "corrupt.pdf": b"%PDF-1.4\n1 0 obj garbage\n%%EOF",
            "script.pdf": testing.sample_pdf("x").replace(b"/Type /Catalog", b"/JS (x)"),
            "notes.txt": b"hello",
        }
    )
    job = _create(university, registrar, testing.bulk_csv(rows), archive)
    bulk.issuance_job_process(job_id=job.pk)
    rejected = job.rows.get(status=IssuanceRow.Status.REJECTED)
    assert rejected.number == 3 and reason in rejected.reason
    assert job.rows.filter(status=IssuanceRow.Status.ISSUED).count() == 2
    assert Document.objects.filter(external_id__in=["EXT-00001", "EXT-00003"]).count() == 2


def test_a_duplicate_external_id_in_the_file_is_rejected(university, registrar, zoe):
    rows = [testing.bulk_row(1, zoe.email), testing.bulk_row(1, zoe.email, title="Again")]
    job = _create(university, registrar, testing.bulk_csv(rows), testing.bulk_zip())
    bulk.issuance_job_process(job_id=job.pk)
    assert "already on row 2" in job.rows.get(number=3).reason
    assert Document.objects.filter(external_id="EXT-00001").count() == 1


def _declared_size_patched(size: int) -> bytes:
    """A ZIP whose one member declares SIZE bytes uncompressed (in the central directory)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("transcript.pdf", testing.sample_pdf())
    data = bytearray(buffer.getvalue())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", size)
    return bytes(data)


def test_a_zip_bomb_is_refused(university, registrar, zoe, monkeypatch):
    rows = lambda: testing.bulk_csv([testing.bulk_row(1, zoe.email)])  # noqa: E731
    # A member declaring an enormous uncompressed size.
    assert _refused(university, registrar, rows(), _zip_upload(_declared_size_patched(3 << 30)))
    # A real one: 11 MB of zeros in a few kilobytes.
    bomb = testing.bulk_zip({"transcript.pdf": b"\0" * (11 * 1024 * 1024)})
    assert bomb.size < 100_000
    assert _refused(university, registrar, rows(), bomb) == "zip_bomb"
    # Members that are each fine but together expand past the limit.
    monkeypatch.setattr(bulk, "MAX_ARCHIVE_UNCOMPRESSED_BYTES", 10_000)
    archive = testing.bulk_zip({f"{n}.pdf": testing.sample_pdf(str(n)) for n in range(5)})
    assert _refused(university, registrar, rows(), archive) == "zip_bomb"


@pytest.mark.parametrize("name", ["../x.pdf", "pdfs/../../x.pdf", "/etc/x.pdf", "C:/x.pdf"])
def test_a_path_leaving_the_archive_is_refused(university, registrar, zoe, name):
    rows = testing.bulk_csv([testing.bulk_row(1, zoe.email, file="x.pdf")])
    archive = testing.bulk_zip({"transcript.pdf": testing.sample_pdf(), name: b"%PDF-1.4"})
    assert _refused(university, registrar, rows, archive) == "path_traversal"


def test_file_level_faults_refuse_the_upload(university, registrar, zoe, monkeypatch):
    row = testing.bulk_row(1, zoe.email)
    csv_file = lambda rows=(row,): testing.bulk_csv(list(rows))  # noqa: E731
    assert _refused(university, registrar, csv_file(), _zip_upload(b"not a zip")) == (
        "archive_corrupt"
    )
    assert _refused(university, registrar, csv_file()) == "archive_missing"
    assert (
        _refused(university, registrar, SimpleUploadedFile("rows.xlsx", b"PK")) == "unknown_format"
    )
    assert _refused(university, registrar, testing.bulk_csv([]), testing.bulk_zip()) == "empty"
    assert _refused(university, registrar, testing.bulk_jsonl(["not json", "[1]"])) == "malformed"
    monkeypatch.setattr(bulk, "MAX_ROWS", 3)
    rows = [testing.bulk_row(n, zoe.email) for n in range(4)]
    assert _refused(university, registrar, csv_file(rows), testing.bulk_zip()) == ("too_many_rows")
    monkeypatch.setattr(bulk, "MAX_ROWS_FILE_BYTES", 100)
    assert _refused(university, registrar, csv_file(), testing.bulk_zip()) == "too_large"
