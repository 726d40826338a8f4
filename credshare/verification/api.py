"""The verification API: JSON in and out, no session, no CSRF token (nothing it does acts
for anyone). `POST /credentials/verify` follows the VC-API's verify call; `POST /pdfs/verify`
takes a PDF. Both answer in the request's language (Accept-Language) with the same shape:
`verified`, the names of the checks that passed, the failed ones as errors, and the verdict.
Input that cannot be verified at all is a 400 (413 when too large) with the project's JSON
error shape."""

import functools
import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from credshare.verification.credential import TOO_DEEP, verify_credential
from credshare.verification.pdf import verify_pdf
from credshare.verification.verdicts import Status, Verdict, VerificationInputError

JSON_TYPES = ("application/json", "application/ld+json")
PDF_TYPES = ("application/pdf", "application/octet-stream")
# Room for a multipart body's boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
READ_CHUNK = 64 * 1024


class _Refused(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        self.code = code
        self.message = message
        self.status = status


def _error(code: str, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _too_large(kind: str) -> _Refused:
    if kind == "pdf":
        return _Refused("too_large", _("The file is too large to be one of our documents."), 413)
    return _Refused("too_large", _("The credential is too large to be one of ours."), 413)


def _declared_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _read_body(request: HttpRequest, limit: int, kind: str) -> bytes:
    """The raw body, read from the stream rather than `request.body` so that the limit is
    ours (DATA_UPLOAD_MAX_MEMORY_SIZE is far smaller than a PDF may be); refused as soon as
    it goes past LIMIT."""
    if _declared_length(request) > limit:
        raise _too_large(kind)
    chunks, total = [], 0
    try:
        while chunk := request.read(READ_CHUNK):
            total += len(chunk)
            if total > limit:
                raise _too_large(kind)
            chunks.append(chunk)
    except UnreadablePostError:
        raise _Refused("unreadable", _("The request body could not be read.")) from None
    return b"".join(chunks)


def _require_post(view):
    """405 in JSON, rather than Django's empty page, for anything but POST."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if request.method != "POST":
            response = _error(
                "method_not_allowed", _("Use POST to send what should be verified."), status=405
            )
            response["Allow"] = "POST"
            return response
        return view(request, *args, **kwargs)

    return wrapped


def _verification_response(verdict: Verdict) -> JsonResponse:
    failed = [
        {"check": check.code, "message": str(check.message)}
        for check in verdict.checks
        if not check.passed
    ]
    if verdict.status != Status.VALID and not failed:
        # Every check passed but the document no longer stands as it was (withdrawn,
        # superseded, expired): `verified` is false, and the errors say why.
        failed.append({"check": "document_status", "message": str(verdict.headline)})
    return JsonResponse(
        {
            "verified": verdict.status == Status.VALID,
            "checks": [check.code for check in verdict.checks if check.passed],
            "warnings": [],
            "errors": failed,
            "verdict": verdict.as_json(),
        }
    )


# A file too large to read is a 413; one too complex to check (credshare.core.pdf_limits), a
# well-formed request we refuse to process, a 422.
REFUSAL_STATUS = {"too_large": 413, "too_complex": 422}


def _refusal(error: VerificationInputError) -> JsonResponse:
    return _error(error.code, str(error.message), status=REFUSAL_STATUS.get(error.code, 400))


def _credential_from(request: HttpRequest) -> dict:
    """The credential in a VC-API verify request: {"verifiableCredential": {...}, "options":
    {...}}."""
    if request.content_type not in JSON_TYPES:
        raise _Refused(
            "unsupported_content_type", _("Send the request as JSON (application/json).")
        )
    body = _read_body(request, settings.CREDSHARE_MAX_CREDENTIAL_BYTES, "credential")
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _Refused("malformed_json", _("This is not valid JSON.")) from None
    except RecursionError:
        raise _Refused("not_a_credential", str(TOO_DEEP)) from None
    if not isinstance(envelope, dict) or "verifiableCredential" not in envelope:
        raise _Refused(
            "missing_credential",
            _('Send the credential as {"verifiableCredential": {…}}.'),
        )
    if not isinstance(envelope.get("options", {}), dict):
        raise _Refused("invalid_options", _('"options" must be a JSON object.'))
    credential = envelope["verifiableCredential"]
    if not isinstance(credential, dict):
        # Parsed JSON only: a string here is not parsed again as a credential.
        raise _Refused(
            "not_a_credential", _("This JSON is not a Verifiable Credential (VC Data Model 2.0).")
        )
    return credential


@never_cache
@csrf_exempt
@_require_post
def credential_verify(request: HttpRequest) -> JsonResponse:
    """POST /credentials/verify (VC-API): verify a Verifiable Credential."""
    try:
        credential = _credential_from(request)
        verdict = verify_credential(credential)
    except _Refused as refused:
        return _error(refused.code, refused.message, refused.status)
    except VerificationInputError as error:
        return _refusal(error)
    return _verification_response(verdict)


def _pdf_from(request: HttpRequest) -> bytes:
    """The PDF: the raw body (application/pdf), or the `file` field of a multipart form."""
    limit = settings.CREDSHARE_MAX_VERIFY_BYTES
    if request.content_type == "multipart/form-data":
        if _declared_length(request) > limit + MULTIPART_OVERHEAD:
            raise _too_large("pdf")
        try:
            upload = request.FILES.get("file")
        except RequestDataTooBig:
            raise _too_large("pdf") from None
        except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent, UnreadablePostError):
            raise _Refused("malformed_request", _("The form data could not be read.")) from None
        if upload is None:
            raise _Refused("missing_file", _('Send the PDF in a "file" field.'))
        if upload.size > limit:
            raise _too_large("pdf")
        return upload.read()
    if request.content_type in PDF_TYPES:
        data = _read_body(request, limit, "pdf")
        if not data:
            raise _Refused("missing_file", _("The request has no PDF in it."))
        return data
    raise _Refused(
        "unsupported_content_type",
        _("Send the PDF as the request body (application/pdf) or as multipart/form-data."),
    )


@never_cache
@csrf_exempt
@_require_post
def pdf_verify(request: HttpRequest) -> JsonResponse:
    """POST /pdfs/verify: verify a signed PDF."""
    try:
        verdict = verify_pdf(_pdf_from(request))
    except _Refused as refused:
        return _error(refused.code, refused.message, refused.status)
    except VerificationInputError as error:
        return _refusal(error)
    return _verification_response(verdict)
