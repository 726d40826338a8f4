"""No secret in any log line: `credshare web` (gunicorn) with the production profile, once
with text logs and once with JSON logs, serves the flows that issue secrets (a share by link,
a share by email and its access code, an invitation, a sign-up's confirmation, a password
reset); the test collects every secret issued (the link's token from the service, the others
from the emails in the outbox) and looks for each in everything the servers wrote: the access
log, gunicorn's error log and the application's log.

Each secret link is also requested the ways that put a URL in a log line: as the request line,
as a Referer, inside a `next=` parameter, as a failed request (403, 404) and in a query.

The servers are other processes with a database of their own: on PostgreSQL one created and
dropped here, on SQLite a file. No Redis: the cache is each process's memory."""

import json
import re
import secrets
import sqlite3
import subprocess
import sys
import urllib.parse
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from credshare.core import testing, testing_processes
from credshare.core.redaction import SECRET_PATH_PREFIXES
from credshare.ops.tests.test_two_web_processes import Browser, post_forms, sign_in

LEARNER = "logs-learner@example.org"
# One recipient of a share by email a server: a code is sent once a minute at most.
RECIPIENTS = ("logs-recipient-0@example.org", "logs-recipient-1@example.org")
INVITED = "logs-invited@example.org"

SEED = f"""
import json
from credshare.accounts.services import invitation_send
from credshare.core import testing
learner = testing.make_user({LEARNER!r}, "Lou Logs")
college = testing.make_organization("logs-college", issuer=True, sharing_is_free=True)
documents = [testing.make_document(learner, college, "Certificate")]
_share, link_token = testing.share_by_link(learner, documents)
for recipient in {RECIPIENTS!r}:
    testing.share_by_email(learner, documents, recipient)
invitation_send(email={INVITED!r}, purpose="sign_up")
print(json.dumps(link_token))
"""

# An absolute link in an email whose path starts with one of the secret prefixes.
_SECRET_LINK = re.compile(
    r"https?://[^/\s\"'<>]+(" + "|".join(map(re.escape, SECRET_PATH_PREFIXES)) + r")([^\s\"'<>]+)"
)


OUTBOX_QUERY = 'SELECT "to", text_body, html_body FROM notifications_outgoingemail ORDER BY id'


