"""What the OpenAPI schema says beyond the operations themselves: the API's description, the
error responses every operation declares, and their headers."""

from credshare.api.schemas import ErrorOut

# A str.format template: {rate}, {json}, {pdf} and {upload} are filled in; braces doubled.
DESCRIPTION = """
The credshare REST API, for the systems of the organizations of the network.

* **Receiving organizations** list the shares learners address to them, read each one
  (reference, additional fields, learner, documents with their version, SHA-256 and status),
  download the documents' current versions, and mark shares processed.
* **Issuers** issue documents (a PDF, or a transcript's data that credshare renders), add
  corrected versions, withdraw or revoke documents, and run bulk issuance jobs.

## Authentication

Every operation takes an API key, made by an administrator of your organization in
credshare (*Organization → API keys*) and shown once:

    Authorization: Bearer csk_…

A key sees its own organization's shares and documents and nothing else: anything else is a
404, as if it did not exist. Each key has scopes, chosen when it is made; an operation says
which one it needs (`shares:read`, `documents:download`, `shares:process`, `documents:issue`,
`jobs:run`, `documents:withdraw`). A missing, wrong or revoked key is a `401 invalid_key`
(a revoked key fails from its next request on); a key without the scope, a
`403 missing_scope`.

## Errors

Every error has the same shape, whatever its status:

    {{"error": {{"code": "not_found", "message": "…", "details": [ … ]}}}}

`code` is stable: write programs against it. `message` is for people, in the language of
the `Accept-Language` header (French or English). `details`, present only when there are
some, names the parts of the request at fault (`loc`, `field`) with their own code and
message. Codes: `invalid_request` (400 or 422: the request does not match this schema),
`invalid_cursor`, `invalid_pdf`, `invalid_email`, `learner_name_required`,
`invalid_idempotency_key`, the bulk upload's codes (400);
`invalid_key` (401); `missing_scope`, `not_an_issuer` (403); `not_found` (404);
`method_not_allowed` (405); `document_not_active` (409); `share_expired`, `share_revoked`,
`document_withdrawn` (410); `too_large` (413); `idempotency_key_reused` (422);
`rate_limited` (429); `server_error` (500, with nothing more).

## Pagination

Lists are newest first, a page at a time: `{{"items": [ … ], "next_cursor": "…"}}`. Pass
`next_cursor` as `cursor` (with the same filters) for the next page, until it is `null`.
`limit` is 1 to 100 (50 by default). Cursors are opaque: shares that arrive meanwhile never
shift the pages that follow, so nothing is listed twice or skipped.

## Idempotency

Every POST takes an `Idempotency-Key` header (any unique string, a UUID say). A retry with
the same key and the same request (method, path and body) gets the first response again,
with `Idempotent-Replayed: true`, and has no second effect, even when the retries arrive at
the same time. The same key with another request is a `422 idempotency_key_reused`. Keys are
kept 24 hours. A request that failed kept nothing: its retry runs again.

## Limits

Each key may make {rate} requests a minute; past it, a `429 rate_limited` with `Retry-After`
(seconds). Request bodies: JSON up to {json}, JSON carrying a PDF in base64 up to the size of
a {pdf} PDF, bulk uploads up to {upload}; larger is a `413 too_large`.

## Dates

Times are ISO 8601 in UTC. A share's `expires_on` is a calendar date: the share works until
the end of that day in the platform's time zone (`expires_at`).

Dates you send have a sane range, and one out of it is a `422 invalid_request` whose detail
names the field and the rule: an `issue_date` is today or earlier and not before 1900-01-01
(`issue_date_future`, `issue_date_too_old`); a `valid_until` is on or after the issue date and
at most 100 years from today (`valid_until_before_issue_date`, `valid_until_too_far`); a
`since` lies between 1900 and 100 years from now (`date_out_of_range`).
"""


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB" if size >= 1024 * 1024 else f"{size} bytes"


def description() -> str:
    """The API's description, with this deployment's limits."""
    from django.conf import settings

    return DESCRIPTION.format(
        rate=settings.CREDSHARE_API_RATE_LIMIT or "any number of",
        json=_megabytes(settings.CREDSHARE_API_MAX_JSON_BYTES),
        pdf=_megabytes(settings.CREDSHARE_MAX_UPLOAD_BYTES),
        upload=_megabytes(settings.CREDSHARE_API_MAX_BODY_BYTES),
    )


_ERROR_DESCRIPTIONS = {
    400: "The request breaks a rule (see `error.code`).",
    401: "No API key, or a wrong or revoked one (`invalid_key`).",
    403: "The key lacks the scope this operation needs (`missing_scope`).",
    404: "Nothing of your organization's at this address (`not_found`).",
    405: "This address does not take this method (`method_not_allowed`).",
    409: "The document is withdrawn or revoked (`document_not_active`).",
    410: "No longer served: `share_expired`, `share_revoked` or `document_withdrawn`.",
    413: "The request body is too large (`too_large`).",
    422: "The request does not match the schema (`invalid_request`), or its "
    "Idempotency-Key was used for another request (`idempotency_key_reused`).",
    429: "Over the key's rate limit (`rate_limited`): wait `Retry-After` seconds.",
}

_ERROR_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": "`Bearer`, as RFC 6750 says.",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds until the key may make requests again.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}

PDF_RESPONSE = {
    "description": "The PDF.",
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    "headers": {
        "Repr-Digest": {
            "description": "SHA-256 of the PDF (RFC 9530): `sha-256=:<base64>:`.",
            "schema": {"type": "string"},
        }
    },
}

CSV_RESPONSE = {
    "description": "The rejected rows: row, external_id, reason.",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}


def error_responses(*statuses: int) -> dict:
    """The error responses an operation declares, all of the one error shape."""
    return dict.fromkeys(statuses, ErrorOut)


def describe_errors(schema: dict) -> dict:
    """Give each declared error response its description and headers."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                status = int(status)
                if status in _ERROR_DESCRIPTIONS:
                    response["description"] = _ERROR_DESCRIPTIONS[status]
                if status in _ERROR_HEADERS:
                    response["headers"] = _ERROR_HEADERS[status]
    return schema
