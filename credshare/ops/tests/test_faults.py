"""Faults, end to end: the production process set (two web processes, two Celery workers,
the scheduler, the email worker) on PostgreSQL and Redis, driven by clients (learners sharing
against credits, buying more through the sandbox checkout, opening link shares, revoking;
a receiving organization reading its shares through the API; an issuer running bulk jobs
through the API), while one process picked at random is killed with SIGKILL every few
seconds and started again. Then the system settles and the invariants are checked in the
database (faults_scenario.py) and against what the SMTP server and the webhook receiver got:

- every credit ledger adds up (grants + paid bundles - shares) and never goes below zero; no
  share spent two credits; a paid bundle added its credits once;
- every bulk row issued once: none lost, none twice, one job per Idempotency-Key;
- every email arrived once (a second arrival only in the one window delivery cannot close:
  the email worker killed after the SMTP server took the message), one invitation per new
  address, one receipt per payment;
- every webhook delivered at least once with one event id, one event per change;
- every share opening has its access row (and its audit entry); the audit chain holds.

A request cut by a kill may or may not have taken effect; clients retry it (the other web
process, or the same once restarted) as a browser or an API client behind a load balancer
would, with what makes a retry safe (the share form's submission token, Idempotency-Key).

Slow (CREDSHARE_FAULTS_SECONDS of faults, 120 by default, plus a minute or two to start and
settle): `make test` leaves it out (`-m "not slow"`); `.ci/run` runs it on PostgreSQL:
    DATABASE_URL=postgres://... pytest -m slow -s credshare/ops/tests/test_faults.py
`-s` shows the counts (kills by process, shares, openings, payments, bulk rows, emails,
webhook events and duplicates). CREDSHARE_FAULTS_KILL_EVERY ("3,6": seconds between kills)
and CREDSHARE_FAULTS_SEED (the kills' order, printed at the start) replay or harden a run.
PostgreSQL only, with a database of its own (as test_two_web_processes.py); Redis databases
BROKER_DB and CACHE_DB, flushed before and after."""

import collections
import contextlib
import http.client
import http.server
import json
import os
import random
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from credshare.core import testing, testing_processes
from credshare.notifications.testing import SMTPServer
from credshare.ops.tests import faults_scenario
from credshare.ops.tests.test_two_web_processes import Browser, Response, post_forms

BROKER_DB = 13
CACHE_DB = 14
# Seconds of faults; CI runs the default.
FAULT_SECONDS = float(os.environ.get("CREDSHARE_FAULTS_SECONDS", "120"))
# A kill every KILL_EVERY seconds, give or take ("3,6" by default; "1,2" hunts harder).
KILL_EVERY = tuple(
    float(seconds) for seconds in os.environ.get("CREDSHARE_FAULTS_KILL_EVERY", "3,6").split(",")
)
LEARNERS = 4
# Rounds a learner makes at most, until the faults end (each: a share with the organization,
# a link share opened twice, every other round a revocation, every third an email share;
# credits bought as needed), a second or two apart.
ROUNDS = 40
PAUSE = (0.5, 2.0)
# Bulk jobs (external id prefix, rows), the second sent halfway through the faults; rows
# spread over NEWCOMERS new addresses.
JOBS = (("CHAOS-A", 60), ("CHAOS-B", 60))
NEWCOMERS = 12
# Seconds a client keeps retrying one request before giving up (both web processes may be
# down and restarting at once on a loaded machine).
PATIENCE = 240.0
# Seconds before Redis hands a dead worker's unacknowledged task to another worker.
VISIBILITY_TIMEOUT = 20
# A webhook receiver that fails this share of first attempts, so that retries happen.
WEBHOOK_FAILURE_RATE = 0.2

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.celery,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: the production processes share one database server",
    ),
]


class GaveUp(Exception):
    pass


