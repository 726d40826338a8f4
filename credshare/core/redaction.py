"""One rule for keeping secrets out of every log line: `redact_secrets`.

Several of credshare's URLs are themselves the secret that opens something: a share link
(`/s/<token>/`), an invitation (`/accounts/invitations/<token>/`), allauth's email
confirmation (`/accounts/confirm-email/<key>/`) and password reset
(`/accounts/password/reset/key/<uidb36>-<key>/`) links. Whoever reads a log line holding one
can open what it opens. Such paths reach logs as a request line (gunicorn's access log,
runserver's), a Referer header (the access log), the path of a failed request (django.request,
django.security.csrf), a `next=` parameter (URL-encoded), or an exception's text.

Every log path applies the same rule: the `RedactSecrets` filter on Django's loggers and
handlers (settings.LOGGING) and on gunicorn's error and access logs
(credshare/gunicorn_conf.py), and the JSON formatter (credshare/ops/logging.py). A new URL
that carries a secret adds its prefix to SECRET_PATH_PREFIXES; a test walks the URL
configuration and fails for any route with a secret-looking parameter this rule misses.

The emails the demo prints on the terminal (Django's console email backend) are not a log but
the demo's mailbox, and keep their links: see README, "Demo accounts".

Django-free: imported by the logging configuration and by gunicorn's master process before
any app is loaded.
"""

import logging
import re

REDACTED = "<redacted>"

# Paths whose next segment is a secret. Share pages under /s/shares/ carry none (a pk, behind
# the session the link or access code opened).
SECRET_PATH_PREFIXES = (
    "/s/",
    "/accounts/invitations/",
    "/accounts/confirm-email/",
    "/accounts/password/reset/key/",
)
_NOT_SECRET_SEGMENTS = {"/s/": "shares"}

# Query parameters whose value is a secret wherever they appear (a provider's return URL, a
# token passed by a client that should have used a header).
SECRET_QUERY_PARAMETERS = (
    "token",
    "key",
    "code",
    "access_code",
    "secret",
    "password",
    "session_id",
    "signature",
    "sig",
    "api_key",
)

# A slash, raw or URL-encoded (a path inside `next=` is encoded: %2F).
_SLASH = r"(?:/|%2[Ff])"
# One path segment: anything up to the next slash (raw or encoded), query, fragment, quote or
# space; other %XX escapes (allauth's keys hold a colon, %3A once encoded) stay inside it.
_SEGMENT = r"(?:[^/\s?#&\"'%]|%(?!2[Ff])[0-9A-Fa-f]{2})+"


def _prefix_pattern(prefix: str) -> str:
    parts = [re.escape(part) for part in prefix.strip("/").split("/")]
    pattern = _SLASH + _SLASH.join(parts) + _SLASH
    exception = _NOT_SECRET_SEGMENTS.get(prefix)
    if exception:
        pattern += f"(?!{re.escape(exception)}{_SLASH})"
    return pattern


_SECRET_PATH = re.compile(
    "(" + "|".join(_prefix_pattern(prefix) for prefix in SECRET_PATH_PREFIXES) + ")" + _SEGMENT
)
_SECRET_QUERY = re.compile(
    r"((?:[?&;]|%3[Ff]|%26)(?:"
    + "|".join(SECRET_QUERY_PARAMETERS)
    + r")(?:=|%3[Dd]))[^&;\s\"'#]+?(?=$|[&;\s\"'#]|%26)",
    re.IGNORECASE,
)
# An API key sent as a bearer token, should a header ever be logged.
_BEARER = re.compile(r"(\bBearer\s+)[^\s\"',;]+", re.IGNORECASE)


def redact_secrets(text: str, *, replacement: str = REDACTED) -> str:
    """TEXT with every secret a URL or header carries replaced by REPLACEMENT (HTML gives
    an escaped one)."""
    if not text:
        return text
    text = _SECRET_PATH.sub(lambda match: match.group(1) + replacement, text)
    text = _SECRET_QUERY.sub(lambda match: match.group(1) + replacement, text)
    return _BEARER.sub(lambda match: match.group(1) + replacement, text)


class RedactSecrets(logging.Filter):
    """Rewrites a record before any handler formats it: its message (rendered with its
    arguments, which may be a request line, a path or a whole mapping of gunicorn's access-log
    atoms), its exception and stack text. On a logger it covers what that logger logs; on a
    handler, what reaches the handler from any logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as it would have
            return True
        record.msg = redact_secrets(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # Formatters print exc_text when it is set rather than format exc_info again.
            record.exc_text = redact_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_secrets(record.stack_info)
        return True
