"""Every issued PDF carries a PAdES signature that pyHanko and poppler's pdfsig both accept."""

import hashlib
import io
import stat
import subprocess

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from django.core.management import call_command
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from credshare.core import testing
from credshare.documents import signing
from credshare.documents.models import IssuerKey


def _ca_pem() -> bytes:
    return signing.ensure_ca().pem


def _pyhanko_status(data: bytes):
    _, _, der = pem.unarmor(_ca_pem())
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)])
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    assert len(reader.embedded_signatures) == 1
    return validate_pdf_signature(reader.embedded_signatures[0], context)


@pytest.fixture(scope="module")
def nss_db(tmp_path_factory, django_db_blocker):
    """An NSS database trusting the test session's demo CA, for pdfsig."""
    certutil = testing.require_program("certutil", package="libnss3-tools")
    directory = tmp_path_factory.mktemp("nss")
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(_ca_pem())
    database = f"sql:{directory}"
    subprocess.run([certutil, "-N", "--empty-password", "-d", database], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [certutil, "-A", "-n", "credshare-ca", "-t", "CT,C,C", "-i", ca_file, "-d", database],
        check=True,
    )
    return database


def _pdfsig(path, nss_db) -> str:
    pdfsig = testing.require_program("pdfsig", package="poppler-utils")
    result = subprocess.run(  # noqa: S603 -- our own arguments
        [pdfsig, "-nssdir", nss_db, path], capture_output=True, text=True, timeout=30
    )
    return result.stdout + result.stderr


@pytest.fixture
def signed(zoe_transcript):
    version = zoe_transcript.versions.get()
    return zoe_transcript, version, version.file.read()


def test_issued_version_is_signed_and_its_hash_is_the_signed_files(signed):
    document, version, data = signed
    assert version.sha256 == hashlib.sha256(data).hexdigest()
    assert version.size == len(data)
    assert b"/ETSI.CAdES.detached" in data
    status = _pyhanko_status(data)
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert "document signing" in status.signing_cert.subject.human_friendly
    assert document.issuer.name_fr in status.signing_cert.subject.human_friendly


def test_signature_embeds_the_ca_and_the_stamp_shows_the_verification_url(signed, settings):
    document, _, data = signed
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    signature = reader.embedded_signatures[0]
    certificates = signature.signed_data["certificates"]
    subjects = {c.chosen.subject.human_friendly for c in certificates}
    assert any("credshare demo document CA" in s for s in subjects)
    # The visible stamp on the first page: the public id as text, and the QR code.
    (widget,) = [a.get_object() for a in reader.root["/Pages"]["/Kids"][0]["/Annots"]]
    assert widget["/T"] == signing.FIELD_NAME
    appearance = widget["/AP"]["/N"]
    # pyHanko writes the hyphens of the text as octal escapes.
    assert str(document.public_id).replace("-", "\\055").encode() in appearance.data
    assert b"/QR Do" in appearance.data
    assert signing.verification_url(document) == (
        f"{settings.CREDSHARE_BASE_URL.rstrip('/')}/verify/{document.public_id}/"
    )


def test_pdfsig_validates_the_signature_against_the_trusted_demo_ca(signed, nss_db, tmp_path):
    _, _, data = signed
    path = tmp_path / "signed.pdf"
    path.write_bytes(data)
    output = _pdfsig(path, nss_db)
    assert "Signature Validation: Signature is Valid." in output, output
    assert "Certificate Validation: Certificate is Trusted." in output, output
    assert "Total document signed" in output, output


def test_a_byte_changed_inside_the_signed_range_fails_both(signed, nss_db, tmp_path):
    _, _, data = signed
    # A byte of the original file (the first signed range starts at the file's start).
    index = data.index(b"ReportLab Generated")
    tampered = data[:index] + b"X" + data[index + 1 :]
    status = _pyhanko_status(tampered)
    assert not status.intact
    assert not status.bottom_line
    path = tmp_path / "tampered.pdf"
    path.write_bytes(tampered)
    output = _pdfsig(path, nss_db)
    assert "Signature Validation: Signature is Valid." not in output, output
    assert "Digest Mismatch" in output or "Invalid" in output, output


def test_content_appended_after_signing_is_not_covered(signed):
    _, _, data = signed
    status = _pyhanko_status(data + b"\n% appended after signing\n")
    assert status.intact
    assert status.coverage != SignatureCoverageLevel.ENTIRE_FILE


def test_a_new_version_is_signed_too(signed):
    from credshare.documents.services import document_version_add

    document, _, _ = signed
    version = document_version_add(document=document, pdf=testing.sample_pdf("corrected"))
    data = version.file.read()
    assert version.sha256 == hashlib.sha256(data).hexdigest()
    status = _pyhanko_status(data)
    assert status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE


def test_issuer_key_is_created_once_with_a_private_key_file(university, settings):
    key = signing.ensure_issuer_key(university)
    assert signing.ensure_issuer_key(university) == key
    assert IssuerKey.objects.filter(issuer=university).count() == 1
    path = settings.CREDSHARE_KEY_DIR / "issuers" / key.key_name
    assert key.key_name.startswith("example-university-") and key.key_name.endswith(".pem")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((settings.CREDSHARE_KEY_DIR / "ca-key.pem").stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()
    assert "PRIVATE" not in key.certificate_pem


def test_signing_setup_is_idempotent(university, free_college):
    call_command("signing_setup", stdout=io.StringIO())
    keys = set(IssuerKey.objects.values_list("pk", flat=True))
    assert len(keys) == 2
    call_command("signing_setup", stdout=io.StringIO())
    assert set(IssuerKey.objects.values_list("pk", flat=True)) == keys


def test_signing_setup_imports_a_key_and_certificate(university, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private_key = ec.generate_private_key(ec.SECP256R1())
    certificate = signing._issue_certificate(
        signing.ensure_ca(), private_key.public_key(), "Imported University"
    )
    (tmp_path / "key.pem").write_bytes(signing._pem_key(private_key))
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    call_command(
        "signing_setup",
        issuer=university.slug,
        import_key=tmp_path / "key.pem",
        import_cert=tmp_path / "cert.pem",
        stdout=io.StringIO(),
    )
    active = IssuerKey.objects.get(issuer=university, is_active=True)
    assert "Imported University" in active.certificate_pem or active.certificate_pem
    zoe = testing.make_user("imported@example.org")
    document = testing.make_document(zoe, university)
    status = _pyhanko_status(document.versions.get().file.read())
    assert status.bottom_line
    assert "Imported University" in status.signing_cert.subject.human_friendly


def test_a_small_hand_made_pdf_is_signed_with_its_stamp_on_the_page(zoe, university):
    from credshare.documents.tests.test_pdf_checks import hand_made_pdf

    document = testing.make_document(zoe, university, pdf=hand_made_pdf())
    data = document.versions.get().file.read()
    status = _pyhanko_status(data)
    assert status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    (widget,) = [a.get_object() for a in reader.root["/Pages"]["/Kids"][0]["/Annots"]]
    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
    assert 0 <= x1 < x2 <= 200 and 0 <= y1 < y2 <= 200
