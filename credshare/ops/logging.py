"""Structured logs: one JSON object a line (CREDSHARE_LOG_FORMAT=json), with the request id.

Imported by the logging configuration before the apps are ready: it must not import models.
"""

import contextvars
import json
import logging
from datetime import UTC, datetime

from django.views.debug import ExceptionReporter

from credshare.core.redaction import redact_secrets

# The id of the request this thread is serving (credshare.ops.middleware.RequestIdMiddleware);
# None outside a request (commands, workers).
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "credshare_request_id", default=None
)


def current_request_id() -> str | None:
    return request_id_var.get()


def clear_request_id(**kwargs) -> None:
    request_id_var.set(None)


# Attributes every LogRecord has: anything else on a record came from `extra`.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime"}
)
# `extra` fields that are objects, not values: django.request passes the HttpRequest (whose
# repr holds the raw path), django.server the socket.
_SKIPPED_EXTRAS = frozenset({"request", "server_time"})


def _json_value(value):
    if isinstance(value, str):
        return redact_secrets(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    return redact_secrets(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id in a
    request, exception text when there is one, and the record's `extra` fields.

    Secrets (credshare/core/redaction.py) are redacted here as well as by the RedactSecrets
    filter on Django's loggers and handlers: this formatter also sees records from loggers
    that filter does not cover (gunicorn's), and `extra` values, which the filter leaves
    alone."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_secrets(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = redact_secrets(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = redact_secrets(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact_secrets(self.formatStack(record.stack_info))
        for key, value in vars(record).items():
            if key in _RECORD_ATTRIBUTES or key in _SKIPPED_EXTRAS or key in entry:
                continue
            entry[key] = _json_value(value)
        return json.dumps(entry, ensure_ascii=False)


class RedactingExceptionReporter(ExceptionReporter):
    """Django's error report (the debug page, the email to ADMINS) with every secret a URL or
    header carries redacted: the report shows the request's path, its headers (a Referer
    naming a share link) and the traceback's local variables."""

    def get_traceback_html(self):
        return redact_secrets(str(super().get_traceback_html()), replacement="&lt;redacted&gt;")

    def get_traceback_text(self):
        return redact_secrets(str(super().get_traceback_text()))
