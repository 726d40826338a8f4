"""Reading and validating a PDF's signature, run in a sandbox worker (`credshare.core.sandbox`).

Django-free: the task gets the file, the name of credshare's signature field and the network
CA's certificate; it asks the caller (`credshare.verification.pdf`, which holds the database)
for the moment to validate at once it knows the signature's byte range, and answers with
plain facts (intact, trusted, coverage, the signing certificate) from which the caller builds
the verdict. The file's structure is bounded by `credshare.core.pdf_limits`.
"""

import asyncio
import base64
import binascii
import datetime
import traceback

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_WHITESPACE
from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import CertificateRegistry, SimpleTrustManager

from credshare.core.pdf_limits import (
    bounded,
    check_page_tree,
    open_untrusted,
    raise_if_over_a_bound,
)

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
# The trust anchor, parsed once per worker and CA


class _Trust:
    """The network CA's certificate and a trust manager holding it alone.

    The trust manager is never changed by a validation and is shared. The certificate
    registry is not: pyHanko registers every certificate a signature embeds into it, so a
    shared one would collect the certificates of every file anyone uploads. Each
    verification gets a fresh registry seeded with the parsed CA certificate."""

    def __init__(self, ca_der: bytes):
        self.ca = asn1_x509.Certificate.load(ca_der)
        self.trust_manager = SimpleTrustManager.build(trust_roots=[self.ca])

    def validation_context(self, moment: datetime.datetime) -> ValidationContext:
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


def _trust(ca_der: bytes) -> _Trust:
    trust = _trust_cache.get(ca_der)
    if trust is None:
        trust = _trust_cache[ca_der] = _Trust(ca_der)
    return trust


_loop = None


def _validate(embedded, context: ValidationContext):
    # A worker runs one task at a time, in one thread: one event loop, kept.
    global _loop
    if _loop is None:
        _loop = asyncio.new_event_loop()
    # skip_diff: pyHanko's difference analysis judges whether updates appended after the
    # signature are acceptable ones (form filling, a later signature). For us any appended
    # content is an alteration (the coverage check), so the analysis, which re-reads the
    # whole document, would only cost time.
    return _loop.run_until_complete(
        async_validate_pdf_signature(embedded, signer_validation_context=context, skip_diff=True)
    )


def _find_signature(reader, field_name: str):
    """credshare's last signature in the file, another signature if it has no credshare one,
    or None if it is not signed at all.

    Our field is FIELD_NAME, or FIELD_NAME-<n> when the file we signed already held a
    credshare signature (signing.sign_pdf); the last one, in signing order, is the one that
    covers what we issued."""
    signatures = reader.embedded_regular_signatures
    ours = [
        embedded
        for embedded in signatures
        if embedded.field_name == field_name
        or (embedded.field_name or "").startswith(f"{field_name}-")
    ]
    if ours:
        return ours[-1]
    # Signed, but not in our field: validate it anyway, so that the verdict can say whose
    # certificate it is rather than merely "no signature".
    return signatures[0] if signatures else None


def _byte_range(embedded) -> list[int] | None:
    try:
        return [int(value) for value in embedded.byte_range]
    except (TypeError, ValueError):
        return None


def read_signature(data: bytes, params: dict, ask) -> dict:
    """The facts about DATA's signature (a sandbox task); see the module's docstring.

    {"unreadable": "pdf" | "signature", "detail": traceback}, {"signature": None}, or
    {"signature": {"intact", "valid", "chains", "entire_file", "certificate"}}."""
    with bounded():
        try:
            reader = open_untrusted(data)
            check_page_tree(reader)
            embedded = _find_signature(reader, params["field"])
        except Exception as error:  # damaged files raise all sorts of exceptions inside pyHanko
            raise_if_over_a_bound(error)
            return {"unreadable": "pdf", "detail": traceback.format_exc(limit=10)}
        if embedded is None:
            return {"signature": None}

        answer = ask({"byte_range": _byte_range(embedded)})
        moment = datetime.datetime.fromisoformat(answer["moment"])
        try:
            context = _trust(base64.b64decode(params["ca"])).validation_context(moment)
            status = _validate(embedded, context)
        except Exception as error:  # a malformed CMS structure, an unsupported algorithm, ...
            raise_if_over_a_bound(error)
            return {"unreadable": "signature", "detail": traceback.format_exc(limit=10)}
    certificate = status.signing_cert
    return {
        "signature": {
            "intact": bool(status.intact),
            "valid": bool(status.valid),
            "chains": status.validation_path is not None and status.trust_problem_indic is None,
            "entire_file": status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
            "certificate": base64.b64encode(certificate.dump()).decode() if certificate else None,
        }
    }
