"""Load benchmark over HTTP (issue 9): credshare on PostgreSQL behind gunicorn (`credshare web`),
at 100,000 learners, 1,000,000 documents and 500,000 shares.

    .venv/bin/python bench/load.py                         # full size; keeps the database
    .venv/bin/python bench/load.py --learners 2000 --documents 20000 --shares 10000 \\
        --inbox-shares 2000 --requests 50 --seconds 5 --memory-requests 2000   # a quick look

Three workloads, a JSON report and a PNG plot each in bench/results/:

1. pages: the documents page, "My shares" and a 100,000-share inbox, one request at a time
   over HTTP with signed-in session cookies; p50/p95 measured by the client, queries counted
   in-process apart from the timed requests (bench/pages.py).
2. open: opening a share in the inbox (authorization, expiry check, access-log write, the PDF
   streamed) by 64 concurrent keep-alive connections from bench/loadgen.py, beside a bare
   Django endpoint (bench/server_urls.py) on the same server in the same run.
3. memory: one worker's RSS, sampled every 1,000 of 10,000 mixed requests.

The seeded database is kept between runs (its parameters are written next to the signed
PDFs and keys in var/bench-load/<database>/) and reused when they match; --fresh seeds anew,
--drop removes everything at the end. See bench/README.md.
"""

# The seed's SQL is put together from our own numbers and literals, never from input.
# ruff: noqa: S608

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pages
from common import (  # bench/ is on sys.path when a script in it runs
    REPO,
    code_version,
    postgres_create_database,
    postgres_database_exists,
    postgres_database_name,
    postgres_drop_database,
)
from loadgen import LoadResult, Target, run_load

