"""Keep share tokens out of the logs.

A recipient opens `/s/<token>/`; Django logs the path of every 4xx and 5xx response
(django.request, django.security.csrf) and the development server logs every request line
(django.server). This filter, set on those loggers in settings.LOGGING, rewrites such paths to
`/s/<redacted>/` before any handler (or a test's caplog) sees the record.

Imported by the logging configuration before the apps are ready: it must not import models.
"""

import logging
import re

# /s/<token>/ but not the token-free pages under /s/shares/.
TOKEN_PATH = re.compile(r"/s/(?!shares/)[^/\s?#\"']+")
REDACTED = "/s/<redacted>"


def redact_share_tokens(text: str) -> str:
    return TOKEN_PATH.sub(REDACTED, text)


def _redacted(value):
    return redact_share_tokens(value) if isinstance(value, str) else value


class RedactShareTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_share_tokens(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_redacted(value) for value in record.args)
        return True
