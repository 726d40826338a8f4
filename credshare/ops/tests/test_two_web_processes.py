"""Two web processes (`credshare web`: gunicorn) on two loopback ports, sharing one PostgreSQL
database and one Redis with the production profile, as two machines behind a load balancer
would: a session started on one is signed in on the other, signing out on one ends it on
both, and an API key's rate limit counts its requests to both together.

The servers are other processes, so they get a database of their own on the PostgreSQL server
(created, migrated and dropped here), not pytest-django's test database: PostgreSQL only.
Redis: database REDIS_DB, flushed before and after."""

import dataclasses
import http.cookiejar
import json
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from credshare.core import testing, testing_processes

# A Redis database of this test's own (the Celery tests use 0, through the broker URL).
REDIS_DB = 11
RATE_LIMIT = 5
LEARNER = "two-servers@example.org"
LEARNER_NAME = "Tess Twoservers"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: two web processes share one database server",
    ),
]


@dataclasses.dataclass
class Servers:
    ports: tuple[int, int]
    redis_url: str
    api_keys: list[str]


# The servers' data, made through the builders and services in a `manage.py shell`.
SEED = f"""
import json
from credshare.api.services import api_key_create
from credshare.core import testing
testing.make_user({LEARNER!r}, {LEARNER_NAME!r})
school = testing.make_organization("two-servers-school", receiver=True)
keys = [
    api_key_create(organization=school, name=f"Key {{n}}", scopes=["shares:read"], by=None)[1]
    for n in (1, 2)
]
print(json.dumps(keys))
"""


@pytest.fixture
def servers(tmp_path):
    """Two `credshare web` processes on a migrated database of their own, with a learner
    (LEARNER, testing.PASSWORD) and two API keys of a receiving organization."""
    import psycopg
    import redis

    redis_url = f"{testing_processes.REDIS_HOST}/{REDIS_DB}"
    testing_processes.require_redis(redis_url)
    server_settings = connection.settings_dict
    name = f"credshare_web_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(
        testing_processes.database_url(server_settings, name="postgres"), autocommit=True
    )
    admin.execute(f'CREATE DATABASE "{name}"')
    cache = redis.Redis.from_url(redis_url)
    cache.flushdb()
    processes = []
    try:
        env = {
            **testing_processes.environment_without_ours(),
            "DJANGO_SETTINGS_MODULE": "credshare.settings",
            "DATABASE_URL": testing_processes.database_url(server_settings, name=name),
            "CREDSHARE_PROFILE": "production",
            "CREDSHARE_SECRET_KEY": secrets.token_urlsafe(50),
            # The browser's side of the TLS proxy is HTTPS: Browser sends X-Forwarded-Proto.
            "CREDSHARE_PROXY_SSL_HEADER": "1",
            "CREDSHARE_CACHE_URL": redis_url,
            "CREDSHARE_API_RATE_LIMIT": str(RATE_LIMIT),
            "CREDSHARE_TASKS": "none",
            "CREDSHARE_VAR_DIR": str(tmp_path),
        }
        for step in (["migrate", "--noinput"], ["shell", "--no-imports", "-c", SEED]):
            done = subprocess.run(  # noqa: S603 -- our own commands
                [sys.executable, "-m", "django", *step],
                env=env,
                cwd=settings.BASE_DIR,
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert done.returncode == 0, done.stderr[-4000:]
        api_keys = json.loads(done.stdout.strip().splitlines()[-1])

        ports = (testing_processes.free_port(), testing_processes.free_port())
        logs = [tmp_path / f"web-{port}.log" for port in ports]
        credshare = str(Path(sys.executable).with_name("credshare"))
        for port, log in zip(ports, logs, strict=True):
            command = [credshare, "web", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
            processes.append(
                testing_processes.start(command, env=env, log=log, cwd=settings.BASE_DIR)
            )
        for port in ports:
            testing_processes.wait_for(
                lambda port=port: Browser().get(port, "/health/live").status == 200,
                what=f"the web process on port {port}",
                logs=logs,
                processes=processes,
                timeout=60,
            )
        yield Servers(ports=ports, redis_url=redis_url, api_keys=api_keys)
    finally:
        testing_processes.stop(*processes)
        cache.flushdb()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@dataclasses.dataclass
class Response:
    status: int
    headers: dict
    body: str

    def location(self) -> str:
        """The path a redirect leads to, whether the Location is absolute or not."""
        url = urllib.parse.urlsplit(self.headers.get("Location", ""))
        return url.path + (f"?{url.query}" if url.query else "")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the test looks at each redirect itself


class Browser:
    """A browser as the servers see it through the TLS proxy: one cookie jar for both
    (cookies ignore the port, as they would the two machines behind one host name), every
    request marked as having come over HTTPS, as the proxy does (X-Forwarded-Proto)."""

    def __init__(self):
        # The cookies are Secure; the jar holds the browser's side, which is HTTPS.
        policy = http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "http"))
        self.cookies = http.cookiejar.CookieJar(policy=policy)
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects()
        )

    def request(self, port: int, path: str, *, data=None, headers=None) -> Response:
        origin = f"https://127.0.0.1:{port}"
        headers = {"X-Forwarded-Proto": "https", "Accept-Language": "en", **(headers or {})}
        if data is not None:
            # A browser's form post names its page's origin; Django checks it (CSRF).
            headers.update(Origin=origin, Referer=origin + path)
            data = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(  # noqa: S310 -- loopback, our servers
            f"http://127.0.0.1:{port}{path}", data=data, headers=headers
        )
        try:
            with self.opener.open(request, timeout=20) as answer:
                return Response(answer.status, dict(answer.headers), answer.read().decode())
        except urllib.error.HTTPError as answer:
            return Response(answer.code, dict(answer.headers), answer.read().decode())
        except OSError as error:  # not listening yet
            return Response(0, {}, str(error))

    def get(self, port: int, path: str, **kwargs) -> Response:
        return self.request(port, path, **kwargs)

    def post(self, port: int, path: str, data: dict) -> Response:
        return self.request(port, path, data=data)

    def submit(self, port: int, page_path: str, form: "Form", **values) -> Response:
        """Post FORM of the page at PAGE_PATH with its own fields (hidden ones: the CSRF token,
        next) and VALUES."""
        return self.post(port, form.action or page_path, {**form.fields, **values})