BENCH = REPO / "bench"
RESULTS = BENCH / "results"
STATE_ROOT = REPO / "var" / "bench-load"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/credshare_bench_load"
# Bump when the seed changes shape: a database seeded by older code is then seeded anew.
SEED_VERSION = 1
# Shares of the big inbox whose document gets a real signed PDF; workload 2 opens them in turn.
OPEN_SHARES = 100
OPEN_FILES = "documents/bench-open/"
TARGET_P95_MS = 30
TARGET_RATE_RATIO = 0.5
# Memory is "flat" when it grows by at most this fraction after the first sample step.
FLAT_GROWTH = 0.05
# What a TLS proxy in front of gunicorn adds (the production profile trusts it from loopback).
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
PROXY_ENVIRON = {"HTTP_X_FORWARDED_PROTO": "https"}
LOADGEN_NOTE = (
    "The load generator (bench/loadgen.py, Python asyncio) runs on the same machine and "
    "competes with gunicorn and PostgreSQL for its cores; see cpu_seconds."
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_argument_group("size of the seeded database")
    size.add_argument("--learners", type=int, default=100_000)
    size.add_argument("--documents", type=int, default=1_000_000, help="in all")
    size.add_argument("--shares", type=int, default=500_000, help="in all")
    size.add_argument(
        "--inbox-shares", type=int, default=100_000, help="of them, received by one organization"
    )
    size.add_argument("--seed", type=int, default=2026, help="random seed of the measurements")
    database = parser.add_argument_group("database")
    database.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    database.add_argument("--fresh", action="store_true", help="seed anew even if it matches")
    database.add_argument(
        "--drop", action="store_true", help="drop the database and its files at the end"
    )
    run = parser.add_argument_group("what to run")
    run.add_argument(
        "--workloads", default="pages,open,memory", help="comma-separated: pages, open, memory"
    )
    run.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn workers")
    run.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    run.add_argument("--requests", type=int, default=300, help="timed requests per page")
    run.add_argument("--warmup", type=int, default=20, help="untimed requests per page first")
    run.add_argument("--connections", type=int, default=64, help="concurrent clients (open)")
    run.add_argument("--seconds", type=float, default=15, help="length of each open phase")
    run.add_argument("--rounds", type=int, default=2, help="bare then open, this many times")
    run.add_argument("--memory-requests", type=int, default=10_000)
    run.add_argument("--memory-every", type=int, default=1_000, help="RSS sampled every N")
    run.add_argument("--out-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.documents_per_learner = args.documents // max(args.learners, 1)
    args.shares_per_learner = args.shares // max(args.learners, 1)
    if args.learners < 1 or args.documents_per_learner < 2 or args.shares_per_learner < 1:
        parser.error("needs at least 1 learner, 2 documents and 1 share per learner")
    if not 0 < args.inbox_shares <= args.learners * args.shares_per_learner:
        parser.error("--inbox-shares must be between 1 and the number of shares")
    args.workloads = [name.strip() for name in args.workloads.split(",") if name.strip()]
    unknown = set(args.workloads) - {"pages", "open", "memory"}
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    return args


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    name, _ = postgres_database_name(args.postgres_url)
    state = STATE_ROOT / name
    reuse = prepare_database(args, state)
    configure_django(args.postgres_url, state)
    try:
        seeding = seed_or_reuse(args, state, reuse)
        # Staff seeded before staff had to have MFA get it now.
        pages.staff_enrol_mfa()
        world = load_world()
        context = {
            "parameters": seed_parameters(args),
            "code": code_version(),
            "seeding": seeding,
            "rows": seeding["rows"],
            "server": {
                "command": "credshare web (gunicorn, gthread workers)",
                "profile": "production (CREDSHARE_PROXY_SSL_HEADER=1, X-Forwarded-Proto: https)",
                "workers": args.workers,
                "threads": args.threads,
                "sessions": "database",
            },
            "load_generator_note": LOADGEN_NOTE,
        }
        written = []
        rng = random.Random(args.seed)
        if {"pages", "open"} & set(args.workloads):
            with web_server(args.workers, args.threads, state / "gunicorn.log") as server:
                if "pages" in args.workloads:
                    load = os.getloadavg()
                    report = workload_pages(args, world, rng, server)
                    written += finish("pages", report, context, load, args.out_dir)
                if "open" in args.workloads:
                    load = os.getloadavg()
                    report = workload_open(args, world, server)
                    written += finish("open", report, context, load, args.out_dir)
        if "memory" in args.workloads:
            # One worker, so that it receives every request.
            with web_server(1, args.threads, state / "gunicorn-memory.log") as server:
                load = os.getloadavg()
                report = workload_memory(args, world, rng, server)
                context["server"] = {**context["server"], "workers": 1}
                written += finish("memory", report, context, load, args.out_dir)
    finally:
        from django.db import connections

        connections.close_all()
        if args.drop:
            postgres_drop_database(args.postgres_url)
            shutil.rmtree(state, ignore_errors=True)
    for path in written:
        print(f"wrote {path}")
    print(f"Total run time: {time.perf_counter() - started:.1f} s")


# --- The database, kept between runs ----------------------------------------------------------


def seed_parameters(args: argparse.Namespace) -> dict:
    return {
        "learners": args.learners,
        "documents_per_learner": args.documents_per_learner,
        "shares_per_learner": args.shares_per_learner,
        "inbox_shares": args.inbox_shares,
        "seed_version": SEED_VERSION,
    }


def read_fingerprint(state: Path) -> dict | None:
    try:
        return json.loads((state / "fingerprint.json").read_text())
    except (OSError, ValueError):
        return None


def prepare_database(args: argparse.Namespace, state: Path) -> bool:
    """Whether the database seeded by an earlier run can serve again; if not, a fresh empty
    one. A database of that name that this benchmark did not seed is never dropped."""
    stored = read_fingerprint(state)
    exists = postgres_database_exists(args.postgres_url)
    matches = stored and stored.get("complete") and stored["parameters"] == seed_parameters(args)
    if exists and matches and not args.fresh:
        print(f"reusing the database seeded on {stored['seeded_at']}", flush=True)
        return True
    if exists:
        if stored is None:
            name, _ = postgres_database_name(args.postgres_url)
            raise SystemExit(
                f"The database {name!r} exists but this benchmark did not seed it: drop it "
                f"(dropdb {name}) or choose another with --postgres-url."
            )
        postgres_drop_database(args.postgres_url)
    shutil.rmtree(state, ignore_errors=True)
    postgres_create_database(args.postgres_url)
    # Ours from now on: a run interrupted while seeding is seeded anew by the next one.
    state.mkdir(parents=True)
    incomplete = {"parameters": seed_parameters(args), "complete": False}
    (state / "fingerprint.json").write_text(json.dumps(incomplete) + "\n")
    return False


def configure_django(database_url: str, state: Path) -> None:
    """The settings the web server runs with, in this process too (sessions are created here,
    queries counted here): production profile, a secret key of this run, the bench URLconf."""
    var = state / "var"
    (var / "static").mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "server_settings",
            "PYTHONPATH": os.pathsep.join([str(BENCH), str(REPO)]),
            "DATABASE_URL": database_url,
            "CREDSHARE_PROFILE": "production",
            "CREDSHARE_SECRET_KEY": secrets.token_urlsafe(50),
            "CREDSHARE_PROXY_SSL_HEADER": "1",
            "CREDSHARE_VAR_DIR": str(var),
            "CREDSHARE_MEDIA_ROOT": str(state / "media"),
            "CREDSHARE_KEY_DIR": str(state / "keys"),
            "CREDSHARE_LOG_LEVEL": "WARNING",
        }
    )
    for variable in ("CREDSHARE_CACHE_URL", "CREDSHARE_TSA_URL", "PROMETHEUS_MULTIPROC_DIR"):
        os.environ.pop(variable, None)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def seed_or_reuse(args: argparse.Namespace, state: Path, reuse: bool) -> dict:
    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrate_seconds = round(time.perf_counter() - started, 1)
    if reuse:
        stored = read_fingerprint(state)
        rows = pages.row_counts()
        for table in ("users", "documents", "shares", "share_documents"):
            if rows[table] != stored["rows"][table]:
                raise SystemExit(
                    f"The kept database has {rows[table]} {table}, not {stored['rows'][table]}: "
                    "run again with --fresh."
                )
        # Each run signs in afresh, and counts the accesses it writes itself.
        Session.objects.all().delete()
        open_accesses().delete()
        return {**stored, "reused": True, "migrate_seconds": migrate_seconds}

    print(f"migrated in {migrate_seconds} s; seeding {seed_parameters(args)}…", flush=True)
    started = time.perf_counter()
    seed(args)
    seeding_seconds = round(time.perf_counter() - started, 1)
    print(f"seeded in {seeding_seconds} s; VACUUM ANALYZE…", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    vacuum_seconds = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    sign_open_documents()
    signing_seconds = round(time.perf_counter() - started, 1)
    fingerprint = {
        "parameters": seed_parameters(args),
        "complete": True,
        "seeded_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "rows": pages.row_counts(),
        "seeding_seconds": seeding_seconds,
        "vacuum_analyze_seconds": vacuum_seconds,
        "signing_seconds": signing_seconds,
    }
    (state / "fingerprint.json").write_text(json.dumps(fingerprint, indent=2) + "\n")
    print(f"VACUUM ANALYZE {vacuum_seconds} s, {OPEN_SHARES} PDFs signed in {signing_seconds} s")
    return {**fingerprint, "reused": False, "migrate_seconds": migrate_seconds}


# --- Seeding in SQL ---------------------------------------------------------------------------


def insert_select(model, values: dict[str, str], source: str, constants: dict | None = None):
    """INSERT INTO the model's table ... SELECT ... FROM SOURCE: the columns in VALUES from
    those SQL expressions (trusted text: our own numbers and literals), those in CONSTANTS as
    parameters, every other column its field's default (a fresh UUID for a UUID field with a
    default, now() for a creation time). A column with none of these fails loudly: a field
    added since this was written needs a value here."""
    from django.db import connection, models

    constants = constants or {}
    columns, expressions, params = [], [], []
    for field in model._meta.concrete_fields:
        column = field.column
        if column in values:
            expressions.append(values[column])
        elif column in constants:
            expressions.append("%s")
            params.append(field.get_db_prep_save(constants[column], connection))
        elif field.primary_key:
            continue
        elif isinstance(field, models.UUIDField) and field.has_default():
            expressions.append("gen_random_uuid()")
        elif getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
            expressions.append("now()")
        elif field.has_default() or field.null or field.empty_strings_allowed:
            expressions.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
        else:
            raise ValueError(f"{model.__name__}.{field.name}: no value to seed it with")
        columns.append(connection.ops.quote_name(column))
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)} "
    sql += f"FROM {source}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def text_array(values) -> str:
    return "ARRAY[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def int_array(values) -> str:
    return "ARRAY[" + ", ".join(str(int(v)) for v in values) + "]::bigint[]"


