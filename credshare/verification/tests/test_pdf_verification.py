"""Verifying a PDF someone holds: credshare's signature on it, the network's certificate
behind the signature, whether anything was added after signing, and what our records say of
the document."""

import asyncio
import datetime
import hashlib
import io
import json

import pytest
import time_machine
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.db import connections
from django.utils import timezone
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from credshare.core import sandbox, testing
from credshare.documents import signing
from credshare.documents.models import Document, IssuerKey
from credshare.documents.services import document_version_add
from credshare.verification import pdf_reading
from credshare.verification.pdf import verify_pdf
from credshare.verification.verdicts import Status, VerificationInputError


def stored_bytes(version) -> bytes:
    with version.file.open("rb") as handle:
        return handle.read()


def issued_pdf(document) -> bytes:
    return stored_bytes(document.versions.first())


def failed_checks(verdict) -> list[str]:
    return [check.code for check in verdict.checks if not check.passed]


def message_of(verdict, code: str) -> str:
    return next(str(check.message) for check in verdict.checks if check.code == code)


# --- what our records say --------------------------------------------------------------------


def test_a_freshly_issued_document_is_valid_and_names_its_document(zoe_transcript):
    verdict = verify_pdf(issued_pdf(zoe_transcript))

    assert verdict.kind == "pdf"
    assert verdict.status == Status.VALID
    assert failed_checks(verdict) == []
    assert {check.code for check in verdict.checks} == {
        "signature",
        "certificate_chain",
        "coverage",
        "record",
    }
    assert verdict.public_id == str(zoe_transcript.public_id)
    assert verdict.learner_name == "Zoé Citoyenne"
    assert verdict.issuer_slug == "example-university"
    assert verdict.version_number == verdict.newest_version_number == 1


def test_the_verdict_describes_the_issuers_certificate(zoe_transcript):
    verdict = verify_pdf(issued_pdf(zoe_transcript))

    issuer_key = IssuerKey.objects.get(issuer=zoe_transcript.issuer, is_active=True)
    certificate = x509.load_pem_x509_certificate(issuer_key.certificate_pem.encode())
    info = verdict.certificate
    assert info.chains_to_network is True
    assert info.sha256_fingerprint.replace(":", "").lower() == (
        certificate.fingerprint(hashes.SHA256()).hex()
    )
    assert int(info.serial_number.replace(":", ""), 16) == certificate.serial_number
    assert "Example University" in info.subject
    assert "credshare demo document CA" in info.issuer
    assert info.not_before == certificate.not_valid_before_utc
    assert info.not_after == certificate.not_valid_after_utc
    assert verdict.as_json()["certificate"]["chains_to_network"] is True


def test_after_a_correction_the_old_copy_is_superseded_and_the_new_one_valid(zoe_transcript):
    old = issued_pdf(zoe_transcript)
    new_version = document_version_add(document=zoe_transcript, pdf=testing.sample_pdf("corrected"))

    old_verdict = verify_pdf(old)
    new_verdict = verify_pdf(stored_bytes(new_version))

    assert old_verdict.status == Status.SUPERSEDED
    assert (old_verdict.version_number, old_verdict.newest_version_number) == (1, 2)
    assert new_verdict.status == Status.VALID
    assert new_verdict.version_number == 2


@pytest.mark.parametrize(("revoke", "status"), [(False, Status.WITHDRAWN), (True, Status.REVOKED)])
def test_a_withdrawn_or_revoked_document_says_so_without_the_reason(zoe_transcript, revoke, status):
    data = issued_pdf(zoe_transcript)
    testing.withdraw_document(zoe_transcript, "Grades entered in error", revoke=revoke)

    verdict = verify_pdf(data)

    assert verdict.status == status
    assert "Grades entered in error" not in json.dumps(verdict.as_json())
    assert failed_checks(verdict) == []


def test_a_document_past_its_validity_is_expired(zoe_transcript):
    Document.objects.filter(pk=zoe_transcript.pk).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )

    verdict = verify_pdf(issued_pdf(zoe_transcript))

    assert verdict.status == Status.EXPIRED


def test_a_document_stays_valid_after_its_signing_certificate_expires(zoe_transcript):
    # Issuer certificates last five years, diplomas for ever: the certificate is checked as of
    # when we signed the file (our records say when), not as of today.
    data = issued_pdf(zoe_transcript)
    later = timezone.now() + datetime.timedelta(days=365 * (signing.ISSUER_CERT_YEARS + 1))

    with time_machine.travel(later, tick=False):
        verdict = verify_pdf(data)

    assert verdict.certificate.not_after < later
    assert verdict.status == Status.VALID
    assert failed_checks(verdict) == []


# --- altered copies ---------------------------------------------------------------------------


