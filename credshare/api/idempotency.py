"""`Idempotency-Key` for POST operations: a retry gets the first response, and the work is done
once.

How: the operation runs in a transaction that first inserts the (API key, Idempotency-Key)
record, then does the work, then stores the response in the record. A second request with
the same key inserts the same record: on PostgreSQL its insert waits on the unique
constraint until the first transaction ends, then fails, and the second request replays
what the first stored (SQLite lets one writer in at a time, so the second starts after the
first has committed). If the first fails, its transaction, record included, rolls back: the
retry does the work. A stored request hash (method, path, body) that differs from the
retry's is a 422 "idempotency_key_reused"."""

import functools
import hashlib
import json

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Status
from ninja.responses import NinjaJSONEncoder
from ninja.utils import contribute_operation_callback
from pydantic import BaseModel

from credshare.api.errors import JSON_CONTENT_TYPE, ApiError
from credshare.api.models import IdempotencyRecord
from credshare.api.services import IDEMPOTENCY_KEY_LIFETIME

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = IdempotencyRecord._meta.get_field("key").max_length

HEADER_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Any unique string (a UUID, say) of at most 255 characters. A retry with the same key "
        "and the same request gets the first response again (with `Idempotent-Replayed: "
        "true`) and causes no second effect; the same key with another request is a 422 "
        "`idempotency_key_reused`. Keys are kept 24 hours."
    ),
    "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH, "pattern": "^[\\x21-\\x7e]+$"},
}


def request_hash(request: HttpRequest) -> str:
    """SHA-256 of the request's method, path with query, and body. A multipart body (read
    into request.POST and request.FILES already) is hashed part by part."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.get_full_path()}\n".encode())
    if request.content_type == "multipart/form-data":
        for name, values in sorted(request.POST.lists()):
            digest.update(json.dumps([name, values]).encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(json.dumps([name, upload.name, upload.size]).encode())
                upload.seek(0)
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _rendered(result) -> tuple[int, str]:
    status = 200
    if isinstance(result, Status):
        status, result = result.status_code, result.value
    if isinstance(result, BaseModel):
        result = result.model_dump()
    # As Ninja's JSON renderer writes it: the same bytes with or without the header.
    return status, json.dumps(result, cls=NinjaJSONEncoder)


def _response(status: int, body: str, *, replayed: bool) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type=JSON_CONTENT_TYPE)
    if replayed:
        response[REPLAYED_HEADER] = "true"
    return response


def _key_of(request: HttpRequest) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise ApiError(
            400,
            "invalid_idempotency_key",
            _("The Idempotency-Key header must be 1 to %(max)s printable ASCII characters.")
            % {"max": MAX_KEY_LENGTH},
        )
    return key


def idempotent(view):
    """Make a POST operation honour `Idempotency-Key` (see the module's docstring). Put it
    under the router's decorator; the operation's result is rendered to JSON here, so that
    the very bytes sent are the ones replayed."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        key = _key_of(request)
        if key is None:
            return view(request, *args, **kwargs)
        api_key = request.auth
        fingerprint = request_hash(request)
        with transaction.atomic():
            # A record past its lifetime no longer counts: the key is new again.
            IdempotencyRecord.objects.filter(
                api_key=api_key, key=key, created__lt=timezone.now() - IDEMPOTENCY_KEY_LIFETIME
            ).delete()
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        api_key=api_key, key=key, request_hash=fingerprint
                    )
            except IntegrityError:
                record = None
            if record is not None:
                status, body = _rendered(view(request, *args, **kwargs))
                record.response_status = status
                record.response_body = body
                record.save(update_fields=["response_status", "response_body"])
                return _response(status, body, replayed=False)
        # Another request holds the key, and has committed (its insert made ours wait).
        record = IdempotencyRecord.objects.get(api_key=api_key, key=key)
        if record.request_hash != fingerprint:
            raise ApiError(
                422,
                "idempotency_key_reused",
                _(
                    "This Idempotency-Key was used for another request. Use a new key for "
                    "each new request."
                ),
            )
        return _response(record.response_status, record.response_body, replayed=True)

    def document(operation) -> None:
        extra = dict(operation.openapi_extra or {})
        extra["parameters"] = [*extra.get("parameters", []), HEADER_PARAMETER]
        operation.openapi_extra = extra

    contribute_operation_callback(wrapped, document)
    return wrapped