class Client(Browser):
    """Browser (test_two_web_processes.py) that can also send a raw body (multipart), waits
    longer for an answer (the machine is loaded, processes restart), and takes an answer cut
    short by a kill for no answer (status 0)."""

    def send(self, port, path, *, data=None, body=None, content_type=None, headers=None):
        origin = f"https://127.0.0.1:{port}"
        headers = {"X-Forwarded-Proto": "https", "Accept-Language": "en", **(headers or {})}
        if data is not None:
            # A browser's form post names its page's origin; Django checks it (CSRF).
            headers.update(Origin=origin, Referer=origin + path)
            body = urllib.parse.urlencode(data).encode()
        elif body is not None:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(  # noqa: S310 -- loopback, our servers
            f"http://127.0.0.1:{port}{path}", data=body, headers=headers
        )
        try:
            with self.opener.open(request, timeout=90) as answer:
                return Response(answer.status, dict(answer.headers), answer.read().decode())
        except urllib.error.HTTPError as answer:
            try:
                return Response(answer.code, dict(answer.headers), answer.read().decode())
            except (OSError, http.client.HTTPException) as error:
                return Response(0, {}, f"{type(error).__name__}: {error}")
        except (OSError, http.client.HTTPException) as error:
            return Response(0, {}, f"{type(error).__name__}: {error}")


class Cluster:
    """The two web processes behind a load balancer, as a client sees them: a request that
    gets no answer (the process was killed) is sent again, to either process, until one
    answers or PATIENCE runs out. Server errors (5xx) are collected: none may happen."""

    def __init__(self, ports):
        self.ports = ports
        self.lock = threading.Lock()
        self.stats = collections.Counter()
        self.server_errors: list[str] = []

    def call(self, client: Client, path: str, **kwargs) -> Response:
        deadline = time.monotonic() + PATIENCE
        turn = random.randrange(2)
        while True:
            port = self.ports[turn % 2]
            turn += 1
            answer = client.send(port, path, **kwargs)
            with self.lock:
                self.stats["requests"] += 1
            if answer.status and answer.status < 500:
                return answer
            with self.lock:
                self.stats["requests_cut"] += 1
                if answer.status:
                    self.server_errors.append(f"{answer.status} {path}: {answer.body[-300:]}")
            if time.monotonic() > deadline:
                raise GaveUp(f"no answer for {path} in {PATIENCE:.0f} s: {answer.body[:200]}")
            time.sleep(0.5)


class Observed:
    """What the clients saw succeed; the database must agree."""

    def __init__(self):
        self.lock = threading.Lock()
        self.shares_made: list[int] = []
        self.paid_purchases: list[str] = []
        self.link_openings: collections.Counter = collections.Counter()
        self.jobs: list[str] = []
        self.job_rows: dict[str, int] = {}
        self.counts = collections.Counter()

    def as_json(self) -> dict:
        return {
            "shares_made": self.shares_made,
            "paid_purchases": self.paid_purchases,
            "link_openings": {str(k): v for k, v in self.link_openings.items()},
            "jobs": self.jobs,
            "job_rows": self.job_rows,
        }


# --- the sinks: SMTP and webhooks ----------------------------------------------------------


class TimedSMTPServer(SMTPServer):
    """The SMTP server on loopback, noting when each message arrived."""

    def __init__(self):
        super().__init__()
        self.arrivals: list[dict] = []

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        with self._arrived:
            self.arrivals.append({"message_id": self.messages[-1]["Message-ID"], "at": time.time()})
        return answer