def test_one_byte_changed_in_the_page_content_is_altered(zoe_transcript):
    data = issued_pdf(zoe_transcript)
    # The first page's content stream, well before the signature's own /Contents.
    start = data.index(b"stream", data.index(b"/Filter")) + len(b"stream\n")
    end = data.index(b"endstream", start)
    position = (start + end) // 2
    assert position < data.index(b"/Contents <")
    changed = data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]

    verdict = verify_pdf(changed)

    assert verdict.status == Status.ALTERED
    assert "signature" in failed_checks(verdict)
    assert "the file was altered" in message_of(verdict, "signature")
    assert verdict.public_id == ""


def add_note_after_signing(data: bytes) -> bytes:
    """What an editor's "save" does to a signed file: an incremental update, here a text note
    on the first page and a new document title."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    page_ref = writer.find_page_for_modification(0)[0]
    page = page_ref.get_object()
    note = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/Text"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.FloatObject(value) for value in (72, 72, 96, 96)]
                ),
                generic.NameObject("/Contents"): generic.pdf_string("Grade changed to A+"),
            }
        )
    )
    annotations = list(page.get("/Annots", generic.ArrayObject()))
    page[generic.NameObject("/Annots")] = generic.ArrayObject([*annotations, note])
    writer.update_container(page)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def test_content_added_after_signing_is_altered_and_names_the_document_it_came_from(
    zoe_transcript,
):
    original = issued_pdf(zoe_transcript)
    updated = add_note_after_signing(original)
    assert updated.startswith(original) and len(updated) > len(original)

    verdict = verify_pdf(updated)

    assert verdict.status == Status.ALTERED
    assert failed_checks(verdict) == ["coverage", "record"]
    assert "Content was added after signing" in message_of(verdict, "coverage")
    assert "modified copy" in message_of(verdict, "record")
    # The page can say "a modified copy of document X".
    assert verdict.public_id == str(zoe_transcript.public_id)
    assert verdict.version_number == 1


def test_a_pdf_without_its_signature_is_altered(zoe_transcript):
    signed = issued_pdf(zoe_transcript)
    # Signing appends a revision: the file before it is the unsigned original.
    unsigned = signed[: signed.index(b"%%EOF") + len(b"%%EOF")] + b"\n"

    verdict = verify_pdf(unsigned)

    assert verdict.status == Status.ALTERED
    assert failed_checks(verdict) == ["signature"]
    assert message_of(verdict, "signature") == "This PDF carries no signature."


def test_an_unsigned_pdf_is_altered(db):
    verdict = verify_pdf(testing.sample_pdf("never signed"))

    assert verdict.status == Status.ALTERED
    assert failed_checks(verdict) == ["signature"]


def make_ca(name: x509.Name):
    """A throwaway CA named NAME: its key and certificate."""
    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def der(certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def signer_under(
    ca_key, ca_certificate, *, not_before=None, not_after=None
) -> signers.SimpleSigner:
    """A signer whose certificate CA_KEY issues (by default valid from yesterday for a month),
    with the key usages of credshare's issuer certificates."""
    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Example University (fr)")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - datetime.timedelta(days=1))
        .not_valid_after(not_after or now + datetime.timedelta(days=30))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return signers.SimpleSigner(
        signing_cert=der(certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs([der(ca_certificate)]),
    )


def sign_outside(pdf: bytes, signer, field_name: str) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    output = io.BytesIO()
    signers.sign_pdf(
        writer,
        signers.PdfSignatureMetadata(field_name=field_name, md_algorithm="sha256"),
        signer=signer,
        output=output,
    )
    return output.getvalue()


@pytest.mark.parametrize(
    ("ca_subject", "field_name"),
    [
        # A CA of its own, and a signature field of its own.
        ("Forgery Inc. CA", "Signature1"),
        # A CA that copies the network CA's name, signing credshare's field: names prove
        # nothing, only the CA's key does.
        ("credshare demo document CA", signing.FIELD_NAME),
    ],
)
def test_a_pdf_signed_outside_the_network_is_altered(db, ca_subject, field_name):
    signing.ensure_ca()
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "credshare"),
            x509.NameAttribute(NameOID.COMMON_NAME, ca_subject),
        ]
    )
    signer = signer_under(*make_ca(ca_name))
    data = sign_outside(testing.sample_pdf("forged"), signer, field_name)

    verdict = verify_pdf(data)

    assert verdict.status == Status.ALTERED
    assert "certificate_chain" in failed_checks(verdict)
    assert "signature" not in failed_checks(verdict)
    assert "not from the credshare network" in message_of(verdict, "certificate_chain")
    assert verdict.certificate.chains_to_network is False
    assert ca_subject in verdict.certificate.issuer


