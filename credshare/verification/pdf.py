"""Verifying a signed PDF: credshare's PAdES signature (intact, made with a certificate from
the network's CA, covering the whole file) and what our records say of the file.

Nothing is fetched from the network: the only trust root is the network's CA, and our issuer
certificates carry no CRL or OCSP address; revocation is credshare's own (a document
withdrawn or revoked in our records), not the certificate's.
"""

import asyncio
import binascii
import concurrent.futures
import datetime
import hashlib
import io
import logging
import threading

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from django.conf import settings
from django.utils.translation import gettext as _
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_WHITESPACE
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import CertificateRegistry, SimpleTrustManager

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

# ---------------------------------------------------------------------------------------------
# Reading hex strings fast

# pyHanko reads a hex string one byte at a time through Python calls; the signature's
# /Contents is one of about 3,000 (or, with a timestamp, 24,000) hex digits, which costs about
# a quarter of a verification. This reader takes the common case at once (hex digits and
# whitespace up to ">", a string of known length) and hands anything else (a comment, a stray
# character, no ">" in sight) to pyHanko's own reader from the same position, so results and
# errors stay pyHanko's. It is installed for the process, only over the function it was
# written against.
_pyhanko_read_hex_string = getattr(generic, "read_hex_string_from_stream", None)
HEX_STRING_CHUNK = 8 * 1024
HEX_STRING_MAX = 256 * 1024


def read_hex_string_from_stream(stream):
    """pyHanko's read_hex_string_from_stream, faster: STREAM is at the string's "<"."""
    start = stream.tell()
    text, end = b"", -1
    while end == -1 and len(text) < HEX_STRING_MAX:
        more = stream.read(HEX_STRING_CHUNK)
        if not more:
            break
        end = more.find(b">")
        if end != -1:
            end += len(text)
        text += more
    if end != -1:
        digits = text[1:end].translate(None, PDF_WHITESPACE)
        try:
            value = binascii.unhexlify(digits + b"0" if len(digits) % 2 else digits)
        except (binascii.Error, ValueError):
            pass  # not only hex digits and whitespace: pyHanko's reader decides
        else:
            stream.seek(start + end + 1)
            return generic.pdf_string(value)
    stream.seek(start)
    return _pyhanko_read_hex_string(stream)


if getattr(_pyhanko_read_hex_string, "__module__", None) == generic.__name__:
    generic.read_hex_string_from_stream = read_hex_string_from_stream


# ---------------------------------------------------------------------------------------------
# The trust anchor, parsed once per process and key store


class _Trust:
    """The network CA's certificate and a trust manager holding it alone, for one key store.

    The trust manager is never changed by a validation and is shared. The certificate
    registry is not: pyHanko registers every certificate a signature embeds into it, so a
    shared one would collect the certificates of every file anyone uploads. Each
    verification gets a fresh registry seeded with the parsed CA certificate, which costs a
    few dictionary inserts."""

    def __init__(self, ca_certificate):
        self.ca = asn1_x509.Certificate.load(
            ca_certificate.public_bytes(serialization.Encoding.DER)
        )
        self.trust_manager = SimpleTrustManager.build(trust_roots=[self.ca])

    def validation_context(self, moment: datetime.datetime | None) -> ValidationContext:
        registry = CertificateRegistry()
        registry.register(self.ca)
        return ValidationContext(
            trust_manager=self.trust_manager,
            certificate_registry=registry,
            moment=moment,
            allow_fetching=False,
            revocation_mode="soft-fail",
        )


_trust_cache: dict[bytes, _Trust] = {}
_trust_lock = threading.Lock()


def _trust() -> _Trust:
    # Keyed by the CA certificate itself: importing a new CA (signing_setup) or switching key
    # stores (tests) gets a new anchor without anyone clearing this cache.
    ca_certificate = signing.ensure_ca().certificate
    key = ca_certificate.fingerprint(hashes.SHA256())
    trust = _trust_cache.get(key)
    if trust is None:
        with _trust_lock:
            trust = _trust_cache.get(key) or _Trust(ca_certificate)
            _trust_cache[key] = trust
    return trust


# ---------------------------------------------------------------------------------------------
# Running pyHanko's validation


