"""Every way an untrusted PDF comes in refuses a file too complex to check, clearly and
without harm, and still accepts genuine documents.

The corpus (`credshare.core.testing_pdfs.HOSTILE_PDFS`) holds one file of each class of
"small file, huge work": cross-reference stream bombs (plain, through a PNG predictor), an
object stream inflating to hundreds of megabytes, a chain of filters, nesting 200,000 deep
(arrays, dictionaries), page trees with billions of leaves or hundreds of thousands of kids,
thousands of incremental updates, hundreds of thousands of objects. Each goes through every
entry point: the verification page, a document's verification page, POST /pdfs/verify, the
issuer's upload, a new version, a bulk ZIP, and the API's documents and versions. Timing is
measured by bench/hostile_pdfs.py, not here.
"""

import base64
import html
import io
import subprocess
import zipfile

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pyhanko.sign.validation.status import SignatureCoverageLevel

from credshare.api.tests.conftest import ApiClient, error_of, make_key
from credshare.core import sandbox, testing, testing_pdfs
from credshare.core.testing_pdfs import HOSTILE_PDFS, hostile_pdf, ordinary_pdf
from credshare.documents import bulk
from credshare.documents.models import Document, IssuanceRow

TOO_COMPLEX = "This PDF is too complex to check."
TOO_COMPLEX_FR = "Ce PDF est trop complexe pour être vérifié."


@pytest.fixture(autouse=True)
def _no_background_jobs(settings):
    settings.CREDSHARE_TASKS = "none"


@pytest.fixture
def registrar_client(university):
    registrar = testing.make_issuer_staff(university, "registrar@university.example")
    client = Client()
    client.force_login(registrar)
    return client