class WebhookReceiver:
    """An HTTP server on loopback that accepts webhook deliveries, failing some first tries
    (503) so that the scheduler's retries run, and noting every accepted one."""

    def __init__(self):
        self.accepted: list[dict] = []
        self.refused = 0
        self.lock = threading.Lock()
        seen: set[str] = set()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                event = json.loads(body)
                delivery = self.headers.get("Credshare-Delivery", "")
                with receiver.lock:
                    fail = delivery not in seen and random.random() < WEBHOOK_FAILURE_RATE
                    seen.add(delivery)
                    if fail:
                        receiver.refused += 1
                    else:
                        receiver.accepted.append(
                            {
                                "event_id": event["id"],
                                "delivery": delivery,
                                "type": event["type"],
                                "at": time.time(),
                            }
                        )
                self.send_response(503 if fail else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/credshare-hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- the clients ---------------------------------------------------------------------------


def sign_in(cluster: Cluster, client: Client, email: str) -> None:
    """Sign in through the sign-in form. A post cut short may have signed in already (the
    answer lost): the learner's pages then open; otherwise the learner starts again. An
    attempt cut after its password was checked counts as a failed one (allauth's limit per
    address of the client, credshare's lockout per address: accounts/lockout.py), so under
    frequent kills the learner may be told to wait: it waits, as a person would."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        redirect = cluster.call(client, "/documents/")
        if redirect.status == 200:
            return
        assert redirect.status == 302, redirect.status
        login_path = redirect.location()
        page = cluster.call(client, login_path)
        [form] = [form for form in post_forms(page.body) if "password" in form.names]
        [field] = [name for name in ("login", "email", "username") if name in form.names]
        values = {**form.fields, field: email, "password": testing.PASSWORD}
        answer = cluster.call(client, form.action or login_path, data=values)
        if answer.status == 302:
            return
        print(f"faults: sign-in of {email} answered {answer.status} {page_errors(answer)}")
        time.sleep(15)
    pytest.fail(f"{email} could not sign in")


def the_form_with(page: Response, name: str):
    forms = [form for form in post_forms(page.body) if name in form.names]
    assert forms, f"no form with {name} ({page.status}): {page.body[-1500:]}"
    return forms[0]


def page_errors(page: Response) -> list[str]:
    """The error messages a form page shows, for a failure's message."""
    found = re.findall(r'class="(?:errors|errorlist)[^"]*"[^>]*>(.*?)</ul>', page.body, re.DOTALL)
    return [" ".join(re.sub(r"<[^>]+>", " ", text).split()) for text in found] or [
        page.body[-1500:]
    ]


DONE = re.compile(r"/shares/(\d+)/done/")
SHARE_LINK = re.compile(r"/s/([A-Za-z0-9_-]{40,})/")
NO_CREDIT = "You have no shares left"


def make_share(cluster, client, seeded, observed, document, channel, **values) -> int | None:
    """Share DOCUMENT through the share window, buying credits when none are left. The form
    is posted again as it was (its submission token) when no answer came back."""
    path = f"/shares/new/{channel}/?documents={document}"
    for _try in range(3):
        form = the_form_with(cluster.call(client, path), "submission_token")
        data = {**form.fields, "confirm_credit_use": "on", **values}
        answer = cluster.call(client, form.action or path, data=data)
        done = DONE.search(answer.location()) if answer.status == 302 else None
        if done:
            with observed.lock:
                observed.shares_made.append(int(done[1]))
            return int(done[1])
        assert answer.status == 400 and NO_CREDIT in answer.body, (
            f"{answer.status} {page_errors(answer)}"
        )
        buy_credits(cluster, client, seeded, observed)
    return None


def buy_credits(cluster, client, seeded, observed) -> None:
    """Buy a bundle: choose it, then "Pay" on the sandbox's checkout page. A choice posted
    again after a cut may leave a second pending purchase, never paid; "Pay" posted again
    changes nothing once the first went through."""
    path = f"/billing/shares/{seeded['issuer_slug']}/"
    form = the_form_with(cluster.call(client, path), "bundle")
    answer = cluster.call(
        client, form.action or path, data={**form.fields, "bundle": seeded["bundle"]}
    )
    assert answer.status == 302, answer.body[-1500:]
    checkout = answer.location()
    assert checkout.startswith("/payments/sandbox/"), checkout
    form = the_form_with(cluster.call(client, checkout), "action")
    answer = cluster.call(client, form.action or checkout, data={**form.fields, "action": "pay"})
    assert answer.status == 302 and answer.location().startswith("/billing/purchases/")
    with observed.lock:
        observed.paid_purchases.append(checkout.rstrip("/").rsplit("/", 1)[-1])
        observed.counts["payments"] += 1


def open_link(cluster, share_pk: int, token: str, observed) -> None:
    """A visitor opens the link, then comes back to the share's page: each page shown is an
    opening the learner's access log must hold."""
    visitor = Client()
    door = cluster.call(visitor, f"/s/{token}/")
    assert door.status == 302, door.status
    for _visit in range(2):
        page = cluster.call(visitor, f"/s/shares/{share_pk}/")
        assert page.status == 200, page.status
        with observed.lock:
            observed.link_openings[share_pk] += 1


def revoke(cluster, client, share_pk: int) -> None:
    page = cluster.call(client, f"/shares/{share_pk}/")
    [form] = [form for form in post_forms(page.body) if form.action.endswith("/revoke/")]
    answer = cluster.call(client, form.action, data=form.fields)
    assert answer.status == 302, answer.status


def learner(cluster, seeded, person, number, stop, observed) -> None:
    client = Client()
    sign_in(cluster, client, person["email"])
    document = person["document"]
    for round_number in range(1, ROUNDS + 1):
        if stop.is_set():
            return
        shared = make_share(
            cluster,
            client,
            seeded,
            observed,
            document,
            "organization",
            recipient=faults_scenario.RECEIVER,
            reference=f"chaos-{number}-{round_number}",
        )
        if shared and round_number % 2 == 0:
            revoke(cluster, client, shared)
        link_share = make_share(
            cluster, client, seeded, observed, document, "link", notify_owner_on_first_open="on"
        )
        if link_share:
            done = cluster.call(client, f"/shares/{link_share}/done/")
            token = SHARE_LINK.search(done.body)
            if token:
                open_link(cluster, link_share, token[1], observed)
        if round_number % 3 == 0:
            make_share(
                cluster,
                client,
                seeded,
                observed,
                document,
                "email",
                recipient_email=f"chaos-recipient-{number}-{round_number}@example.org",
                email_language="en",
            )
        stop.wait(random.uniform(*PAUSE))


def organization_reader(cluster, seeded, stop, observed) -> None:
    """The receiving organization's system: lists its shares and reads a few, which records
    an opening of each active one."""
    client = Client()
    auth = {"Authorization": f"Bearer {seeded['shares_key']}"}
    while not stop.is_set():
        answer = cluster.call(client, "/api/v1/shares", headers=auth)
        assert answer.status == 200, answer.body[-500:]
        items = json.loads(answer.body)["items"]
        for item in random.sample(items, min(3, len(items))):
            one = cluster.call(client, f"/api/v1/shares/{item['id']}", headers=auth)
            assert one.status == 200, one.body[-500:]
            with observed.lock:
                observed.counts["api_share_reads"] += 1
        stop.wait(random.uniform(1.0, 2.0))


def multipart(name: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    return (
        head + data + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


def issuer_jobs(cluster, seeded, halfway, observed) -> None:
    """The issuer's system: a bulk job now, another halfway through, each sent with its own
    Idempotency-Key and sent again, with the same key, until an answer comes back."""
    client = Client()
    for index, (prefix, rows) in enumerate(JOBS):
        if index:
            halfway.wait()
        data = faults_scenario.bulk_rows(prefix=prefix, rows=rows, newcomers=NEWCOMERS).encode()
        body, content_type = multipart("rows", f"{prefix.lower()}.jsonl", data)
        headers = {
            "Authorization": f"Bearer {seeded['jobs_key']}",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        answer = cluster.call(
            client, "/api/v1/jobs", body=body, content_type=content_type, headers=headers
        )
        assert answer.status == 202, answer.body[-1000:]
        job = json.loads(answer.body)
        with observed.lock:
            observed.jobs.append(job["id"])
            observed.job_rows[job["id"]] = rows


def job_statuses(cluster, seeded, observed) -> list[str]:
    client = Client()
    auth = {"Authorization": f"Bearer {seeded['jobs_key']}"}
    return [
        json.loads(cluster.call(client, f"/api/v1/jobs/{job}", headers=auth).body)["status"]
        for job in observed.jobs
    ]


def run_client(target, errors, *args) -> threading.Thread:
    def run():
        try:
            target(*args)
        except BaseException as error:  # reported by the test, with the thread's name
            errors.append(f"{target.__name__}: {type(error).__name__}: {error}")

    thread = threading.Thread(target=run, name=target.__name__, daemon=True)
    thread.start()
    return thread


# --- the processes -------------------------------------------------------------------------


def django(env, code: str, *, timeout: float = 600) -> dict:
    """Run CODE in a `manage.py shell` on the fault test's database; its last line of output,
    JSON."""
    done = subprocess.run(  # noqa: S603 -- our own command
        [sys.executable, "-m", "django", "shell", "--no-imports", "-c", code],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


RESTART_STALLED_JOBS = (
    "import json; from django.utils import timezone; from credshare.documents import bulk; "
    "later = timezone.now() + bulk.STALLED_AFTER; "
    "print(json.dumps(bulk.issuance_jobs_restart_stalled(now=later)))"
)


def sweep_unacknowledged(broker: str) -> None:
    """Hand tasks past their visibility timeout back to their queue now, as each worker does
    when it starts and about every 100 s (test_celery_two_workers.py)."""
    from kombu import Connection

    options = {"visibility_timeout": VISIBILITY_TIMEOUT}
    with Connection(broker, transport_options=options) as broker_connection:
        broker_connection.default_channel.qos.restore_visible(num=100)


def log_errors(log: Path) -> collections.Counter:
    """The exceptions a process's log shows (the last line of each traceback), counted."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    errors = collections.Counter()
    for index, line in enumerate(lines):
        if line.startswith("Traceback"):
            rest = [text for text in lines[index + 1 : index + 200] if not text.startswith(" ")]
            errors[(rest[0] if rest else "?")[:200]] += 1
    return errors


def test_the_invariants_hold_while_processes_are_killed_at_random(tmp_path):
    import psycopg
    import redis

    broker = f"{testing_processes.REDIS_HOST}/{BROKER_DB}"
    cache_url = f"{testing_processes.REDIS_HOST}/{CACHE_DB}"
    testing_processes.require_redis(broker)
    seed = int(os.environ.get("CREDSHARE_FAULTS_SEED", secrets.randbelow(10**6)))
    chaos = random.Random(seed)
    print(f"\nfaults: seed {seed} (CREDSHARE_FAULTS_SEED), {FAULT_SECONDS:.0f} s of faults")
    started = time.monotonic()

    server_settings = connection.settings_dict
    name = f"credshare_faults_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(
        testing_processes.database_url(server_settings, name="postgres"), autocommit=True
    )
    admin.execute(f'CREATE DATABASE "{name}"')
    for url in (broker, cache_url):
        redis.Redis.from_url(url).flushdb()
    smtp = TimedSMTPServer()
    smtp.start()
    hooks = WebhookReceiver()
    ports = (testing_processes.free_port(), testing_processes.free_port())
    credshare = str(Path(sys.executable).with_name("credshare"))
    env = {
        **testing_processes.environment_without_ours(),
        "DJANGO_SETTINGS_MODULE": "credshare.settings",
        "DATABASE_URL": testing_processes.database_url(server_settings, name=name),
        "CREDSHARE_PROFILE": "production",
        "CREDSHARE_SECRET_KEY": secrets.token_urlsafe(50),
        "CREDSHARE_PROXY_SSL_HEADER": "1",
        "CREDSHARE_CACHE_URL": cache_url,
        "CREDSHARE_CELERY_BROKER_URL": broker,
        "CREDSHARE_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "CREDSHARE_WORKER_CONCURRENCY": "1",
        "CREDSHARE_VAR_DIR": str(tmp_path / "var"),
        "CREDSHARE_BASE_URL": f"http://127.0.0.1:{ports[0]}",
        "CREDSHARE_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "CREDSHARE_EMAIL_HOST": smtp.host,
        "CREDSHARE_EMAIL_PORT": str(smtp.port),
        "CREDSHARE_WEBHOOK_ALLOW_LOOPBACK": "1",
        "CREDSHARE_API_RATE_LIMIT": "100000",
        # Four learners here make a few hundred shares in two minutes, far past what a person
        # may send by email (those limits have their own tests): lift them for this traffic.
        "CREDSHARE_EMAIL_SHARES_PER_HOUR": "100000",
        "CREDSHARE_EMAIL_SHARES_PER_DAY": "100000",
        "CREDSHARE_CODE_EMAILS_PER_HOUR": "100000",
        "CREDSHARE_CODE_EMAILS_PER_DAY": "100000",
        "CREDSHARE_LOG_LEVEL": "WARNING",
    }
    commands = {
        "web-a": [credshare, "web", "--bind", f"127.0.0.1:{ports[0]}", "--workers", "1",
                  "--threads", "4", "--timeout", "120"],
        "web-b": [credshare, "web", "--bind", f"127.0.0.1:{ports[1]}", "--workers", "1",
                  "--threads", "4", "--timeout", "120"],
        "worker-a": [credshare, "worker"],
        "worker-b": [credshare, "worker"],
        "scheduler": [credshare, "scheduler", "--schedule-file", str(tmp_path / "beat")],
        "emails": [credshare, "emails"],
    }  # fmt: skip
    logs = {kind: tmp_path / f"{kind}.log" for kind in commands}
    processes: dict[str, subprocess.Popen] = {}

    def start(kind):
        processes[kind] = testing_processes.start(
            commands[kind], env=env, log=logs[kind], cwd=settings.BASE_DIR
        )

    stop, halfway = threading.Event(), threading.Event()
    threads: list[threading.Thread] = []
    errors: list[str] = []
    cluster, observed = Cluster(ports), Observed()
    kills: list[dict] = []
    killed = collections.Counter()
    restarted: list[int] = []
    try:
        done = subprocess.run(  # noqa: S603 -- our own command
            [credshare, "migrate"], env=env, cwd=settings.BASE_DIR, capture_output=True,
            text=True, timeout=900,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-4000:]
        seeded = django(
            env,
            "import json; from credshare.ops.tests import faults_scenario as s; "
            f"print(json.dumps(s.seed(webhook_url={hooks.url!r}, learners={LEARNERS})))",
        )
        for kind in commands:
            start(kind)
        for port in ports:
            testing_processes.wait_for(
                lambda port=port: Browser().get(port, "/health/live").status == 200,
                what=f"the web process on port {port}",
                logs=logs.values(),
                processes=list(processes.values()),
                timeout=120,
            )
        ready = time.monotonic()
        print(f"faults: processes up after {ready - started:.0f} s (migrate, seed, start)")

        for number, person in enumerate(seeded["learners"]):
            threads.append(
                run_client(learner, errors, cluster, seeded, person, number, stop, observed)
            )
        threads.append(run_client(organization_reader, errors, cluster, seeded, stop, observed))
        threads.append(run_client(issuer_jobs, errors, cluster, seeded, halfway, observed))

        # The faults: SIGKILL to a process picked at random (its whole group: gunicorn's or
        # Celery's children too), started again at once, as a supervisor would. Drawn from a
        # shuffled bag of every kind, refilled when empty: random, yet every kind is killed
        # within any six kills.
        end = time.monotonic() + FAULT_SECONDS
        bag: list[str] = []
        while time.monotonic() < end:
            time.sleep(chaos.uniform(*KILL_EVERY))
            if time.monotonic() > ready + FAULT_SECONDS / 2:
                halfway.set()
            if not bag:
                bag = sorted(commands)
                chaos.shuffle(bag)
            kind = bag.pop()
            testing_processes.kill(processes[kind])
            kills.append({"kind": kind, "at": time.time()})
            killed[kind] += 1
            start(kind)
        halfway.set()
        stop.set()
        print(f"faults: {sum(killed.values())} kills {dict(sorted(killed.items()))}")
        # Every process came back after its kills (a supervisor restarts it; one that could
        # not start again, on a corrupt schedule file say, would show here).
        time.sleep(5)
        exited = {
            kind: process.returncode
            for kind, process in processes.items()
            if process.poll() is not None
        }
        assert not exited, f"exited {exited}:\n" + testing_processes.tail(logs.values())

        # Settle: the clients finish what they were doing, the workers finish the jobs.
        for thread in threads:
            thread.join(timeout=PATIENCE * 3)
        assert not [thread.name for thread in threads if thread.is_alive()], "clients stuck"
        assert not errors, "\n".join(errors)
        assert observed.jobs, "no bulk job started"
        settle_deadline = time.monotonic() + 900
        next_restart = time.monotonic() + 30
        while set(job_statuses(cluster, seeded, observed)) != {"done"}:
            assert time.monotonic() < settle_deadline, (
                f"jobs {job_statuses(cluster, seeded, observed)}:\n"
                + testing_processes.tail([logs["worker-a"], logs["worker-b"]])
            )
            sweep_unacknowledged(broker)
            if time.monotonic() > next_restart:
                # A job whose first task was lost (its web process killed between the commit
                # and sending it) is started again by the scheduler once STALLED_AFTER old:
                # the same pass, as if that time had gone by.
                restarted += django(env, RESTART_STALLED_JOBS)
                next_restart = time.monotonic() + 30
            time.sleep(5)
        # The email worker and the scheduler send what is due; then everyone stops.
        time.sleep(10)
        testing_processes.stop(*processes.values())
        settled = django(
            env,
            "import json; from credshare.ops.tests import faults_scenario as s; "
            "print(json.dumps(s.settle()))",
        )
        sinks = {"emails": smtp.arrivals, "webhooks": hooks.accepted, "kills": kills}
        facts = tmp_path / "facts.json"
        facts.write_text(json.dumps({"sinks": sinks, "observed": observed.as_json()}))
        result = django(
            env,
            "import json, pathlib; from credshare.ops.tests import faults_scenario as s; "
            f"facts = json.loads(pathlib.Path({str(facts)!r}).read_text()); "
            "print(json.dumps(s.report(**facts)))",
        )
    finally:
        stop.set()
        halfway.set()
        testing_processes.stop(*processes.values())
        smtp.stop()
        hooks.close()
        for url in (broker, cache_url):
            with contextlib.suppress(Exception):
                redis.Redis.from_url(url).flushdb()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    counts = result["counts"]
    for kind, log in sorted(logs.items()):
        for error, number in log_errors(log).items():
            print(f"faults: {kind} logged {number} x {error}")
    print(f"faults: kills by process {dict(sorted(killed.items()))}, seed {seed}")
    print(f"faults: client requests {dict(cluster.stats)}, client counts {dict(observed.counts)}")
    print(f"faults: settle {settled}")
    print(f"faults: webhooks refused on purpose (503) {hooks.refused}")
    print(f"faults: bulk jobs started again by the scheduler's pass {restarted}")
    for key, value in counts.items():
        print(f"faults: {key}: {value}")
    print(f"faults: total {time.monotonic() - started:.0f} s")
    assert not cluster.server_errors, "\n".join(cluster.server_errors[:20])
    assert not result["violations"], "\n".join(result["violations"][:50])
    # The faults did what they are for: every kind of process was killed, work was done.
    assert set(killed) == set(commands) or len(kills) < len(commands)
    assert counts["bulk_rows"] == {"issued": sum(rows for _prefix, rows in JOBS)}
    assert observed.shares_made and observed.paid_purchases and observed.link_openings