def _run(coroutine):
    """Run pyHanko's coroutine to completion from synchronous code.

    Like signing, it cannot start an event loop inside a running one (an async caller, a test
    driving a browser): then it runs in a short-lived thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _loop().run_until_complete(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


class _ThreadLoop(threading.local):
    """One event loop per thread, kept: creating and closing one for every file (what
    asyncio.run does) costs about 0.2 ms. Closed when its thread ends."""

    def __init__(self):
        self.holder = _LoopHolder()


class _LoopHolder:
    def __init__(self):
        self.loop = asyncio.new_event_loop()

    def __del__(self):
        self.loop.close()


_thread_loop = _ThreadLoop()


def _loop() -> asyncio.AbstractEventLoop:
    return _thread_loop.holder.loop


def _validate(embedded, context: ValidationContext):
    # skip_diff: pyHanko's difference analysis judges whether updates appended after the
    # signature are acceptable ones (form filling, a later signature). For us any appended
    # content is an alteration (the coverage check), so the analysis, which re-reads the
    # whole document, would only cost time. When the signature covers the entire file there
    # is nothing to analyse either.
    return _run(
        async_validate_pdf_signature(embedded, signer_validation_context=context, skip_diff=True)
    )


# ---------------------------------------------------------------------------------------------
# Reading the file


class _Unreadable(Exception):
    """The PDF, or its signature, cannot be read."""


def _check_input(data: bytes) -> None:
    if len(data) > settings.CREDSHARE_MAX_VERIFY_BYTES:
        raise VerificationInputError(
            "too_large", _("The file is too large to be one of our documents.")
        )
    if b"%PDF-" not in data[:HEADER_WINDOW]:
        raise VerificationInputError("not_pdf", _("This file is not a PDF."))


def _find_signature(data: bytes):
    """credshare's signature in the file, another signature if it has no credshare one, or
    None if it is not signed at all. _Unreadable when pyHanko cannot read the PDF."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_regular_signatures
    except Exception as error:  # see _unreadable
        raise _Unreadable from error
    for embedded in signatures:
        if embedded.field_name == signing.FIELD_NAME:
            return embedded
    # Signed, but not in our field: validate it anyway, so that the verdict can say whose
    # certificate it is rather than merely "no signature".
    return signatures[0] if signatures else None


def _signed_revision(data: bytes, embedded) -> bytes | None:
    """The bytes the signature covers, up to the end of its byte range (the file as it was
    when signed, if content was appended since); None if the byte range is not a standard one."""
    try:
        start1, length1, start2, length2 = (int(value) for value in embedded.byte_range)
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


def _unreadable(data: bytes, message: str) -> Verdict:
    """ALTERED: the file or its signature cannot be read. Called while handling the error.

    Damaged files raise all sorts of exceptions inside pyHanko (its own, but also KeyError,
    AttributeError, ValueError), so every exception means "unreadable" rather than a server
    error. A file we issued ourselves must verify, though: for one of those the error is a
    defect of ours, logged with its traceback."""
    digest = hashlib.sha256(data).hexdigest()
    if DocumentVersion.objects.filter(sha256=digest).exists():
        logger.exception("A PDF credshare issued could not be verified (sha256 %s)", digest)
    return _altered(Check("signature", False, message))


def verify_pdf(data: bytes) -> Verdict:
    """The verdict on a PDF file; VerificationInputError when DATA is not a PDF at all."""
    _check_input(data)
    try:
        embedded = _find_signature(data)
    except _Unreadable:
        return _unreadable(
            data, _("The file cannot be read as a PDF: it is damaged or incomplete.")
        )
    if embedded is None:
        return _altered(Check("signature", False, _("This PDF carries no signature.")))

    # Our records first (hashes are cheap, one query): the version the file is, or the one it
    # was made from when content was appended after signing.
    version, origin = _versions_matching(data, _signed_revision(data, embedded))
    known = version or origin
    # A certificate is checked as of the moment we signed the file when we know it from our
    # records: an issuer's certificate expires after some years, the documents it signed do
    # not. Otherwise, as of now.
    moment = known.created if known is not None else None

    try:
        status = _validate(embedded, _trust().validation_context(moment))
    except Exception:  # a malformed CMS structure, an unsupported algorithm, a broken xref
        return _unreadable(
            data, _("The signature cannot be read: it is malformed or of an unsupported kind.")
        )

    intact = bool(status.intact and status.valid)
    chains = status.validation_path is not None and status.trust_problem_indic is None
    verdict = Verdict(kind="pdf", status=Status.VALID)
    verdict.certificate = _certificate_info(status.signing_cert, chains_to_network=chains)
    verdict.checks.append(
        Check(
            "signature",
            intact,
            _("The signature is valid: the signed content is unchanged.")
            if intact
            else _("The signature does not match the content: the file was altered."),
        )
    )
    if status.valid:
        # pyHanko builds the chain only for a signature that is itself valid.
        if chains:
            message = _("Signed with a certificate from the credshare network.")
        elif _issued_by_network(status.signing_cert):
            message = _(
                "The signing certificate comes from the credshare network but was not valid "
                "for this signature (expired, not yet valid, or not meant for signing)."
            )
        else:
            message = _(
                "The file is signed by a certificate that is not from the credshare network."
            )
        verdict.checks.append(Check("certificate_chain", chains, message))
    covered = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
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