def execute(sql: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)


def seed(args: argparse.Namespace) -> None:
    """The small part (issuers, receivers, staff) as bench/pages.py seeds it; the bulk in
    INSERT ... SELECT over generate_series, inside PostgreSQL: no Python object per row."""
    import hashlib

    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from credshare.accounts.models import User
    from credshare.billing.models import CreditEntry
    from credshare.core.testing import PASSWORD, sample_pdf
    from credshare.documents.models import Document, DocumentVersion
    from credshare.sharing.models import Share, ShareAccess

    per_learner_docs, per_learner_shares = args.documents_per_learner, args.shares_per_learner
    pdf = sample_pdf("benchmark")
    path = Path(settings.MEDIA_ROOT) / "documents" / "bench.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    # One Argon2 hash for every account.
    password = make_password(PASSWORD)

    step(None)
    with transaction.atomic():
        execute("SELECT setseed(0.2026)")
        issuers, charging = pages.seed_issuers()
        receivers = pages.seed_receivers()
        staff = pages.seed_staff(receivers, password)
        big, others = receivers[0].pk, [receiver.pk for receiver in receivers[1:]]
        step("organizations and staff")
        insert_select(
            User,
            {
                "email": "'learner' || lpad(n::text, 7, '0') || '@bench.example'",
                "full_name": "'Learner ' || lpad(n::text, 7, '0')",
                "language": "CASE WHEN mod(n, 2) = 1 THEN 'fr' ELSE 'en' END",
                "date_joined": "now() - interval '500 days'",
            },
            f"generate_series(0, {args.learners - 1}) AS n",
            constants={"password": password},
        )
        execute(
            "CREATE TEMP TABLE seed_learners ON COMMIT DROP AS SELECT id, "
            "(row_number() OVER (ORDER BY id) - 1)::int AS n FROM accounts_user "
            "WHERE email LIKE 'learner%@bench.example'"
        )
        step("learners")
        insert_select(
            Document,
            {
                "issuer_id": f"({int_array(i.pk for i in issuers)})[1 + floor(random() * 3)::int]",
                "learner_id": "l.id",
                "document_type": f"({text_array(Document.Type.values)})"
                f"[1 + floor(random() * {len(Document.Type.values)})::int]",
                "title": "'Document ' || lpad(l.n::text, 7, '0') || '-' || lpad(k::text, 3, '0')",
                "issue_date": "current_date - (30 + floor(random() * 3621))::int",
                # A few withdrawn documents: the page shows why they cannot be shared.
                "status": f"CASE WHEN random() < 0.03 THEN '{Document.Status.WITHDRAWN}' "
                f"ELSE '{Document.Status.ACTIVE}' END",
                "created": "now() - random() * interval '29 days'",
            },
            f"seed_learners l CROSS JOIN generate_series(0, {per_learner_docs - 1}) AS k",
        )
        step("documents")
        insert_select(
            DocumentVersion,
            {"document_id": "d.id", "number": "1", "created": "d.created"},
            f"{Document._meta.db_table} d",
            constants={
                "file": "documents/bench.pdf",
                "sha256": hashlib.sha256(pdf).hexdigest(),
                "size": len(pdf),
            },
        )
        execute(
            "CREATE TEMP TABLE seed_documents ON COMMIT DROP AS SELECT id, learner_id, "
            "issuer_id, (row_number() OVER (PARTITION BY learner_id ORDER BY id) - 1)::int AS k "
            f"FROM {Document._meta.db_table}"
        )
        execute("CREATE INDEX ON seed_documents (learner_id, k)")
        execute("ANALYZE seed_documents")
        step("versions")
        # The plan of each share; exactly --inbox-shares go to the big receiver, the others
        # spread over the rest.
        execute(
            "CREATE TEMP TABLE seed_shares ON COMMIT DROP AS SELECT p.*, CASE WHEN "
            f"row_number() OVER (ORDER BY p.r_order) <= {args.inbox_shares} THEN {big} "
            f"ELSE ({int_array(others)})[1 + floor(p.r_receiver * {len(others)})::int] END "
            "AS receiver_id FROM (SELECT l.id AS owner_id, l.n, k, "
            "now() - (60 + random() * 31536000) * interval '1 second' AS created, "
            "gen_random_uuid() AS token, random() AS r_order, random() AS r_receiver, "
            "random() AS r_expiry, random() AS r_days, random() AS r_revoked, "
            "random() AS r_program, random() AS r_docs, random() AS r_open, "
            f"floor(random() * {per_learner_docs})::int AS k1, "
            f"floor(random() * {per_learner_docs - 1})::int AS k2_offset "
            f"FROM seed_learners l CROSS JOIN generate_series(0, {per_learner_shares - 1}) k) p"
        )
        label = "lpad(s.n::text, 7, '0') || '-' || lpad(s.k::text, 3, '0')"
        number = f"'A-' || {label}"
        insert_select(
            Share,
            {
                "owner_id": "s.owner_id",
                "channel": f"'{Share.Channel.ORGANIZATION}'",
                "recipient_organization_id": "s.receiver_id",
                "name": f"'Share ' || {label}",
                "purpose": "'Admission application'",
                "reference": f"'REF-' || {label}",
                "field_values": f"CASE WHEN s.r_program < 0.5 THEN jsonb_build_object("
                f"'application_number', {number}, 'intended_program', "
                f"({text_array(pages.PROGRAMS)})[1 + floor(s.r_program * 6)::int]) "
                f"ELSE jsonb_build_object('application_number', {number}) END",
                # Half expire, a week to seven months after the share: some are past already.
                "expires_on": "CASE WHEN s.r_expiry < 0.5 THEN "
                "(s.created + (7 + floor(s.r_days * 204)) * interval '1 day')::date END",
                "revoked_at": "CASE WHEN s.r_revoked < 0.05 THEN least(now(), "
                "s.created + (1 + floor(s.r_revoked * 580)) * interval '1 day') END",
                "created": "s.created",
                "submission_token": "s.token",
            },
            # Oldest first, so that ids grow with the creation time as in real life.
            "seed_shares s ORDER BY s.created",
        )
        # Each share holds one of its owner's documents, a third of them a second one.
        execute(
            "CREATE TEMP TABLE seed_pairs ON COMMIT DROP AS "
            "SELECT sh.id AS share_id, d.id AS document_id, d.issuer_id, s.owner_id, "
            "s.receiver_id, s.created, s.r_open, second FROM seed_shares s "
            f"JOIN {Share._meta.db_table} sh ON sh.owner_id = s.owner_id "
            "AND sh.submission_token = s.token "
            "CROSS JOIN LATERAL (VALUES (s.k1, false), "
            f"(mod(s.k1 + 1 + s.k2_offset, {per_learner_docs}), true)) AS pick(k, second) "
            "JOIN seed_documents d ON d.learner_id = s.owner_id AND d.k = pick.k "
            "WHERE NOT second OR s.r_docs < 1.0 / 3"
        )
        insert_select(
            Share.documents.through,
            {"share_id": "p.share_id", "document_id": "p.document_id"},
            "seed_pairs p",
        )
        step("shares")
        charging_id = charging.pk
        insert_select(
            CreditEntry,
            {
                "learner_id": "l.id",
                "issuer_id": str(charging_id),
                "kind": f"'{CreditEntry.Kind.GRANT}'",
                "amount": str(per_learner_shares * 2),
                "created": "now() - interval '400 days'",
            },
            "seed_learners l",
        )
        insert_select(
            CreditEntry,
            {
                "learner_id": "p.owner_id",
                "issuer_id": str(charging_id),
                "kind": f"'{CreditEntry.Kind.SPEND}'",
                "amount": "-1",
                "share_id": "p.share_id",
                "created": "p.created",
            },
            f"(SELECT DISTINCT ON (share_id) * FROM seed_pairs WHERE issuer_id = {charging_id}) p",
        )
        step("credits")
        # A third of the shares were opened by a staff member of the receiver, and their
        # first document viewed.
        first_staff = ", ".join(f"({rid}, {group[0].pk})" for rid, group in staff.items())
        opened = (
            f"seed_pairs p JOIN (VALUES {first_staff}) AS st(receiver_id, user_id) "
            "ON st.receiver_id = p.receiver_id WHERE NOT p.second AND p.r_open < 0.3"
        )
        at = "least(now(), p.created + (1 + floor(p.r_open * 240)) * interval '1 hour')"
        for action, document in (
            (ShareAccess.Action.OPENED, "NULL"),
            (ShareAccess.Action.VIEWED, "p.document_id"),
        ):
            insert_select(
                ShareAccess,
                {
                    "share_id": "p.share_id",
                    "action": f"'{action}'",
                    "at": at,
                    "user_id": "st.user_id",
                    "organization_id": "p.receiver_id",
                    "document_id": document,
                },
                opened,
            )
        step("accesses")
    step("commit")


