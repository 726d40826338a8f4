"""One rule keeps secrets out of logs (credshare/core/redaction.py): every URL that carries a
secret, however it reaches a log line (request line, absolute link, Referer, encoded `next=`
parameter, query string, bearer header), comes out with <redacted> in its place; and every
route of the URL configuration whose parameter is a secret is covered by the rule."""

import io
import logging
import sys
import urllib.parse

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from credshare.core.redaction import RedactSecrets, redact_secrets
from credshare.ops.logging import JsonFormatter, RedactingExceptionReporter

SECRET = "Zq9_secret-Token_value42"  # noqa: S105 -- a made-up token
# allauth's email confirmation keys are signed strings with colons.
SIGNED_KEY = "MQ:1tCL3r:8xk_SecretSignature"

SECRET_PATHS = [
    f"/s/{SECRET}/",
    "/s/Zq9.odd~token/",
    f"/accounts/invitations/{SECRET}/",
    f"/accounts/confirm-email/{SIGNED_KEY}/",
    f"/accounts/password/reset/key/1a-{SECRET}/",
]
SECRET_QUERIES = [
    f"/health/live?token={SECRET}",
    f"/billing/purchases/1/?cancelled=1&session_id={SECRET}",
    f"/x/?KEY={SECRET}#part",
    f"/x/?a=1&code={SECRET}&b=2",
]


def ways_to_log(path: str) -> list[str]:
    """PATH as the lines that log it write it."""
    return [
        f'"GET {path} HTTP/1.1" 200 512',
        f"Not Found: {path}",
        f"https://credshare.example.org{path}",
        f'"https://credshare.example.org{path}" "Mozilla/5.0"',
        "/accounts/login/?next=" + urllib.parse.quote(path, safe=""),
        "/accounts/login/?next=" + urllib.parse.quote(path),
    ]


def secret_of(path: str) -> str:
    for secret in (SIGNED_KEY, SECRET, "Zq9.odd~token"):
        if secret in path:
            return secret
    raise AssertionError(path)


@pytest.mark.parametrize("path", SECRET_PATHS + SECRET_QUERIES)
def test_every_way_a_secret_url_is_logged_is_redacted(path):
    for line in ways_to_log(path):
        redacted = redact_secrets(line)
        assert "<redacted>" in redacted, line
        for piece in (secret_of(path), urllib.parse.quote(secret_of(path), safe="")):
            assert piece not in redacted, line
        # Only the secret goes: the line still starts as it did.
        assert redacted[:4] == line[:4]


@pytest.mark.parametrize(
    "line",
    [
        '"GET /s/shares/12/ HTTP/1.1" 200 512',
        '"GET /s/shares/12/code/ HTTP/1.1" 200 512',
        "/documents/3/?page=2",
        "/verify/6f1e2d3c-0000-4000-8000-000000000000/",
        "GET /issuer/example-university/documents/?q=keyboard HTTP/1.1",
    ],
)
def test_lines_without_a_secret_are_left_alone(line):
    assert redact_secrets(line) == line


def test_a_bearer_token_is_redacted():
    assert (
        redact_secrets("Authorization: Bearer csk_live.abc123")
        == "Authorization: Bearer <redacted>"
    )


def _patterns(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _patterns(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace, pattern


# Parameter names that hold a secret wherever a route uses them.
SECRET_PARAMETERS = {"token", "key", "code", "secret"}


def secret_routes():
    routes = []
    for route, namespace, pattern in _patterns(get_resolver()):
        names = set(pattern.pattern.regex.groupindex)
        if names & SECRET_PARAMETERS:
            routes.append((route, namespace, pattern, sorted(names)))
    return routes


def test_the_url_configuration_has_the_secret_routes_we_know():
    routes = {route for route, *_ in secret_routes()}
    assert any("invitations/" in route for route in routes)
    assert any("confirm-email/" in route for route in routes)
    assert any("password/reset/key/" in route for route in routes)
    assert any(route.startswith("s/") for route in routes)


@pytest.mark.parametrize(
    "route, namespace, pattern, names", secret_routes(), ids=[r[0] for r in secret_routes()]
)
def test_every_route_with_a_secret_parameter_is_redacted(route, namespace, pattern, names):
    kwargs = {name: SECRET if name in SECRET_PARAMETERS else "1a" for name in names}
    name = f"{namespace}:{pattern.name}" if namespace else pattern.name
    path = reverse(name, kwargs=kwargs)
    assert resolve(path).func == pattern.callback
    redacted = redact_secrets(f'"GET {path} HTTP/1.1" 200')
    assert SECRET not in redacted, f"{route} is missing from SECRET_PATH_PREFIXES"


def test_the_filter_redacts_message_arguments_and_traceback_for_any_format():
    logger = logging.getLogger("credshare.core.tests.redaction")
    try:
        raise ValueError(f"could not open /accounts/invitations/{SECRET}/")
    except ValueError:
        record = logger.makeRecord(
            logger.name,
            logging.ERROR,
            __file__,
            1,
            '"%(r)s" %(s)s',
            ({"r": f"GET /s/{SECRET}/ HTTP/1.1", "s": "404"},),
            sys.exc_info(),
        )
    assert RedactSecrets().filter(record)
    for formatter in (logging.Formatter("%(message)s"), JsonFormatter()):
        text = formatter.format(record)
        assert SECRET not in text
        assert "/s/<redacted>/" in text
        assert "/accounts/invitations/<redacted>/" in text


def test_the_error_report_hides_the_secret_of_the_path_and_the_referer(rf):
    request = rf.get(
        f"/accounts/invitations/{SECRET}/",
        HTTP_REFERER=f"https://credshare.example.org/s/{SECRET}/",
    )
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        reporter = RedactingExceptionReporter(request, *sys.exc_info())
    text = reporter.get_traceback_text()
    html = reporter.get_traceback_html()
    assert "/accounts/invitations/&lt;redacted&gt;/" in html
    assert "/accounts/invitations/<redacted>/" in text
    for report in (text, html):
        assert SECRET not in report


def test_the_root_console_and_djangos_loggers_carry_the_filter():
    # Records of any logger reach the root's console: a logger of ours that logs a link.
    [console] = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(known, RedactSecrets) for known in handler.filters)
    ]
    stream = io.StringIO()
    console_copy = logging.StreamHandler(stream)
    for known in console.filters:
        console_copy.addFilter(known)
    logger = logging.getLogger("credshare.core.tests.any")
    logger.addHandler(console_copy)
    try:
        link = f"https://credshare.example.org/accounts/confirm-email/{SIGNED_KEY}/"
        logger.warning("sent %s", link)
    finally:
        logger.removeHandler(console_copy)
    assert stream.getvalue() == (
        "sent https://credshare.example.org/accounts/confirm-email/<redacted>/\n"
    )
    for name in ("django.request", "django.security.csrf", "django.server"):
        assert any(isinstance(known, RedactSecrets) for known in logging.getLogger(name).filters)
