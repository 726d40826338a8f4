"""The API's one error shape, and the handlers that turn every failure into it.

Every error answers `{"error": {"code": "...", "message": "...", "details": [...]}}`: `code` is
stable for programs, `message` is for people (in the request's language, from
Accept-Language), `details` (only when there are any) says which part of the request is at
fault. Unexpected errors answer 500 "server_error" and say nothing more."""

import json
import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from credshare.core.errors import ApplicationError
from credshare.documents.bulk import BulkRejected
from credshare.documents.pdf_checks import PdfRejected

logger = logging.getLogger("credshare.api")

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


class ApiError(ApplicationError):
    """A refusal with its HTTP status, its code, and maybe details and response headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message, code=code)
        self.status = status
        self.details = details
        self.headers = headers or {}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    details: list[dict] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    error = {"code": code, "message": str(message)}
    if details:
        error["details"] = details
    response = HttpResponse(
        json.dumps({"error": error}, ensure_ascii=False),
        status=status,
        content_type=JSON_CONTENT_TYPE,
    )
    # An error is about this request only: no cache keeps it.
    response["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def invalid_key_response(message: str) -> HttpResponse:
    return error_response(
        401, "invalid_key", message, headers={"WWW-Authenticate": 'Bearer realm="credshare"'}
    )


def not_found_response() -> HttpResponse:
    return error_response(404, "not_found", _("There is nothing at this address."))


# Codes of the statuses that Ninja or Django raise without one of ours.
_STATUS_CODES = {
    400: "invalid_request",
    401: "invalid_key",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "rate_limited",
}


def _validation_details(errors: list[dict]) -> list[dict]:
    details = []
    for error in errors:
        detail = {
            "loc": [str(part) if not isinstance(part, int) else part for part in error["loc"]],
            "code": str(error.get("type", "invalid")),
            "message": str(error.get("msg", "")),
        }
        details.append(detail)
    return details


def _on_api_error(request: HttpRequest, error: ApiError) -> HttpResponse:
    return error_response(
        error.status, error.code, error.message, details=error.details, headers=error.headers
    )


def _on_application_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    details = [{"field": error.field, "message": error.message}] if error.field else None
    return error_response(getattr(error, "status", 400), error.code, error.message, details=details)


def _on_pdf_rejected(request: HttpRequest, error: PdfRejected) -> HttpResponse:
    # A PDF too complex to check is well-formed input we refuse to process: 422.
    return error_response(
        422 if error.code == "too_complex" else 400,
        "invalid_pdf",
        error.message,
        details=[{"field": "pdf_base64", "code": error.code, "message": error.message}],
    )


def _on_bulk_rejected(request: HttpRequest, error: BulkRejected) -> HttpResponse:
    archive_fault = error.code.startswith(("archive_", "zip_bomb", "path_traversal"))
    field = "pdf_archive" if archive_fault else "rows"
    return error_response(
        400,
        error.code,
        error.message,
        details=[{"field": field, "code": error.code, "message": error.message}],
    )


def _on_validation_error(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    return error_response(
        422,
        "invalid_request",
        _("The request is not valid: see the details."),
        details=_validation_details(error.errors),
    )


def _on_authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return invalid_key_response(_("Send a valid API key: Authorization: Bearer csk_…"))


def _on_http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    status = error.status_code
    if status == 400:
        message = _("The request body cannot be read: send JSON, as documented.")
    elif status == 429:
        message = _("Too many requests: wait, then try again.")
    else:
        message = _("The request cannot be served.")
    return error_response(status, _STATUS_CODES.get(status, "invalid_request"), message)


def _on_not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return not_found_response()


def _on_permission_denied(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    return error_response(403, "forbidden", _("This API key may not do that."))


def _on_too_large(request: HttpRequest, error: Exception) -> HttpResponse:
    return error_response(413, "too_large", _("The request body is too large."))


def _on_unreadable(request: HttpRequest, error: Exception) -> HttpResponse:
    return error_response(400, "invalid_request", _("The request body cannot be read."))


def _on_unexpected(request: HttpRequest, error: Exception) -> HttpResponse:
    logger.exception("API %s %s failed", request.method, request.path)
    return error_response(
        500, "server_error", _("Something went wrong on our side. Try again later.")
    )


def install_exception_handlers(api) -> None:
    """Answer every failure of API with the error shape. The most specific class wins."""
    api.add_exception_handler(ApiError, _on_api_error)
    api.add_exception_handler(ApplicationError, _on_application_error)
    api.add_exception_handler(PdfRejected, _on_pdf_rejected)
    api.add_exception_handler(BulkRejected, _on_bulk_rejected)
    api.add_exception_handler(NinjaValidationError, _on_validation_error)
    api.add_exception_handler(AuthenticationError, _on_authentication_error)
    api.add_exception_handler(HttpError, _on_http_error)
    api.add_exception_handler(Http404, _on_not_found)
    api.add_exception_handler(PermissionDenied, _on_permission_denied)
    api.add_exception_handler(RequestDataTooBig, _on_too_large)
    api.add_exception_handler(SuspiciousOperation, _on_unreadable)
    api.add_exception_handler(MultiPartParserError, _on_unreadable)
    api.add_exception_handler(UnreadablePostError, _on_unreadable)
    api.add_exception_handler(Exception, _on_unexpected)