_step_started = [time.perf_counter()]


def step(name: str | None) -> None:
    """Print how long the previous step took (None: start the clock)."""
    now = time.perf_counter()
    if name is not None:
        print(f"  {name} in {now - _step_started[0]:.1f} s", flush=True)
    _step_started[0] = now


def sign_open_documents() -> None:
    """A real signed PDF, each its own file, for the first document of OPEN_SHARES live shares
    of the big inbox that never expire: what workload 2 streams."""
    import hashlib

    from django.conf import settings

    from credshare.documents.models import Document, DocumentVersion
    from credshare.documents.pdf import transcript_pdf
    from credshare.documents.signing import sign_pdf
    from credshare.sharing.models import Share

    world = load_world()
    shares = (
        Share.objects.filter(
            recipient_organization_id=world.big_receiver_id,
            revoked_at__isnull=True,
            expires_on__isnull=True,
        )
        .prefetch_related("documents__issuer", "documents__learner")
        .order_by("id")
    )
    courses = [(f"BEN{n}00", f"Benchmark course {n}", "3", "A") for n in range(10)]
    signed: set[int] = set()
    for share in shares.iterator(chunk_size=200):
        document = next((d for d in share.documents.all() if d.status == "active"), None)
        if document is None or document.pk in signed:
            continue
        pdf = transcript_pdf(
            issuer_name=document.issuer.name,
            learner_name=document.learner.full_name,
            program="Benchmark",
            courses=courses,
            issue_date=document.issue_date,
            gpa="3.9",
        )
        data = sign_pdf(pdf=pdf, document=document, issuer=document.issuer)
        name = f"{OPEN_FILES}{document.pk}.pdf"
        path = Path(settings.MEDIA_ROOT) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        DocumentVersion.objects.filter(document=document).update(
            file=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data)
        )
        signed.add(document.pk)
        if len(signed) == OPEN_SHARES:
            break
    if len(signed) < OPEN_SHARES:
        raise SystemExit(f"only {len(signed)} shares of the inbox to open: seed more")
    assert Document.objects.filter(versions__file__startswith=OPEN_FILES).count() == OPEN_SHARES


