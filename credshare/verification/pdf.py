"""Verifying a signed PDF: credshare's PAdES signature (intact, made with a certificate from
the network's CA, covering the whole file) and what our records say of the file.

Nothing is fetched from the network: the only trust root is the network's CA, and our issuer
certificates carry no CRL or OCSP address; revocation is credshare's own (a document
withdrawn or revoked in our records), not the certificate's.

Anyone may send a file here, so the file is never parsed in the web process. The parse and
the signature's validation run in a sandbox worker (`credshare.core.sandbox`; the task is
`credshare.verification.pdf_reading.read_signature`): a pooled process with an address-space
and CPU limit per task, killed at its wall-clock limit (2.5 s), inside which pyHanko's reader
is held to bounds on the file's structure (`credshare.core.pdf_limits`: cross-reference
entries, revisions, decoded bytes, page tree, nesting). A file over any of them is refused as
"too complex to check" (VerificationInputError "too_complex": a form error, or a 422 in the
API), and the web process is unharmed whatever the file does.

Why this design: the bounds on the structure refuse the known bombs in milliseconds, but
only a process boundary holds for files nobody has thought of (a new pathological case in a
parser is found every year). Forking a process per file would cost more than the
verification itself, so the workers are pooled, forked from a zygote that has pyHanko
imported (a replacement after a failure costs milliseconds), and replaced after a failure
or 500 tasks. The worker has no database: it asks this process for the moment to validate
at once it knows the signature's byte range (our records say when we signed the file), and
answers with plain facts from which the verdict is built here.
"""

import base64
import datetime
import hashlib
import logging

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from credshare.core import sandbox
from credshare.documents import signing
from credshare.documents.models import DocumentVersion
from credshare.verification.verdicts import (
    CertificateInfo,
    Check,
    Status,
    Verdict,
    VerificationInputError,
    describe_document,
)

logger = logging.getLogger(__name__)

# Readers accept a PDF header anywhere in the first kilobyte (ISO 32000-2, 7.5.2 notes it).
HEADER_WINDOW = 1024
READ_SIGNATURE = "credshare.verification.pdf_reading:read_signature"
sandbox.register_task_module("credshare.verification.pdf_reading")


def _check_input(data: bytes) -> None:
    if len(data) > settings.CREDSHARE_MAX_VERIFY_BYTES:
        raise VerificationInputError(
            "too_large", _("The file is too large to be one of our documents.")
        )
    if b"%PDF-" not in data[:HEADER_WINDOW]:
        raise VerificationInputError("not_pdf", _("This file is not a PDF."))


def too_complex_error() -> VerificationInputError:
    return VerificationInputError("too_complex", _("This PDF is too complex to check."))


def _signed_revision(data: bytes, byte_range: list | None) -> bytes | None:
    """The bytes the signature covers, up to the end of its BYTE_RANGE (the file as it was
    when signed, if content was appended since); None if the byte range is not a standard one."""
    try:
        start1, length1, start2, length2 = (int(value) for value in byte_range)
    except (TypeError, ValueError):
        return None
    end = start2 + length2
    if start1 != 0 or length1 < 0 or start2 < length1 or not 0 < end <= len(data):
        return None
    return data[:end]


def _versions_matching(
    data: bytes, signed_part: bytes | None
) -> tuple[DocumentVersion | None, DocumentVersion | None]:
    """The version whose file DATA is, and, failing that, the version whose file is
    SIGNED_PART (DATA with content appended to it after signing)."""
    digest = hashlib.sha256(data).hexdigest()
    digests = [digest]
    if signed_part is not None and len(signed_part) < len(data):
        digests.append(hashlib.sha256(signed_part).hexdigest())
    versions = {
        version.sha256: version
        for version in DocumentVersion.objects.select_related(
            "document__issuer", "document__learner"
        ).filter(sha256__in=digests)
    }
    version = versions.get(digest)
    origin = None if version is not None else versions.get(digests[-1])
    return version, origin


def _issued_by_network(certificate) -> bool:
    """Whether the network's CA signed CERTIFICATE (it issues issuer certificates directly),
    whatever else is wrong with it. Names prove nothing: the CA's key must have signed it."""
    try:
        x509.load_der_x509_certificate(certificate.dump()).verify_directly_issued_by(
            signing.ensure_ca().certificate
        )
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _hex(value: bytes) -> str:
    return ":".join(f"{byte:02X}" for byte in value)


