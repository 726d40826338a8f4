"""Who calls, and whether they may: the API key, its rate limit, its scopes, the body size.

All of it runs in Ninja's authentication step, before the request body is parsed, so that a
request without a key, over its rate or its size never gets its body read. In that order:
the wrong keys sent from the client's address this minute (429 "rate_limited"), the key
(401 "invalid_key"), the key's rate (429 "rate_limited", counted for every request of an
authenticated key), the operation's scope (403 "missing_scope"), the body's declared size
(413 "too_large")."""

import io
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from credshare.api.errors import ApiError
from credshare.api.models import ApiKey
from credshare.api.services import api_key_authenticate
from credshare.core.client_address import client_address

logger = logging.getLogger("credshare.api")

RATE_WINDOW_SECONDS = 60


class Body:
    """What an operation's request body may be, for its size limit."""

    NONE = "none"  # no body expected: the JSON limit applies to whatever comes
    JSON = "json"  # JSON, at most CREDSHARE_API_MAX_JSON_BYTES
    JSON_WITH_PDF = "json_with_pdf"  # JSON that may carry a PDF in base64
    MULTIPART = "multipart"  # files, at most CREDSHARE_API_MAX_BODY_BYTES


def pdf_json_limit() -> int:
    """A JSON body carrying a PDF of the largest accepted size in base64, with room for the
    rest of the document's fields."""
    pdf_base64 = math.ceil(settings.CREDSHARE_MAX_UPLOAD_BYTES / 3) * 4
    return pdf_base64 + settings.CREDSHARE_API_MAX_JSON_BYTES


def body_limit(kind: str) -> int:
    if kind == Body.MULTIPART:
        return settings.CREDSHARE_API_MAX_BODY_BYTES
    if kind == Body.JSON_WITH_PDF:
        return min(pdf_json_limit(), settings.CREDSHARE_API_MAX_BODY_BYTES)
    return min(settings.CREDSHARE_API_MAX_JSON_BYTES, settings.CREDSHARE_API_MAX_BODY_BYTES)


def _window_count(counter: str, *, add: int) -> tuple[int, int] | None:
    """Add ADD to COUNTER's count in the current one-minute window: (the count, seconds to the
    next window); None when the cache fails, which lets the request through (an outage of the
    cache must not become an outage of the API)."""
    now = time.time()
    window = int(now // RATE_WINDOW_SECONDS)
    counter = f"{counter}:{window}"
    try:
        if add:
            cache.add(counter, 0, timeout=2 * RATE_WINDOW_SECONDS)
            try:
                count = cache.incr(counter, add)
            except ValueError:  # expired between add and incr
                cache.set(counter, add, timeout=2 * RATE_WINDOW_SECONDS)
                count = add
        else:
            count = cache.get(counter, 0)
    except Exception:
        logger.warning("API rate limit: the cache cannot be reached", exc_info=True)
        return None
    return count, max(1, math.ceil((window + 1) * RATE_WINDOW_SECONDS - now))


def rate_limit_wait(key: ApiKey) -> int | None:
    """Count one request of KEY in the current one-minute window; the seconds until the next
    window when KEY is over its limit, else None."""
    limit = settings.CREDSHARE_API_RATE_LIMIT
    if not limit or limit < 0:
        return None
    # The key's public id, not its row id: counters never carry over to another key.
    counted = _window_count(f"credshare:api:rate:{key.public_id}", add=1)
    if counted is None or counted[0] <= limit:
        return None
    return counted[1]


def failed_keys_wait(request: HttpRequest, *, failed: bool) -> int | None:
    """Requests with a wrong key, counted per client address (the client's behind our
    proxies: core.client_address); FAILED counts this one. The seconds to wait when the
    address sent CREDSHARE_API_FAILED_KEY_LIMIT of them this minute, else None."""
    limit = settings.CREDSHARE_API_FAILED_KEY_LIMIT
    if not limit or limit < 0:
        return None
    counter = f"credshare:api:failed-keys:{client_address(request)}"
    counted = _window_count(counter, add=1 if failed else 0)
    if counted is None or counted[0] < limit:
        return None
    return counted[1]


def _check_body_size(request: HttpRequest, kind: str) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiError(
            400, "invalid_request", _("The Content-Length header is not a number.")
        ) from None
    limit = body_limit(kind)
    if length > limit:
        raise ApiError(
            413,
            "too_large",
            _("The request body is larger than %(limit)s bytes.") % {"limit": limit},
        )
    if (
        request.content_type != "multipart/form-data"
        and settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None
        and length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    ):
        # A JSON body with a PDF in base64 may exceed Django's limit on bodies read into
        # memory (2.5 MB by default), which `request.body` enforces; this operation's own,
        # larger limit is checked above. Read the body here as `request.body` would, so that
        # Ninja's parsing then finds it read.
        request._body = request.read()
        request._stream = io.BytesIO(request._body)


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer csk_…`: an active API key with one of SCOPES."""

    openapi_bearerFormat = "csk_…"  # noqa: N815 -- the OpenAPI field's own name
    openapi_description = (
        "An API key made by an administrator of your organization "
        "(Organization → API keys): `Authorization: Bearer csk_…`."
    )

    def __init__(self, *scopes: str, body: str = Body.NONE):
        self.scopes = scopes
        self.body = body
        super().__init__()

    def __call__(self, request: HttpRequest) -> ApiKey:
        # An address that sent many wrong keys this minute gets none checked until the next.
        wait = failed_keys_wait(request, failed=False)
        if wait is not None:
            raise ApiError(
                429,
                "rate_limited",
                _(
                    "Too many requests with a wrong API key came from your address. Try again "
                    "in %(seconds)s seconds."
                )
                % {"seconds": wait},
                headers={"Retry-After": str(wait)},
            )
        header = request.headers.get("Authorization", "")
        if not header.strip():
            raise ApiError(
                401,
                "invalid_key",
                _("Send your API key in the Authorization header: Bearer csk_…"),
                headers={"WWW-Authenticate": 'Bearer realm="credshare"'},
            )
        scheme, _space, token = header.strip().partition(" ")
        key = self.authenticate(request, token.strip()) if scheme.lower() == "bearer" else None
        if key is None:
            failed_keys_wait(request, failed=True)
            raise ApiError(
                401,
                "invalid_key",
                _("This API key is not valid: it is wrong, or it was revoked."),
                headers={"WWW-Authenticate": 'Bearer realm="credshare", error="invalid_token"'},
            )
        wait = rate_limit_wait(key)
        if wait is not None:
            raise ApiError(
                429,
                "rate_limited",
                _(
                    "This API key made more than %(limit)s requests this minute. Try again "
                    "in %(seconds)s seconds."
                )
                % {"limit": settings.CREDSHARE_API_RATE_LIMIT, "seconds": wait},
                headers={"Retry-After": str(wait)},
            )
        if not any(key.allows(scope) for scope in self.scopes):
            raise ApiError(
                403,
                "missing_scope",
                _("This API key lacks the permission this request needs: %(scopes)s.")
                % {"scopes": ", ".join(self.scopes)},
                details=[{"scope": scope} for scope in self.scopes],
            )
        _check_body_size(request, self.body)
        return key

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return api_key_authenticate(token)