def open_accesses():
    """The accesses workload 2 wrote (the seeded ones name no version)."""
    from credshare.sharing.models import ShareAccess

    return ShareAccess.objects.filter(version__file__startswith=OPEN_FILES)


def load_world() -> pages.World:
    from credshare.accounts.models import User
    from credshare.network.models import Membership, Organization

    big = Organization.objects.get(slug="bench-receiver-00")
    learners = User.objects.filter(email__startswith="learner", email__endswith="@bench.example")
    staff = Membership.objects.filter(organization=big).order_by("user_id")
    return pages.World(
        learner_ids=list(learners.order_by("id").values_list("id", flat=True)),
        inbox_staff_ids=list(staff.values_list("user_id", flat=True)),
        big_receiver_id=big.pk,
        counts={},
    )


# --- The web server ---------------------------------------------------------------------------


@dataclass
class Server:
    port: int
    pid: int

    def worker_pids(self) -> list[int]:
        return children_of(self.pid)


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise ValueError(f"no VmRSS for {pid}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def web_server(workers: int, threads: int, log_path: Path):
    """`credshare web` on a free loopback port, started with this process's environment;
    yields once every worker is up and the liveness endpoint answers."""
    port = free_port()
    credshare = Path(sys.executable).with_name("credshare")
    command = [str(credshare)] if credshare.exists() else [sys.executable, "-m", "credshare.cli"]
    command += ["web", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--threads", str(threads)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    server = Server(port=port, pid=process.pid)
    try:
        deadline = time.monotonic() + 120
        while not (len(server.worker_pids()) == workers and http_get(port, "/health/live")[0]):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start: see {log_path}")
            time.sleep(0.2)
        print(f"gunicorn up on 127.0.0.1:{port}: {workers} workers × {threads} threads")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def http_get(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={**PROXY_HEADERS, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    except OSError:
        return 0, b""
    finally:
        connection.close()


def session_cookie(client) -> dict[str, str]:
    """The headers of a browser signed in as the test client's user."""
    from django.conf import settings

    name = settings.SESSION_COOKIE_NAME
    return {**PROXY_HEADERS, "Cookie": f"{name}={client.cookies[name].value}"}


def summary(latencies_ms: list[float]) -> dict:
    cuts = statistics.quantiles(latencies_ms, n=100, method="inclusive")
    return {
        "p50_ms": round(statistics.median(latencies_ms), 2),
        "p95_ms": round(cuts[94], 2),
        "p99_ms": round(cuts[98], 2),
        "mean_ms": round(statistics.fmean(latencies_ms), 2),
        "max_ms": round(max(latencies_ms), 2),
    }


# --- Workload 1: pages at scale ---------------------------------------------------------------


@dataclass
class HttpResponse:
    """What pages.check looks at."""

    status_code: int
    content: bytes


def workload_pages(args, world: pages.World, rng: random.Random, server: Server) -> dict:
    """Each page one request at a time over one keep-alive connection, timed by the client."""
    plans = pages.page_plans(args, world, rng, environ=PROXY_ENVIRON)
    results = {}
    for page in plans:
        print(f"pages: {page.name} ({page.url})…", flush=True)
        visits = [page.visits[n % len(page.visits)] for n in range(args.warmup + args.requests)]
        headers = {id(visit): session_cookie(visit.client) for visit in visits}
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        timings = []
        for n, visit in enumerate(visits):
            started = time.perf_counter()
            connection.request("GET", page.url, headers=headers[id(visit)])
            response = connection.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            pages.check(page, visit, HttpResponse(response.status, body))
            if n >= args.warmup:
                timings.append(elapsed)
        connection.close()
        queries = pages.count_queries(page, visits[args.warmup : args.warmup + pages.QUERY_SAMPLES])
        results[page.name] = {
            "url": page.url,
            "requests": len(timings),
            "distinct_users": len({id(visit.client) for visit in visits[args.warmup :]}),
            "rows_on_page": len(page.visits[0].expected),
            **summary(timings),
            **queries,
            "meets_target": summary(timings)["p95_ms"] < TARGET_P95_MS,
        }
    return {"target_p95_ms": TARGET_P95_MS, "pages": results}


# --- Workload 2: opening a share beside a bare endpoint --------------------------------------


def open_targets(world: pages.World) -> list[Target]:
    """The signed documents of the big inbox, inline, each by one of its staff in turn."""
    from django.urls import reverse

    from credshare.sharing.models import Share

    staff = [
        session_cookie(pages.signed_in_client(user_id, PROXY_ENVIRON))
        for user_id in world.inbox_staff_ids
    ]
    pairs = (
        Share.documents.through.objects.filter(
            share__recipient_organization_id=world.big_receiver_id,
            share__revoked_at__isnull=True,
            share__expires_on__isnull=True,
            document__versions__file__startswith=OPEN_FILES,
        )
        .order_by("share_id")
        .values_list("share_id", "document_id")
    )
    return [
        Target(reverse("inbox:view", args=[share_id, document_id]), staff[n % len(staff)])
        for n, (share_id, document_id) in enumerate(pairs)
    ]


def bare_target(world: pages.World) -> Target:
    from server_urls import BARE_PATH

    # The same session cookie as a share opening: the middleware sees the same request.
    cookie = session_cookie(pages.signed_in_client(world.inbox_staff_ids[0], PROXY_ENVIRON))
    return Target("/" + BARE_PATH, cookie)


def is_pdf(body: bytes) -> bool:
    return body.startswith(b"%PDF-")


def is_ok(body: bytes) -> bool:
    return body == b"ok"


def postgres_backend_cpu() -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the bench database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = [pid for (pid,) in cursor.fetchall()]
    found = {}
    for pid in pids:
        try:
            found[pid] = cpu_seconds(pid)
        except OSError:  # gone meanwhile, or another machine's server
            continue
    return found


def phase(server: Server, targets, *, connections, seconds, body_ok, max_requests=10**7) -> dict:
    """One run of the load generator, with the CPU time it, the server and PostgreSQL used
    meanwhile."""
    processes = [server.pid, *server.worker_pids()]
    server_cpu = sum(cpu_seconds(pid) for pid in processes)
    backends_before = postgres_backend_cpu()
    own_cpu = time.process_time()
    load_before = os.getloadavg()[0]
    result = run_load(
        port=server.port,
        targets=targets,
        connections=connections,
        max_requests=max_requests,
        max_seconds=seconds,
        body_ok=body_ok,
    )
    own_cpu = time.process_time() - own_cpu
    server_cpu = sum(cpu_seconds(pid) for pid in processes) - server_cpu
    backends = postgres_backend_cpu()
    postgres_cpu = sum(cpu - backends_before.get(pid, 0.0) for pid, cpu in backends.items())
    return {
        "result": result,
        "cpu_seconds": {
            "load_generator": round(own_cpu, 2),
            "gunicorn": round(server_cpu, 2),
            "postgres_backends": round(postgres_cpu, 2),
        },
        "load_average_1min": [load_before, os.getloadavg()[0]],
    }


def phase_report(measured: dict) -> dict:
    result: LoadResult = measured["result"]
    return {
        "requests": result.requests,
        "seconds": round(result.seconds, 2),
        "requests_per_second": round(result.requests_per_second, 1),
        **summary(result.latencies_ms),
        "statuses": {str(status): count for status, count in sorted(result.statuses.items())},
        "bad_bodies": result.bad_bodies,
        "errors": len(result.errors),
        "first_errors": result.errors[:3],
        "bytes_per_response": round(result.body_bytes / max(result.requests, 1)),
        "cpu_seconds": measured["cpu_seconds"],
        # Less disturbed by other work on the machine than the rate.
        "cpu_ms_per_request": cpu_per_request([measured]),
        "load_average_1min": measured["load_average_1min"],
    }


def cpu_per_request(phases: list[dict]) -> dict:
    requests = max(sum(measured["result"].requests for measured in phases), 1)
    return {
        name: round(sum(measured["cpu_seconds"][name] for measured in phases) * 1000 / requests, 2)
        for name in ("gunicorn", "postgres_backends")
    }


def combined(phases: list[dict]) -> dict:
    results: list[LoadResult] = [measured["result"] for measured in phases]
    latencies = [ms for result in results for ms in result.latencies_ms]
    requests = sum(result.requests for result in results)
    seconds = sum(result.seconds for result in results)
    statuses = sum((result.statuses for result in results), Counter())
    return {
        "requests": requests,
        "requests_per_second": round(requests / seconds, 1),
        **summary(latencies),
        "non_200": requests - statuses.get(200, 0),
        "cpu_ms_per_request": cpu_per_request(phases),
        "bad_bodies": sum(result.bad_bodies for result in results),
        "errors": sum(len(result.errors) for result in results),
    }


def workload_open(args, world: pages.World, server: Server) -> dict:
    from credshare.sharing.models import ShareAccess

    targets, bare = open_targets(world), [bare_target(world)]
    options = {"connections": args.connections, "seconds": args.seconds}
    print(f"open: warming up ({len(targets)} shares)…", flush=True)
    phase(server, bare, connections=args.connections, seconds=2, body_ok=is_ok)
    phase(server, targets, connections=args.connections, seconds=2, body_ok=is_pdf)
    accesses_before = open_accesses().filter(action=ShareAccess.Action.VIEWED).count()
    rounds = []
    for n in range(args.rounds):
        # Alternating, so that a change in the machine's load falls on both alike.
        print(f"open: round {n + 1}/{args.rounds}: bare, then opening shares…", flush=True)
        bare_phase = phase(server, bare, body_ok=is_ok, **options)
        open_phase = phase(server, targets, body_ok=is_pdf, **options)
        rounds.append({"bare": bare_phase, "open": open_phase})
    accesses_written = (
        open_accesses().filter(action=ShareAccess.Action.VIEWED).count() - accesses_before
    )
    bare_all = combined([r["bare"] for r in rounds])
    open_all = combined([r["open"] for r in rounds])
    ratio = open_all["requests_per_second"] / bare_all["requests_per_second"]
    # The ratio the rates would have if gunicorn's CPU were all that limited them.
    cpu = [all_["cpu_ms_per_request"]["gunicorn"] for all_ in (bare_all, open_all)]
    return {
        "target_ratio": TARGET_RATE_RATIO,
        "connections": args.connections,
        "seconds_per_phase": args.seconds,
        "shares_opened_in_turn": len(targets),
        "open_url_example": targets[0].path,
        "bare_url": bare[0].path,
        "bare": bare_all,
        "open": open_all,
        "ratio": round(ratio, 3),
        "gunicorn_cpu_ratio": round(cpu[0] / cpu[1], 3) if cpu[1] else None,
        "meets_target": ratio >= TARGET_RATE_RATIO,
        # Every 200 of the opening phases, and of their warm-up, must have written its access.
        "accesses_written": accesses_written,
        "rounds": [{kind: phase_report(p) for kind, p in r.items()} for r in rounds],
    }


# --- Workload 3: a worker's memory ------------------------------------------------------------


def workload_memory(args, world: pages.World, rng: random.Random, server: Server) -> dict:
    """The three pages, share openings and the bare endpoint in turn, from 4 connections, to a
    single worker; its RSS read from /proc after every --memory-every requests."""
    (worker,) = server.worker_pids()
    plans = pages.page_plans(args, world, rng, environ=PROXY_ENVIRON)
    page_targets = [
        Target(page.url, session_cookie(visit.client)) for page in plans for visit in page.visits
    ]
    rng.shuffle(page_targets)
    opens, bare = open_targets(world), bare_target(world)
    targets = []
    for n, page_target in enumerate(page_targets):
        targets += [page_target, opens[n % len(opens)]] + ([bare] if n % 10 == 0 else [])
    run_load(port=server.port, targets=targets, connections=4, max_requests=200, max_seconds=120)
    samples = [{"requests": 0, "rss_bytes": rss_bytes(worker)}]
    statuses: Counter = Counter()
    done = 0
    while done < args.memory_requests:
        batch = min(args.memory_every, args.memory_requests - done)
        result = run_load(
            port=server.port, targets=targets, connections=4, max_requests=batch, max_seconds=600
        )
        done += result.requests
        statuses += result.statuses
        samples.append({"requests": done, "rss_bytes": rss_bytes(worker)})
        print(f"memory: {done} requests, RSS {samples[-1]['rss_bytes'] / 2**20:.1f} MiB")
        # Rotate the targets so that each batch starts elsewhere in the mix.
        targets = targets[batch % len(targets) :] + targets[: batch % len(targets)]
    if server.worker_pids() != [worker]:
        raise SystemExit("the worker was replaced during the memory run")
    first = samples[1]["rss_bytes"] if len(samples) > 2 else samples[0]["rss_bytes"]
    growth = (samples[-1]["rss_bytes"] - first) / first
    return {
        "requests": done,
        "sample_every": args.memory_every,
        "mix": "documents, my_shares, inbox pages and share openings in turn; bare every 10th",
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        "samples": samples,
        "rss_start_mib": round(samples[0]["rss_bytes"] / 2**20, 1),
        "rss_end_mib": round(samples[-1]["rss_bytes"] / 2**20, 1),
        "growth_after_first_step": round(growth, 4),
        "flat_threshold": FLAT_GROWTH,
        "meets_target": growth <= FLAT_GROWTH,
    }


# --- Reports and plots ------------------------------------------------------------------------


def finish(name: str, report: dict, context: dict, load_at_start, out_dir: Path) -> list[Path]:
    """Write the workload's JSON report and plot; LOAD_AT_START is the load average when the
    workload began."""
    report = {
        "workload": name,
        **context,
        "machine": {
            **pages.machine_info(load_at_start),
            "nproc": len(os.sched_getaffinity(0)),
        },
        **report,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"load-{name}.json"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    png_path = out_dir / f"load-{name}.png"
    PLOTS[name](report, png_path)
    print(headline(name, report), flush=True)
    return [json_path, png_path]


def headline(name: str, report: dict) -> str:
    load = report["machine"]["load_average_at_end"]
    if name == "pages":
        parts = [
            f"{page}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, {r['queries_max']} queries"
            for page, r in report["pages"].items()
        ]
        return f"pages (target p95 < {TARGET_P95_MS} ms): " + "; ".join(parts) + f"; load {load}"
    if name == "open":
        bare, opened = report["bare"], report["open"]
        return (
            f"open: {opened['requests_per_second']} rps, p99 {opened['p99_ms']} ms; bare "
            f"{bare['requests_per_second']} rps, p99 {bare['p99_ms']} ms; ratio "
            f"{report['ratio']} (target ≥ {TARGET_RATE_RATIO}); gunicorn CPU ms per request: bare "
            f"{bare['cpu_ms_per_request']['gunicorn']}, open "
            f"{opened['cpu_ms_per_request']['gunicorn']}; load {load}"
        )
    return (
        f"memory: RSS {report['rss_start_mib']} MiB → {report['rss_end_mib']} MiB after "
        f"{report['requests']} requests (growth {report['growth_after_first_step']:.1%}); "
        f"load {load}"
    )


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _caption(report: dict) -> str:
    machine, rows = report["machine"], report["rows"]
    return (
        f"{rows['users']:,} users, {rows['documents']:,} documents, {rows['shares']:,} shares; "
        f"{machine['nproc']} cores ({machine['processor']}), load "
        f"{machine['load_average_at_start'][0]} → {machine['load_average_at_end'][0]}"
    )


def plot_pages(report: dict, path: Path) -> None:
    plt = _figure()
    names = list(report["pages"])
    figure, axes = plt.subplots(figsize=(8, 4.5))
    x = range(len(names))
    p50 = [report["pages"][n]["p50_ms"] for n in names]
    p95 = [report["pages"][n]["p95_ms"] for n in names]
    axes.bar([i - 0.2 for i in x], p50, width=0.4, label="p50")
    axes.bar([i + 0.2 for i in x], p95, width=0.4, label="p95")
    axes.axhline(TARGET_P95_MS, color="red", linestyle="--", label=f"target p95 {TARGET_P95_MS} ms")
    labels = [f"{n}\n{report['pages'][n]['queries_max']} queries" for n in names]
    axes.set_xticks(list(x), labels)
    axes.set_ylabel("ms, measured by the HTTP client")
    axes.set_title("Pages over HTTP (gunicorn, PostgreSQL)")
    axes.legend()
    figure.text(0.5, 0.01, _caption(report), ha="center", fontsize=7)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_open(report: dict, path: Path) -> None:
    plt = _figure()
    figure, (rate, tail) = plt.subplots(1, 2, figsize=(9, 4.5))
    kinds = ["bare", "open"]
    labels = ["bare endpoint", "opening a share"]
    rate.bar(labels, [report[k]["requests_per_second"] for k in kinds], color=["grey", "C0"])
    rate.axhline(
        report["bare"]["requests_per_second"] * TARGET_RATE_RATIO,
        color="red",
        linestyle="--",
        label="target: half the bare rate",
    )
    rate.set_ylabel("requests per second")
    rate.set_title(f"{report['connections']} clients: ratio {report['ratio']}")
    rate.legend()
    bars = ((-0.2, "bare", labels[0], "grey"), (0.2, "open", labels[1], "C0"))
    for offset, kind, label, colour in bars:
        values = [report[kind]["p50_ms"], report[kind]["p99_ms"]]
        tail.bar([offset, 1 + offset], values, width=0.4, label=label, color=colour)
    tail.set_xticks([0, 1], ["p50", "p99"])
    tail.set_ylabel("ms, measured by the load generator")
    tail.set_title("latency")
    tail.legend()
    figure.text(0.5, 0.01, _caption(report), ha="center", fontsize=7)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_memory(report: dict, path: Path) -> None:
    plt = _figure()
    figure, axes = plt.subplots(figsize=(8, 4.5))
    samples = report["samples"]
    axes.plot(
        [s["requests"] for s in samples], [s["rss_bytes"] / 2**20 for s in samples], marker="o"
    )
    axes.set_ylim(bottom=0)
    axes.set_xlabel("requests served by the worker after 200 warm-up requests")
    axes.set_ylabel("RSS, MiB (/proc/<pid>/status)")
    axes.set_title("One gunicorn worker's resident memory")
    figure.text(0.5, 0.01, _caption(report), ha="center", fontsize=7)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    figure.savefig(path, dpi=100)
    plt.close(figure)


PLOTS = {"pages": plot_pages, "open": plot_open, "memory": plot_memory}


if __name__ == "__main__":
    main()