def test_a_network_certificate_that_had_expired_is_not_a_valid_chain(db):
    # Signed with a certificate our CA issued, but used after it expired (and the file is not
    # one we issued, so no record tells when it was signed).
    ca = signing.ensure_ca()
    now = datetime.datetime.now(datetime.UTC)
    signer = signer_under(
        ca.key,
        ca.certificate,
        not_before=now - datetime.timedelta(days=20),
        not_after=now - datetime.timedelta(days=10),
    )
    data = sign_outside(testing.sample_pdf("late"), signer, signing.FIELD_NAME)

    verdict = verify_pdf(data)

    assert verdict.status == Status.ALTERED
    assert "certificate_chain" in failed_checks(verdict)
    assert "comes from the credshare network but was not valid" in message_of(
        verdict, "certificate_chain"
    )
    assert verdict.certificate.chains_to_network is False


# --- input that is not a PDF, or not one we can read ------------------------------------------


@pytest.mark.parametrize(
    "data", [b"hello", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, b"", b"%PD"], ids=repr
)
def test_something_that_is_not_a_pdf_is_refused(db, data):
    with pytest.raises(VerificationInputError) as raised:
        verify_pdf(data)

    assert raised.value.code == "not_pdf"


def test_a_file_over_the_size_limit_is_refused(settings, zoe_transcript):
    data = issued_pdf(zoe_transcript)
    settings.CREDSHARE_MAX_VERIFY_BYTES = len(data) - 1

    with pytest.raises(VerificationInputError) as raised:
        verify_pdf(data)

    assert raised.value.code == "too_large"


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999, "header"])
def test_a_truncated_pdf_is_altered_never_an_error(zoe_transcript, keep):
    data = issued_pdf(zoe_transcript)
    truncated = data[:16] if keep == "header" else data[: int(len(data) * keep)]

    verdict = verify_pdf(truncated)

    assert verdict.status == Status.ALTERED
    assert failed_checks(verdict) == ["signature"]


def test_garbage_after_a_pdf_header_is_altered(db):
    verdict = verify_pdf(b"%PDF-1.7\n" + hashlib.sha512(b"noise").digest() * 50)

    assert verdict.status == Status.ALTERED
    assert "damaged" in message_of(verdict, "signature")


def test_a_file_we_issued_that_fails_to_verify_is_logged_as_our_defect(
    zoe_transcript, monkeypatch, caplog
):
    # The worker's task raises something nobody expected (the sandbox reports it).
    def broken(*args, **kwargs):
        raise sandbox.SandboxFailure("RuntimeError: a defect in the verifier")

    monkeypatch.setattr("credshare.core.sandbox.run", broken)

    verdict = verify_pdf(issued_pdf(zoe_transcript))

    # Never a server error, but never silent either.
    assert verdict.status == Status.ALTERED
    assert failed_checks(verdict) == ["signature"]
    [record] = [r for r in caplog.records if r.name == "credshare.verification.pdf"]
    assert record.levelname == "ERROR"
    assert "a defect in the verifier" in caplog.text


# Committed data: the ORM opens another connection inside the coroutine's context, which
# would not see (or would wait on) the test's open transaction.
@pytest.mark.django_db(transaction=True)
def test_verifying_from_inside_an_event_loop_works(zoe_transcript, monkeypatch):
    # An async caller (or a test driving a browser) has an event loop running in its thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    data = issued_pdf(zoe_transcript)

    async def verify():
        try:
            return verify_pdf(data)
        finally:
            # The connection opened in the coroutine's context: nothing else would close it.
            connections.close_all()

    assert asyncio.run(verify()).status == Status.VALID


# --- the fast hex string reader reads what pyHanko's reads -----------------------------------


def read_with(reader, data: bytes):
    """What READER makes of a hex string at the start of DATA, and where it leaves the stream;
    or the exception it raises."""
    stream = io.BytesIO(data)
    try:
        value = reader(stream)
    except Exception as error:
        return type(error), str(error)
    return type(value), bytes(value.original_bytes), stream.tell()


@pytest.mark.parametrize(
    "data",
    [
        b"<3082058906092A864886F70D01070> /Type /Sig",
        b"<30 82\n05 89\r\n06\t09\x00 2a 86>>",
        b"<abc>",
        b"<>",
        b"<FEFF00480069>",  # a UTF-16 text string
        b"<30 % a comment\n 82>",
        b"<30 82 zz>",
        b"<30 82",
        b"<" + b"0123456789abcdef" * 3000 + b">endobj",  # longer than one chunk
    ],
    ids=lambda data: repr(data[:24]),
)
def test_hex_strings_read_the_same_as_pyhankos_reader_reads_them(data):
    assert generic.read_hex_string_from_stream is pdf_reading.read_hex_string_from_stream
    ours = read_with(pdf_reading.read_hex_string_from_stream, data)
    theirs = read_with(pdf_reading._pyhanko_read_hex_string, data)

    assert ours == theirs