@pytest.fixture
def university_api(university):
    from credshare.api.models import ApiKey

    return ApiClient(make_key(university, list(ApiKey.ISSUING_SCOPES)).text)


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def upload(data: bytes, name: str = "document.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def stored_bytes(document) -> bytes:
    version = document.versions.order_by("-number").first()
    with version.file.open("rb") as handle:
        return handle.read()


def stored_zip(name: str, data: bytes) -> SimpleUploadedFile:
    """A ZIP holding DATA uncompressed: the archive's own "ZIP bomb" check (compression
    ratio) lets it through, so that the PDF check is what refuses it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(name, data)
    return SimpleUploadedFile("pdfs.zip", buffer.getvalue(), content_type="application/zip")


# --- the entry points: each sends DATA in and says what the sender sees ----------------------
#
# Each returns (refused, text): whether the file was refused as too complex (with the
# observable response checked), and the message shown; `accepted` does the same for a file
# that must pass.


class VerifyPage:
    name = "verify page"

    def send(self, client, data, language="en"):
        response = client.post(
            "/verify/",
            {"check": "pdf", "pdf-file": upload(data)},
            HTTP_ACCEPT_LANGUAGE=language,
        )
        return response

    def assert_refused(self, context, data, message=TOO_COMPLEX, language="en", code=None):
        response = self.send(context.client, data, language)
        assert response.status_code == 400
        assert message in page_text(response)

    def assert_accepted(self, context, data):
        response = self.send(context.client, data)
        assert response.status_code == 200
        assert TOO_COMPLEX not in page_text(response)
        return page_text(response)


class DocumentVerifyPage(VerifyPage):
    name = "document verify page"

    def send(self, client, data, language="en"):
        url = reverse("verification:document", args=[self.document.public_id])
        return client.post(url, {"file": upload(data)}, HTTP_ACCEPT_LANGUAGE=language)


class VerifyApi:
    name = "POST /pdfs/verify"

    def send(self, client, data, language="en"):
        return Client(enforce_csrf_checks=True).post(
            "/pdfs/verify", data, content_type="application/pdf", HTTP_ACCEPT_LANGUAGE=language
        )

    def assert_refused(self, context, data, message=TOO_COMPLEX, language="en", code=None):
        response = self.send(context.client, data, language)
        assert response.status_code == 422
        assert response.json()["error"] == {"code": "too_complex", "message": message}

    def assert_accepted(self, context, data):
        response = self.send(context.client, data)
        assert response.status_code == 200, response.content
        return response.json()


class IssuerUpload:
    name = "issuer upload"

    def send(self, context, data, language="en"):
        return context.registrar.post(
            reverse("issuer_documents:new", args=[context.university.slug]),
            {
                "email": "zoe@example.org",
                "document_type": Document.Type.DIPLOMA,
                "title": "Bachelor of Testing",
                "issue_date": "2026-05-30",
                "source": "upload",
                "pdf": upload(data),
            },
            HTTP_ACCEPT_LANGUAGE=language,
        )

    def count(self, context):
        return Document.objects.filter(title="Bachelor of Testing").count()

    def issued_bytes(self, context) -> bytes:
        return stored_bytes(Document.objects.get(title="Bachelor of Testing"))

    def assert_refused(self, context, data, message=TOO_COMPLEX, language="en", code=None):
        before = self.count(context)
        response = self.send(context, data, language)
        assert response.status_code == 400
        assert message in page_text(response)
        assert self.count(context) == before

    def assert_accepted(self, context, data):
        before = self.count(context)
        response = self.send(context, data)
        assert response.status_code == 302, page_text(response)
        assert self.count(context) == before + 1


class NewVersion(IssuerUpload):
    name = "new version"

    def send(self, context, data, language="en"):
        document = context.document
        return context.registrar.post(
            reverse("issuer_documents:version_add", args=[context.university.slug, document.pk]),
            {"pdf": upload(data)},
            HTTP_ACCEPT_LANGUAGE=language,
        )

    def count(self, context):
        return context.document.versions.count()

    def issued_bytes(self, context) -> bytes:
        return stored_bytes(context.document)


class BulkZip:
    name = "bulk ZIP"

    def send(self, context, data, language="en"):
        from django.utils import translation

        job = bulk.issuance_job_create(
            issuer=context.university,
            created_by=context.registrar_user,
            rows_file=testing.bulk_csv([testing.bulk_row(1, "zoe@example.org")]),
            pdf_archive=stored_zip("transcript.pdf", data),
        )
        with translation.override(language):
            bulk.issuance_job_process(job_id=job.pk)
        return IssuanceRow.objects.get(job=job)

    def assert_refused(self, context, data, message=TOO_COMPLEX, language="en", code=None):
        row = self.send(context, data, language)
        assert row.status == IssuanceRow.Status.REJECTED
        assert row.reason == f"transcript.pdf: {message}"
        assert row.document is None
        assert not Document.objects.filter(external_id="EXT-00001").exists()

    def assert_accepted(self, context, data):
        row = self.send(context, data)
        assert row.status == IssuanceRow.Status.ISSUED, row.reason
        assert row.document is not None

    def issued_bytes(self, context) -> bytes:
        return stored_bytes(Document.objects.get(external_id="EXT-00001"))


class ApiDocuments:
    name = "API POST /documents"

    def send(self, context, data, language="en"):
        context.api.language = language
        return context.api.post(
            "/documents",
            {
                "learner_email": "zoe@example.org",
                "type": "certificate",
                "title": "First-aid certificate",
                "issue_date": "2026-05-04",
                "external_id": "SIS-HOSTILE",
                "pdf_base64": base64.b64encode(data).decode(),
            },
        )

    def assert_refused(self, context, data, message=TOO_COMPLEX, language="en", code=None):
        response = self.send(context, data, language)
        assert response.status_code == (422 if code is None else 400)
        error = error_of(response)
        assert error["code"] == "invalid_pdf"
        assert error["message"] == message
        assert error["details"][0]["code"] == (code or "too_complex")
        assert not Document.objects.filter(external_id="SIS-HOSTILE").exists()

    def assert_accepted(self, context, data):
        response = self.send(context, data)
        assert response.status_code == 201, response.content
        assert Document.objects.filter(external_id="SIS-HOSTILE").exists()

    def issued_bytes(self, context) -> bytes:
        return stored_bytes(Document.objects.get(external_id="SIS-HOSTILE"))


class ApiVersions(ApiDocuments):
    name = "API POST /documents/{id}/versions"

    def send(self, context, data, language="en"):
        context.api.language = language
        return context.api.post(
            f"/documents/{context.document.public_id}/versions",
            {"pdf_base64": base64.b64encode(data).decode()},
        )

    def assert_refused(self, context, data, message=TOO_COMPLEX, language="en", code=None):
        response = self.send(context, data, language)
        assert response.status_code == (422 if code is None else 400)
        error = error_of(response)
        assert (error["code"], error["message"]) == ("invalid_pdf", message)
        assert error["details"][0]["code"] == (code or "too_complex")
        assert context.document.versions.count() == 1

    def assert_accepted(self, context, data):
        response = self.send(context, data)
        assert response.status_code == 201, response.content
        assert context.document.versions.count() == 2

    def issued_bytes(self, context) -> bytes:
        return stored_bytes(context.document)


ENTRY_POINTS = [
    VerifyPage,
    DocumentVerifyPage,
    VerifyApi,
    IssuerUpload,
    NewVersion,
    BulkZip,
    ApiDocuments,
    ApiVersions,
]
UPLOADS = [IssuerUpload, NewVersion, BulkZip, ApiDocuments, ApiVersions]
VERIFICATIONS = [VerifyPage, DocumentVerifyPage, VerifyApi]


@pytest.fixture
def context(client, registrar_client, university, zoe_transcript, university_api):
    from types import SimpleNamespace

    from credshare.accounts.models import User

    return SimpleNamespace(
        client=client,
        registrar=registrar_client,
        registrar_user=User.objects.get(email="registrar@university.example"),
        university=university,
        document=zoe_transcript,
        api=university_api,
    )


def entry_point(cls, context):
    point = cls()
    point.document = context.document
    return point


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda cls: cls.name)
@pytest.mark.parametrize("name", list(HOSTILE_PDFS))
def test_a_hostile_pdf_is_refused_as_too_complex_at_every_entry_point(context, entry, name):
    entry_point(entry, context).assert_refused(context, hostile_pdf(name))


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda cls: cls.name)
def test_the_refusal_is_in_french_for_a_french_reader(context, entry):
    # Signed-in staff read their account's language; everyone else, their browser's.
    context.registrar_user.language = "fr"
    context.registrar_user.save(update_fields=["language"])
    entry_point(entry, context).assert_refused(
        context, hostile_pdf("xref_stream_bomb"), message=TOO_COMPLEX_FR, language="fr"
    )


@pytest.mark.parametrize("entry", UPLOADS, ids=lambda cls: cls.name)
@pytest.mark.parametrize("kind", ["transcript", "ordinary multi-page"])
def test_genuine_documents_are_still_accepted_by_every_upload(context, entry, kind):
    data = testing.sample_pdf("genuine") if kind == "transcript" else ordinary_pdf()
    entry_point(entry, context).assert_accepted(context, data)


@pytest.mark.parametrize("entry", VERIFICATIONS, ids=lambda cls: cls.name)
def test_our_documents_still_verify_at_every_verification_entry_point(context, entry):
    result = entry_point(entry, context).assert_accepted(context, stored_bytes(context.document))
    if isinstance(result, dict):
        assert result["verified"] is True, result
    else:
        assert "The file is exactly as credshare issued it." in result


@pytest.mark.parametrize("entry", VERIFICATIONS, ids=lambda cls: cls.name)
def test_an_ordinary_unsigned_pdf_is_checked_not_refused(context, entry):
    result = entry_point(entry, context).assert_accepted(context, ordinary_pdf())
    if isinstance(result, dict):
        assert result["verified"] is False, result
    else:
        assert "This PDF carries no signature." in result


def test_whatever_the_structural_bounds_miss_the_time_limit_catches(context, monkeypatch):
    # A limit so short that even a genuine file runs over it stands for a file that no
    # bound on its structure foresaw.
    limits = sandbox.Limits
    monkeypatch.setattr(sandbox, "Limits", lambda: limits(seconds=0.000001))
    VerifyApi().assert_refused(context, stored_bytes(context.document))
    monkeypatch.undo()

    # The worker was killed; the next file is served by another.
    assert VerifyApi().assert_accepted(context, stored_bytes(context.document))["verified"]


# --- already signed PDFs (issue 14, finding 3) ------------------------------------------------

CERTIFIED = (
    "The PDF is certified with a signature that allows no changes, so credshare cannot add "
    "its own signature; upload it without that certification."
)


@pytest.fixture(scope="module")
def nss_db(tmp_path_factory, django_db_blocker):
    """An NSS database trusting the test session's demo CA, for pdfsig."""
    from credshare.documents import signing

    certutil = testing.require_program("certutil", package="libnss3-tools")
    directory = tmp_path_factory.mktemp("nss")
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(signing.ensure_ca().pem)
    database = f"sql:{directory}"
    subprocess.run([certutil, "-N", "--empty-password", "-d", database], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [certutil, "-A", "-n", "credshare-ca", "-t", "CT,C,C", "-i", ca_file, "-d", database],
        check=True,
    )
    return database


def pdfsig_signatures(data: bytes, nss_db: str, tmp_path) -> list[str]:
    """pdfsig's report, one block per signature."""
    pdfsig = testing.require_program("pdfsig", package="poppler-utils")
    path = tmp_path / "issued.pdf"
    path.write_bytes(data)
    result = subprocess.run(  # noqa: S603 -- our own arguments
        [pdfsig, "-nssdir", nss_db, str(path)], capture_output=True, text=True, timeout=30
    )
    return result.stdout.split("Signature #")[1:]


def pyhanko_statuses(data: bytes, institution_certificate) -> dict:
    """pyHanko's validation of every signature, by field name, each against its own root."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from credshare.documents import signing

    ca = asn1_x509.Certificate.load(
        signing.ensure_ca().certificate.public_bytes(serialization.Encoding.DER)
    )
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    return {
        embedded.field_name: validate_pdf_signature(
            embedded, ValidationContext(trust_roots=[ca, institution_certificate])
        )
        for embedded in reader.embedded_signatures
    }


@pytest.mark.parametrize("entry", UPLOADS, ids=lambda cls: cls.name)
def test_an_institutions_signed_pdf_is_accepted_and_both_signatures_validate(
    context, entry, nss_db, tmp_path
):
    data, institution = testing_pdfs.institution_signed_pdf()
    point = entry_point(entry, context)

    point.assert_accepted(context, data)

    issued = point.issued_bytes(context)
    assert issued.startswith(data)  # ours is an incremental update: their bytes untouched
    statuses = pyhanko_statuses(issued, institution)
    assert set(statuses) == {"InstitutionSignature", "CredshareSignature"}
    theirs, ours = statuses["InstitutionSignature"], statuses["CredshareSignature"]
    assert theirs.intact and theirs.valid and theirs.trusted
    assert ours.intact and ours.valid and ours.trusted
    assert ours.coverage == SignatureCoverageLevel.ENTIRE_FILE
    reports = pdfsig_signatures(issued, nss_db, tmp_path)
    assert len(reports) == 2, reports
    assert all("Signature Validation: Signature is Valid." in report for report in reports)
    assert "Total document signed" in reports[1]
    # And credshare's own verification reads our signature, not theirs.
    assert "The file is exactly as credshare issued it." in VerifyPage().assert_accepted(
        context, issued
    )


@pytest.mark.parametrize("entry", UPLOADS, ids=lambda cls: cls.name)
def test_one_of_our_signed_documents_uploaded_again_is_signed_again(context, entry):
    ours = stored_bytes(testing.make_document(context.document.learner, context.university))
    point = entry_point(entry, context)

    point.assert_accepted(context, ours)

    issued = point.issued_bytes(context)
    assert issued.startswith(ours)
    verdict = VerifyApi().assert_accepted(context, issued)
    assert verdict["verified"] is True, verdict


@pytest.mark.parametrize("entry", UPLOADS, ids=lambda cls: cls.name)
def test_a_pdf_certified_to_allow_no_changes_is_refused_clearly(context, entry):
    data, _ = testing_pdfs.institution_signed_pdf(certify_no_changes=True)

    entry_point(entry, context).assert_refused(
        context, data, message=CERTIFIED, code="certified_no_changes"
    )