@pytest.fixture
def server_environment(tmp_path):
    """The servers' environment, on a migrated and seeded database of their own: yields it,
    the link share's token and a function that reads the outbox (address, bodies)."""
    env = {
        **testing_processes.environment_without_ours(),
        "DJANGO_SETTINGS_MODULE": "credshare.settings",
        "CREDSHARE_PROFILE": "production",
        "CREDSHARE_SECRET_KEY": secrets.token_urlsafe(50),
        "CREDSHARE_PROXY_SSL_HEADER": "1",
        "CREDSHARE_TASKS": "none",
        "CREDSHARE_VAR_DIR": str(tmp_path),
        # Every request the application logs, not only its failures.
        "CREDSHARE_LOG_LEVEL": "INFO",
    }
    admin = None
    if connection.vendor == "postgresql":
        import psycopg

        name = f"credshare_logs_{uuid.uuid4().hex[:12]}"
        admin = psycopg.connect(
            testing_processes.database_url(connection.settings_dict, name="postgres"),
            autocommit=True,
        )
        admin.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = testing_processes.database_url(connection.settings_dict, name=name)

        def outbox() -> list[str]:
            with psycopg.connect(env["DATABASE_URL"]) as database:
                rows = database.execute(OUTBOX_QUERY).fetchall()
            return [(to, text + html) for to, text, html in rows]
    else:
        path = tmp_path / "servers.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{path}"

        def outbox() -> list[str]:
            with sqlite3.connect(path) as database:
                rows = database.execute(OUTBOX_QUERY).fetchall()
            return [(to, text + html) for to, text, html in rows]

    try:
        for step in (
            ["migrate", "--noinput"],
            ["signing_setup"],
            ["shell", "--no-imports", "-c", SEED],
        ):
            done = subprocess.run(  # noqa: S603 -- our own commands
                [sys.executable, "-m", "django", *step],
                env=env,
                cwd=settings.BASE_DIR,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stderr[-4000:]
        link_token = done.stdout.strip().splitlines()[-1].strip('"')
        yield env, link_token, outbox
    finally:
        if admin is not None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


def start_server(env: dict, log: Path, log_format: str):
    port = testing_processes.free_port()
    credshare = str(Path(sys.executable).with_name("credshare"))
    command = [credshare, "web", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    process = testing_processes.start(
        command, env={**env, "CREDSHARE_LOG_FORMAT": log_format}, log=log, cwd=settings.BASE_DIR
    )
    testing_processes.wait_for(
        lambda: Browser().get(port, "/health/live").status == 200,
        what=f"the web process on port {port}",
        logs=[log],
        processes=[process],
        timeout=60,
    )
    return port, process


def secrets_in(emails: list[tuple[str, str]]) -> dict[str, set[str]]:
    """The secret path segments of every link in EMAILS (by prefix) and the 6-digit access
    codes."""
    found: dict[str, set[str]] = {prefix: set() for prefix in SECRET_PATH_PREFIXES}
    found["access code"] = set()
    for _to, body in emails:
        for prefix, rest in _SECRET_LINK.findall(body):
            found[prefix].add(rest.strip("/").split("/")[0])
        found["access code"].update(re.findall(r"^\s*(\d{6})\s*$", body, flags=re.MULTILINE))
    return found


def path_of(url_or_path: str) -> str:
    return urllib.parse.urlsplit(url_or_path).path


def link_paths(emails: list[tuple[str, str]], prefix: str, *, to: str = "") -> list[str]:
    return sorted(
        {
            prefix + rest
            for address, body in emails
            if address == to or not to
            for found, rest in _SECRET_LINK.findall(body)
            if found == prefix
        }
    )


def submit_form(browser: Browser, port: int, path: str, **values):
    """Fill in and post the form of the page at PATH that has fields named as VALUES."""
    page = browser.get(port, path)
    assert page.status == 200, (path, page.status, page.body[-1000:])
    [form] = [form for form in post_forms(page.body) if set(values) <= set(form.names)]
    return browser.submit(port, path, form, **values)


def run_the_flows(port: int, number: int, link_token: str, outbox) -> None:
    """Every request that carries a secret, the ways a browser or a mistaken client sends it."""
    origin = f"https://127.0.0.1:{port}"
    recipient = Browser()
    # The share by link: opened, then the page it leads to with the link as Referer, then a
    # POST, an unknown token (404) and the token in a query.
    opened = recipient.get(port, f"/s/{link_token}/")
    assert opened.status == 302, opened.status
    share_page = recipient.get(
        port, opened.location(), headers={"Referer": f"{origin}/s/{link_token}/"}
    )
    assert share_page.status == 200
    # Refused, by the CSRF check (403) or the view (405): either logs the path.
    assert recipient.post(port, f"/s/{link_token}/", {}).status in {403, 405}
    assert recipient.get(port, f"/s/{link_token[::-1]}x/").status == 404
    recipient.get(port, f"/health/live?token={link_token}")

    # The share by email: its link, then the access code it sends, entered.
    emails = outbox()
    [email_link] = link_paths(emails, "/s/", to=RECIPIENTS[number])
    email_recipient = Browser()
    to_code = email_recipient.get(port, path_of(email_link))
    assert to_code.status == 302
    [code] = secrets_in(outbox())["access code"] - secrets_in(emails)["access code"]
    entered = submit_form(email_recipient, port, to_code.location(), code=code)
    assert entered.status in {200, 302}

    # The invitation: opened signed out, then through the sign-in page's `next=`.
    [invitation] = link_paths(emails, "/accounts/invitations/")
    invited = Browser()
    assert invited.get(port, path_of(invitation)).status == 200
    invited.get(port, "/accounts/login/?next=" + urllib.parse.quote(path_of(invitation), safe=""))

    # A sign-up, and its confirmation link (one new address a server).
    newcomer = Browser()
    email = f"logs-newcomer-{port}@example.org"
    signed_up = submit_form(
        newcomer,
        port,
        "/accounts/signup/",
        full_name="Nell Newcomer",
        email=email,
        password1=testing.PASSWORD,
        password2=testing.PASSWORD,
    )
    assert signed_up.status == 302, signed_up.body[-2000:]
    confirmations = link_paths(outbox(), "/accounts/confirm-email/")
    assert confirmations, "no confirmation email"
    for confirmation in confirmations:
        page = newcomer.get(port, path_of(confirmation))
        if page.status == 200 and post_forms(page.body):
            newcomer.submit(port, path_of(confirmation), post_forms(page.body)[-1])

    # A password reset, and its link (which leads to the page that sets the new password).
    forgetful = Browser()
    asked = submit_form(forgetful, port, "/accounts/password/reset/", email=LEARNER)
    assert asked.status == 302, asked.body[-2000:]
    resets = link_paths(outbox(), "/accounts/password/reset/key/")
    assert resets, "no password reset email"
    for reset in resets:
        answer = forgetful.get(port, path_of(reset))
        if answer.status == 302:
            forgetful.get(port, answer.location(), headers={"Referer": f"{origin}{path_of(reset)}"})

    # A signed-in page, to have the application log a plain request too.
    assert sign_in(Browser(), port, email=LEARNER, password=testing.PASSWORD).status == 302


def test_no_secret_issued_reaches_any_log(server_environment, tmp_path):
    env, link_token, outbox = server_environment
    logs = {"text": tmp_path / "web-text.log", "json": tmp_path / "web-json.log"}
    processes = []
    try:
        for number, (log_format, log) in enumerate(logs.items()):
            port, process = start_server(env, log, log_format)
            processes.append(process)
            run_the_flows(port, number, link_token, outbox)
    finally:
        testing_processes.stop(*processes)

    issued = secrets_in(outbox())
    issued["/s/"].add(link_token)
    for kind, found in issued.items():
        assert found, f"no {kind} was issued"
    written = {log_format: log.read_text(errors="replace") for log_format, log in logs.items()}
    for log_format, text in written.items():
        # The flows are in the log (redacted), or the test would prove nothing.
        assert "<redacted>" in text, text[-2000:]
        assert "GET /s/<redacted>/" in text
        for kind, found in issued.items():
            for secret in found:
                pattern = rf"\b{secret}\b" if kind == "access code" else re.escape(secret)
                assert not re.search(pattern, text), (
                    f"a {kind} is in the {log_format} server's log:\n"
                    + "\n".join(line for line in text.splitlines() if secret in line)
                )
    # The JSON server writes its access log and the application's log as JSON lines.
    entries = [json.loads(line) for line in written["json"].splitlines() if line.startswith("{")]
    loggers = {entry["logger"] for entry in entries if "<redacted>" in entry["message"]}
    assert {"gunicorn.access", "django.request", "django.security.csrf"} <= loggers
    assert not [
        line
        for line in written["json"].splitlines()
        if "<redacted>" in line and not line.startswith("{")
    ]