@dataclasses.dataclass
class Form:
    action: str
    fields: dict
    names: list


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self.forms.append(Form(action=attrs.get("action") or "", fields={}, names=[]))
        elif tag in {"input", "textarea", "select", "button"} and self.forms and attrs.get("name"):
            form = self.forms[-1]
            form.names.append(attrs["name"])
            kind = (attrs.get("type") or "").lower()
            if kind not in {"checkbox", "radio", "submit"} or "checked" in attrs:
                form.fields[attrs["name"]] = attrs.get("value") or ""


def post_forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def sign_in(browser: Browser, port: int, *, email: str, password: str) -> Response:
    """Sign in as a learner would: open a signed-in-only page, follow the redirect to the
    sign-in page, and fill in the form found there, whatever its field for the email is
    called (`login`, `email` or `username`)."""
    redirect = browser.get(port, "/documents/")
    assert redirect.status == 302, redirect.status
    login_path = redirect.location()
    page = browser.get(port, login_path)
    assert page.status == 200, page.status
    [form] = [form for form in post_forms(page.body) if "password" in form.names]
    [email_field] = [name for name in ("login", "email", "username") if name in form.names]
    assert "csrfmiddlewaretoken" in form.fields
    return browser.submit(port, login_path, form, **{email_field: email, "password": password})


def signed_in(answer: Response) -> bool:
    return answer.status == 200 and LEARNER_NAME in answer.body


def session_in_redis(servers: Servers, browser: Browser) -> bool:
    """Whether the browser's session is in Redis (cached_db writes it to the cache and the
    database; Django's cache keys are `:1:` and the engine's prefix before the key)."""
    import redis

    [session] = [
        cookie.value for cookie in browser.cookies if cookie.name == settings.SESSION_COOKIE_NAME
    ]
    key = f":1:django.contrib.sessions.cached_db{session}"
    return bool(redis.Redis.from_url(servers.redis_url).exists(key))


def test_two_web_processes_share_sessions_and_the_api_rate_limit(servers):
    # One test, so that under pytest-xdist one worker runs both halves on the same servers.
    a_session_started_on_one_is_signed_in_on_the_other(servers)
    an_api_keys_requests_to_both_count_toward_its_rate_limit(servers)


def a_session_started_on_one_is_signed_in_on_the_other(servers):
    first, second = servers.ports
    browser = Browser()

    signed = sign_in(browser, first, email=LEARNER, password=testing.PASSWORD)
    assert signed.status == 302, signed.body[-2000:]
    assert signed.location().startswith("/documents/")
    assert signed_in(browser.get(first, "/documents/"))
    # The other process, which never saw this browser, knows the session.
    on_second = browser.get(second, "/documents/")
    assert signed_in(on_second)
    assert session_in_redis(servers, browser)
    kept = list(browser.cookies)

    # Signing out on the second process ends the session on the first one too, even for
    # someone who kept the cookies from before.
    [sign_out] = [form for form in post_forms(on_second.body) if "logout" in form.action]
    signed_out = browser.submit(second, "/documents/", sign_out)
    assert signed_out.status == 302
    for cookie in kept:
        browser.cookies.set_cookie(cookie)
    assert not session_in_redis(servers, browser)
    again = browser.get(first, "/documents/")
    assert again.status == 302
    assert "/documents/" in urllib.parse.unquote(again.location())
    assert not again.location().startswith("/documents/")


def api_get(port: int, key: str) -> Response:
    return Browser().get(port, "/api/v1/shares", headers={"Authorization": f"Bearer {key}"})


def an_api_keys_requests_to_both_count_toward_its_rate_limit(servers):
    first, second = servers.ports
    # The limit counts in one-minute windows: if a minute turns during the requests, the
    # count starts again, so the second key tries once more in the next window.
    for key in servers.api_keys:
        window = int(time.time() // 60)
        answers = [api_get((first, second)[n % 2], key) for n in range(RATE_LIMIT + 2)]
        if int(time.time() // 60) == window:
            break
    else:
        pytest.fail("a minute turned during both tries")

    # Each process saw at most 4 of these 7 requests: alone, neither would refuse one.
    assert [answer.status for answer in answers] == [200] * RATE_LIMIT + [429, 429]
    for refused in answers[RATE_LIMIT:]:
        assert json.loads(refused.body)["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