def _certificate_info(certificate, *, chains_to_network: bool) -> CertificateInfo:
    validity = certificate["tbs_certificate"]["validity"]
    serial = certificate.serial_number
    return CertificateInfo(
        subject=certificate.subject.human_friendly,
        issuer=certificate.issuer.human_friendly,
        serial_number=_hex(serial.to_bytes((serial.bit_length() + 7) // 8 or 1, "big")),
        not_before=validity["not_before"].native,
        not_after=validity["not_after"].native,
        sha256_fingerprint=_hex(certificate.sha256),
        chains_to_network=chains_to_network,
    )


# ---------------------------------------------------------------------------------------------
# The verdict


def _altered(*checks: Check) -> Verdict:
    return Verdict(kind="pdf", status=Status.ALTERED, checks=list(checks))


def _unreadable(data: bytes, message: str, detail: str = "") -> Verdict:
    """ALTERED: the file or its signature cannot be read.

    Damaged files raise all sorts of exceptions inside pyHanko (its own, but also KeyError,
    AttributeError, ValueError), so every exception means "unreadable" rather than a server
    error. A file we issued ourselves must verify, though: for one of those the error (DETAIL,
    the worker's traceback) is a defect of ours, and logged."""
    digest = hashlib.sha256(data).hexdigest()
    if DocumentVersion.objects.filter(sha256=digest).exists():
        logger.error("A PDF credshare issued could not be verified (sha256 %s)\n%s", digest, detail)
    return _altered(Check("signature", False, message))


def _read_signature(data: bytes, moment_for) -> dict:
    """What the sandbox worker reads of DATA's signature (pdf_reading.read_signature).
    MOMENT_FOR(byte_range) answers its question: the moment to validate at."""
    ca = signing.ensure_ca().certificate.public_bytes(serialization.Encoding.DER)
    try:
        return sandbox.run(
            READ_SIGNATURE,
            data,
            params={"field": signing.FIELD_NAME, "ca": base64.b64encode(ca).decode()},
            answer=lambda question: {"moment": moment_for(question["byte_range"]).isoformat()},
        )
    except sandbox.TooComplex:
        raise too_complex_error() from None
    except sandbox.SandboxFailure as failure:
        return {"unreadable": "signature", "detail": failure.detail}


def verify_pdf(data: bytes) -> Verdict:
    """The verdict on a PDF file; VerificationInputError when DATA is not a PDF at all, or is
    too complex to check (code "too_complex": over a bound of credshare.core.pdf_limits, or of
    the sandbox worker's time and memory)."""
    _check_input(data)
    found: dict = {}

    def moment_for(byte_range) -> datetime.datetime:
        # Our records first (hashes are cheap, one query): the version the file is, or the
        # one it was made from when content was appended after signing. A certificate is
        # checked as of the moment we signed the file when we know it from our records: an
        # issuer's certificate expires after some years, the documents it signed do not.
        # Otherwise, as of now.
        found["version"], found["origin"] = _versions_matching(
            data, _signed_revision(data, byte_range)
        )
        known = found["version"] or found["origin"]
        return known.created if known is not None else timezone.now()

    reading = _read_signature(data, moment_for)
    if reading.get("unreadable") == "pdf":
        return _unreadable(
            data,
            _("The file cannot be read as a PDF: it is damaged or incomplete."),
            reading.get("detail", ""),
        )
    if reading.get("unreadable"):
        return _unreadable(
            data,
            _("The signature cannot be read: it is malformed or of an unsupported kind."),
            reading.get("detail", ""),
        )
    signature = reading["signature"]
    if signature is None:
        return _altered(Check("signature", False, _("This PDF carries no signature.")))
    version, origin = found.get("version"), found.get("origin")
    known = version or origin

    intact = signature["intact"] and signature["valid"]
    chains = signature["chains"]
    certificate = asn1_x509.Certificate.load(base64.b64decode(signature["certificate"]))
    verdict = Verdict(kind="pdf", status=Status.VALID)
    verdict.certificate = _certificate_info(certificate, chains_to_network=chains)
    verdict.checks.append(
        Check(
            "signature",
            intact,
            _("The signature is valid: the signed content is unchanged.")
            if intact
            else _("The signature does not match the content: the file was altered."),
        )
    )
    if signature["valid"]:
        # pyHanko builds the chain only for a signature that is itself valid.
        if chains:
            message = _("Signed with a certificate from the credshare network.")
        elif _issued_by_network(certificate):
            message = _(
                "The signing certificate comes from the credshare network but was not valid "
                "for this signature (expired, not yet valid, or not meant for signing)."
            )
        else:
            message = _(
                "The file is signed by a certificate that is not from the credshare network."
            )
        verdict.checks.append(Check("certificate_chain", chains, message))
    covered = signature["entire_file"]
    verdict.checks.append(
        Check(
            "coverage",
            covered,
            _("The signature covers the whole file.")
            if covered
            else _("Content was added after signing: the signature does not cover the whole file."),
        )
    )
    if version is not None:
        record = Check("record", True, _("The file is exactly as credshare issued it."))
    elif origin is not None:
        record = Check(
            "record",
            False,
            _(
                "credshare has no record of this file: it is a modified copy of a document "
                "credshare issued."
            ),
        )
    else:
        record = Check("record", False, _("credshare has no record of this file."))
    verdict.checks.append(record)

    if not all(check.passed for check in verdict.checks):
        verdict.status = Status.ALTERED
    if known is not None:
        # The hash proves the bytes (all of them, or the signed part) are ours: say which
        # document it is, or was made from (describe_document keeps ALTERED).
        describe_document(verdict, known)
    return verdict
