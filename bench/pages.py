"""Benchmark of the list pages that grow with the data: the learner's documents, the learner's
"My shares" and a receiving organization's inbox.

Seeds a fresh database (SQLite, PostgreSQL or both) with bulk inserts, then times requests made
in-process through django.test.Client: the whole Django stack (middleware, session, view,
queries, template) without a web server or a network. See bench/README.md.

    .venv/bin/python bench/pages.py [--database sqlite|postgres|both] [--learners 10000] ...

With --database both, each database runs in its own Python process (Django is configured once
per process), one after the other.
"""

import argparse
import datetime
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common import (  # bench/ is on sys.path when a script in it runs
    REPO,
    code_version,
    cpu_model,
    postgres_create_database,
    postgres_drop_database,
)

DEFAULT_OUT = str(REPO / "bench" / "results" / "pages-{database}.json")
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/credshare_bench"

BATCH_SIZE = 2000
RECEIVERS = 20
# The big receiver gets this fraction of all shares: its inbox pages through thousands.
BIG_RECEIVER_FRACTION = 0.4
BIG_RECEIVER_STAFF = 3
# The choices of each receiver's optional share field.
PROGRAMS = ["science", "arts", "engineering"]
# How many requests of each page are repeated under CaptureQueriesContext to count queries.
QUERY_SAMPLES = 10
TARGET_P95_MS = 30


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--documents-per-learner", type=int, default=10)
    parser.add_argument("--shares-per-learner", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per page first")
    parser.add_argument(
        "--out", default=DEFAULT_OUT, help="JSON report; {database} becomes sqlite or postgres"
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server and name of a database that must not exist yet: created, then dropped",
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the data")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the seeded database (and the SQLite file) in place, to EXPLAIN queries",
    )
    args = parser.parse_args(argv)
    if args.learners < 1 or args.documents_per_learner < 2 or args.shares_per_learner < 1:
        parser.error("needs at least 1 learner, 2 documents and 1 share per learner")
    return args


# --- One database per process ----------------------------------------------------------------


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    if args.database == "both":
        reports = []
        for database in ("sqlite", "postgres"):
            # A fresh interpreter per database: Django's settings cannot change once loaded.
            child = [sys.executable, __file__, *child_arguments(args, database)]
            subprocess.run(child, check=True)  # noqa: S603 -- our own script, our own arguments
            reports.append(json.loads(Path(args.out.format(database=database)).read_text()))
        print_table(reports)
    else:
        run_one(args)
    print(f"Total run time: {time.perf_counter() - started:.1f} s")


def child_arguments(args: argparse.Namespace, database: str) -> list[str]:
    arguments = []
    for key, value in {**vars(args), "database": database}.items():
        option = f"--{key.replace('_', '-')}"
        if isinstance(value, bool):
            arguments += [option] if value else []
        else:
            arguments += [option, str(value)]
    return arguments


def run_one(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    # The SQLite file and the media folder (one small PDF) live here.
    tmp_dir = Path(tempfile.mkdtemp(prefix="credshare-bench-"))
    postgres = args.database == "postgres"
    url = args.postgres_url if postgres else f"sqlite:///{tmp_dir / 'bench.sqlite3'}"
    if postgres:
        postgres_create_database(url)
    try:
        report = benchmark_database(args, url, tmp_dir)
    finally:
        if args.keep:
            print(f"[{args.database}] kept {url} and {tmp_dir}: remove them when done")
        else:
            if postgres:
                postgres_drop_database(url)
            shutil.rmtree(tmp_dir, ignore_errors=True)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    out = Path(args.out.format(database=args.database))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print_table([report])
    print(f"[{args.database}] report written to {out} ({report['total_seconds']} s in all)")


def configure_django(database_url: str, tmp_dir: Path) -> None:
    """Point credshare's settings at the bench database and a throwaway media folder."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "credshare.settings",
            "DATABASE_URL": database_url,
            "CREDSHARE_VAR_DIR": str(tmp_dir / "var"),
            "CREDSHARE_MEDIA_ROOT": str(tmp_dir / "media"),
            "CREDSHARE_DEBUG": "0",
        }
    )
    # WhiteNoise warns when STATIC_ROOT is missing; the pages serve no static file here.
    (tmp_dir / "var" / "static").mkdir(parents=True)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


# --- The benchmark ---------------------------------------------------------------------------


def benchmark_database(args: argparse.Namespace, database_url: str, tmp_dir: Path) -> dict:
    configure_django(database_url, tmp_dir)
    from django.db import connections

    try:
        return seed_and_measure(args)
    finally:
        # Nothing may hold the database open once it is to be dropped.
        connections.close_all()


def seed_and_measure(args: argparse.Namespace) -> dict:
    from django.core.management import call_command
    from django.db import connection

    label = args.database
    load_at_start = os.getloadavg()
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrate_seconds = time.perf_counter() - started
    print(f"[{label}] migrated in {migrate_seconds:.1f} s; seeding…", flush=True)

    started = time.perf_counter()
    world = seed(args, random.Random(args.seed))
    seeding_seconds = time.perf_counter() - started
    print(f"[{label}] seeded in {seeding_seconds:.1f} s: {world.counts}", flush=True)

    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load: planner statistics and a visibility
        # map. Without it the planner guesses at row counts of freshly filled tables.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"[{label}] VACUUM ANALYZE in {time.perf_counter() - started:.1f} s", flush=True)

    rng = random.Random(args.seed + 1)
    pages = {}
    for page in page_plans(args, world, rng):
        print(f"[{label}] measuring {page.name} ({page.url})…", flush=True)
        pages[page.name] = measure(page, requests=args.requests, warmup=args.warmup)
    return {
        "database": label,
        "parameters": {
            "learners": args.learners,
            "documents_per_learner": args.documents_per_learner,
            "shares_per_learner": args.shares_per_learner,
            "requests": args.requests,
            "warmup": args.warmup,
            "seed": args.seed,
        },
        "code": code_version(),
        "machine": machine_info(load_at_start),
        "rows": world.counts,
        "migrate_seconds": round(migrate_seconds, 1),
        "seeding_seconds": round(seeding_seconds, 1),
        "target_p95_ms": TARGET_P95_MS,
        "pages": pages,
    }


def machine_info(load_at_start: tuple[float, float, float]) -> dict:
    import django
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
    else:
        import sqlite3

        database = f"SQLite {sqlite3.sqlite_version}"
    return {
        "platform": platform.platform(),
        "processor": cpu_model() or platform.processor(),
        "cpu_count": os.cpu_count(),
        # Other work on the machine shows in the timings: this says how busy it was.
        "load_average_at_start": [round(load, 2) for load in load_at_start],
        "load_average_at_end": [round(load, 2) for load in os.getloadavg()],
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": database,
    }


# --- Seeding ---------------------------------------------------------------------------------


@dataclass
class World:
    learner_ids: list[int]
    inbox_staff_ids: list[int]
    big_receiver_id: int
    counts: dict[str, int]


@contextmanager
def explicit_creation_times(*models):
    """Let bulk_create keep the `created` times the seed gives instead of stamping every row
    with the same instant: the pages sort by them, the spread matters for the query plans."""
    fields = [model._meta.get_field("created") for model in models]
    for field in fields:
        field.auto_now_add = False
    try:
        yield
    finally:
        for field in fields:
            field.auto_now_add = True


def seed(args: argparse.Namespace, rng: random.Random) -> World:
    """Fill the database with bulk inserts: no services, no PDF rendering per document."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from credshare.billing.models import CreditEntry
    from credshare.core.testing import PASSWORD
    from credshare.documents.models import Document, DocumentVersion
    from credshare.sharing.models import Share

    # One Argon2 hash for every account: hashing 10,000 passwords would take minutes.
    password = make_password(PASSWORD)
    with (
        transaction.atomic(),
        explicit_creation_times(Share, Document, DocumentVersion, CreditEntry),
    ):
        issuers, charging_issuer = seed_issuers()
        receivers = seed_receivers()
        big_receiver = receivers[0]
        staff_by_receiver = seed_staff(receivers, password)
        learners = seed_learners(args.learners, password)
        documents = seed_documents(args, rng, learners, issuers)
        shares = seed_shares(args, rng, learners, documents, receivers)
        seed_credits(learners, shares, charging_issuer, args.shares_per_learner)
        seed_accesses(rng, shares, staff_by_receiver)
    return World(
        learner_ids=[learner.pk for learner in learners],
        inbox_staff_ids=[staff.pk for staff in staff_by_receiver[big_receiver.pk]],
        big_receiver_id=big_receiver.pk,
        counts=row_counts(),
    )


def seed_issuers():
    from credshare.billing.models import FeePolicy
    from credshare.network.models import Organization
    from credshare.network.names import name_key

    issuers = Organization.objects.bulk_create(
        Organization(
            slug=f"bench-issuer-{n}",
            name_en=f"Bench Issuer {n}",
            name_fr=f"Émetteur {n}",
            # bulk_create does not run save(), which keeps these.
            name_key_en=name_key(f"Bench Issuer {n}"),
            name_key_fr=name_key(f"Émetteur {n}"),
            description_en="An issuer of the benchmark.",
            description_fr="Un émetteur du banc d'essai.",
            is_issuer=True,
        )
        for n in range(3)
    )
    # The first issuer charges one credit a share; the others let documents go for free.
    FeePolicy.objects.bulk_create(
        FeePolicy(issuer=issuer, sharing_is_free=n > 0) for n, issuer in enumerate(issuers)
    )
    return issuers, issuers[0]


def seed_receivers():
    from django.utils import timezone

    from credshare.network.models import Organization, ShareField
    from credshare.network.names import name_key

    receivers = Organization.objects.bulk_create(
        Organization(
            slug=f"bench-receiver-{n:02d}",
            name_en=f"Bench Receiver {n:02d}",
            name_fr=f"Destinataire {n:02d}",
            # bulk_create does not run save(), which keeps these.
            name_key_en=name_key(f"Bench Receiver {n:02d}"),
            name_key_fr=name_key(f"Destinataire {n:02d}"),
            approved_at=timezone.now(),
            description_en="A receiving organization of the benchmark.",
            description_fr="Un organisme destinataire du banc d'essai.",
            is_receiver=True,
            listed_in_directory=True,
        )
        for n in range(RECEIVERS)
    )
    ShareField.objects.bulk_create(
        field
        for receiver in receivers
        for field in (
            ShareField(
                organization=receiver,
                key="application_number",
                label_en="Application number",
                label_fr="Numéro de demande",
                field_type=ShareField.FieldType.TEXT,
                required=True,
                position=1,
            ),
            ShareField(
                organization=receiver,
                key="intended_program",
                label_en="Intended program",
                label_fr="Programme visé",
                field_type=ShareField.FieldType.CHOICE,
                choices=[
                    {"value": value, "label_en": value.title(), "label_fr": value.title()}
                    for value in PROGRAMS
                ],
                position=2,
            ),
        )
    )
    return receivers


def seed_staff(receivers, password: str) -> dict[int, list]:
    from credshare.accounts.models import User
    from credshare.network.models import Membership

    staff_by_receiver = {}
    for n, receiver in enumerate(receivers):
        count = BIG_RECEIVER_STAFF if n == 0 else 1
        staff_by_receiver[receiver.pk] = [
            User(
                email=f"staff{i}@{receiver.slug}.bench.example",
                full_name=f"Staff {i} {receiver.name_en}",
                password=password,
                language="fr",
            )
            for i in range(count)
        ]
    User.objects.bulk_create(staff for group in staff_by_receiver.values() for staff in group)
    Membership.objects.bulk_create(
        Membership(user=staff, organization_id=receiver_id)
        for receiver_id, group in staff_by_receiver.items()
        for staff in group
    )
    staff_enrol_mfa()
    return staff_by_receiver


def staff_enrol_mfa() -> None:
    """Staff must have an authenticator before any page opens to them (credshare/accounts):
    every staff member without one gets an authenticator app, as they would have set up."""
    from django.apps import apps

    if not apps.is_installed("allauth.mfa"):
        return
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from credshare.accounts.models import User

    for user in User.objects.filter(memberships__isnull=False).distinct():
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, generate_totp_secret())


def seed_learners(count: int, password: str) -> list:
    from credshare.accounts.models import User

    return User.objects.bulk_create(
        (
            User(
                email=f"learner{n:06d}@bench.example",
                full_name=f"Learner {n:06d}",
                password=password,
                language="fr" if n % 2 else "en",
            )
            for n in range(count)
        ),
        batch_size=BATCH_SIZE,
    )


def seed_documents(args, rng: random.Random, learners, issuers) -> list[list]:
    """Each learner's documents, one version each, all pointing to the same stored PDF."""
    import hashlib

    from django.conf import settings
    from django.utils import timezone

    from credshare.core.testing import sample_pdf
    from credshare.documents.models import Document, DocumentVersion

    pdf = sample_pdf("benchmark")
    file_name = "documents/bench.pdf"
    path = Path(settings.MEDIA_ROOT) / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    sha256 = hashlib.sha256(pdf).hexdigest()

    today = timezone.localdate()
    now = timezone.now()
    types = list(Document.Type)
    documents = []
    for n, learner in enumerate(learners):
        for k in range(args.documents_per_learner):
            document_type = rng.choice(types)
            issue_date = today - datetime.timedelta(days=rng.randint(30, 3650))
            documents.append(
                Document(
                    issuer=rng.choice(issuers),
                    learner=learner,
                    document_type=document_type,
                    title=document_title(n, k),
                    issue_date=issue_date,
                    # A few withdrawn documents: the page shows why they cannot be shared.
                    status=Document.Status.WITHDRAWN
                    if rng.random() < 0.03
                    else Document.Status.ACTIVE,
                    created=now - datetime.timedelta(days=rng.randint(0, 29)),
                )
            )
    Document.objects.bulk_create(documents, batch_size=BATCH_SIZE)
    DocumentVersion.objects.bulk_create(
        (
            DocumentVersion(
                document=document,
                number=1,
                file=file_name,
                sha256=sha256,
                size=len(pdf),
                created=document.created,
            )
            for document in documents
        ),
        batch_size=BATCH_SIZE,
    )
    per = args.documents_per_learner
    return [documents[n * per : (n + 1) * per] for n in range(len(learners))]


def document_title(learner_number: int, k: int) -> str:
    return f"Document {learner_number:06d}-{k:03d}"


def seed_shares(args, rng: random.Random, learners, documents, receivers) -> list[tuple]:
    """Shares addressed to the receivers, a large part to the first one; some expired, some
    revoked. Inserted oldest first, so that ids grow with the creation time as in real life."""
    from django.utils import timezone

    from credshare.sharing.models import Share

    now = timezone.now()
    big, others = receivers[0], receivers[1:]
    planned = []
    for n, learner in enumerate(learners):
        for k in range(args.shares_per_learner):
            created = now - datetime.timedelta(seconds=rng.randint(60, 365 * 24 * 3600))
            receiver = big if rng.random() < BIG_RECEIVER_FRACTION else rng.choice(others)
            in_share = rng.sample(documents[n], rng.choice((1, 1, 2)))
            values = {"application_number": f"A-{n:06d}-{k:03d}"}
            if rng.random() < 0.5:
                values["intended_program"] = rng.choice(PROGRAMS)
            expires_on = None
            if rng.random() < 0.5:
                # From a week to seven months after the share: some are past already.
                expires_on = (created + datetime.timedelta(days=rng.randint(7, 210))).date()
            revoked_at = None
            if rng.random() < 0.05:
                revoked_at = min(now, created + datetime.timedelta(days=rng.randint(1, 30)))
            share = Share(
                owner=learner,
                channel=Share.Channel.ORGANIZATION,
                recipient_organization=receiver,
                name=share_name(n, k),
                purpose="Admission application",
                reference=share_reference(n, k),
                field_values=values,
                expires_on=expires_on,
                created=created,
                revoked_at=revoked_at,
                submission_token=uuid.uuid4(),
            )
            planned.append((share, in_share))
    planned.sort(key=lambda pair: pair[0].created)
    Share.objects.bulk_create((share for share, _ in planned), batch_size=BATCH_SIZE)
    Share.documents.through.objects.bulk_create(
        (
            Share.documents.through(share_id=share.pk, document_id=document.pk)
            for share, in_share in planned
            for document in in_share
        ),
        batch_size=BATCH_SIZE,
    )
    return planned


def share_name(learner_number: int, k: int) -> str:
    return f"Share {learner_number:06d}-{k:03d}"


def share_reference(learner_number: int, k: int) -> str:
    return f"REF-{learner_number:06d}-{k:03d}"


def seed_credits(learners, shares, charging_issuer, shares_per_learner: int) -> None:
    """A grant per learner from the charging issuer, and one spend per share that holds one of
    its documents: the ledger the documents page sums."""
    from credshare.billing.models import CreditEntry

    def entries():
        for learner in learners:
            yield CreditEntry(
                learner=learner,
                issuer=charging_issuer,
                kind=CreditEntry.Kind.GRANT,
                amount=shares_per_learner * 2,
                created=learner.date_joined - datetime.timedelta(days=400),
            )
        for share, in_share in shares:
            if any(document.issuer_id == charging_issuer.pk for document in in_share):
                yield CreditEntry(
                    learner_id=share.owner_id,
                    issuer=charging_issuer,
                    kind=CreditEntry.Kind.SPEND,
                    amount=-1,
                    share=share,
                    created=share.created,
                )

    CreditEntry.objects.bulk_create(entries(), batch_size=BATCH_SIZE)


def seed_accesses(rng: random.Random, shares, staff_by_receiver) -> None:
    """About a third of the shares were opened, and some of their documents viewed."""
    from django.utils import timezone

    from credshare.sharing.models import ShareAccess

    now = timezone.now()

    def accesses():
        for share, in_share in shares:
            if rng.random() >= 0.3:
                continue
            staff = rng.choice(staff_by_receiver[share.recipient_organization_id])
            for _ in range(rng.randint(1, 3)):
                at = min(now, share.created + datetime.timedelta(hours=rng.randint(1, 72)))
                yield ShareAccess(
                    share=share,
                    action=ShareAccess.Action.OPENED,
                    at=at,
                    user=staff,
                    organization_id=share.recipient_organization_id,
                )
                document = rng.choice(in_share)
                yield ShareAccess(
                    share=share,
                    action=ShareAccess.Action.VIEWED,
                    at=at,
                    user=staff,
                    organization_id=share.recipient_organization_id,
                    document=document,
                )

    ShareAccess.objects.bulk_create(accesses(), batch_size=BATCH_SIZE)


def row_counts() -> dict[str, int]:
    from credshare.accounts.models import User
    from credshare.billing.models import CreditEntry
    from credshare.documents.models import Document, DocumentVersion
    from credshare.sharing.models import Share, ShareAccess

    return {
        "users": User.objects.count(),
        "documents": Document.objects.count(),
        "document_versions": DocumentVersion.objects.count(),
        "shares": Share.objects.count(),
        "share_documents": Share.documents.through.objects.count(),
        "share_accesses": ShareAccess.objects.count(),
        "credit_entries": CreditEntry.objects.count(),
    }


# --- Measuring -------------------------------------------------------------------------------


@dataclass
class Visit:
    """One signed-in browser and the rows its page must show."""

    client: object
    expected: list[str]


@dataclass
class PagePlan:
    name: str
    url: str
    visits: list[Visit]


def signed_in_client(user_id: int, environ: dict | None = None):
    """A test client signed in as the user; ENVIRON adds to every request's WSGI environ
    (bench/load.py sends the X-Forwarded-Proto of a TLS proxy)."""
    from django.test import Client

    from credshare.accounts.models import User

    # "localhost" is in the default ALLOWED_HOSTS; setup_test_environment() would allow the
    # test client's "testserver" too, but it also instruments every template render.
    client = Client(SERVER_NAME="localhost", **(environ or {}))
    client.force_login(User.objects.get(pk=user_id))
    return client


def page_plans(
    args, world: World, rng: random.Random, environ: dict | None = None
) -> list[PagePlan]:
    """For each page, the visits to make: a different learner each time for the learner pages
    (as many as there are requests, when there are that many learners), the big receiver's
    staff in turn for the inbox. The expected rows are read from the database beforehand."""
    from django.urls import reverse

    from credshare.documents.models import Document
    from credshare.documents.views import PAGE_SIZE as DOCUMENTS_PAGE_SIZE
    from credshare.inbox.views import PAGE_SIZE as INBOX_PAGE_SIZE
    from credshare.sharing.models import Share
    from credshare.sharing.views import PAGE_SIZE as SHARES_PAGE_SIZE

    wanted = args.warmup + args.requests
    learner_ids = rng.sample(world.learner_ids, min(wanted, len(world.learner_ids)))

    def documents_of(learner_id: int) -> list[str]:
        rows = Document.objects.filter(learner_id=learner_id).order_by("-issue_date", "-id")
        return list(rows.values_list("title", flat=True)[:DOCUMENTS_PAGE_SIZE])

    def shares_of(learner_id: int) -> list[str]:
        rows = Share.objects.filter(owner_id=learner_id).order_by("-created", "-id")
        return list(rows.values_list("name", flat=True)[:SHARES_PAGE_SIZE])

    inbox_rows = (
        Share.objects.filter(recipient_organization_id=world.big_receiver_id)
        .order_by("-created", "-id")
        .values_list("reference", flat=True)
    )
    inbox_expected = list(inbox_rows[:INBOX_PAGE_SIZE])
    clients = {user_id: signed_in_client(user_id, environ) for user_id in learner_ids}
    return [
        PagePlan(
            "documents",
            reverse("documents:list"),
            [Visit(clients[i], documents_of(i)) for i in learner_ids],
        ),
        PagePlan(
            "my_shares",
            reverse("sharing:list"),
            [Visit(clients[i], shares_of(i)) for i in learner_ids],
        ),
        PagePlan(
            "inbox",
            reverse("inbox:list"),
            [Visit(signed_in_client(i, environ), inbox_expected) for i in world.inbox_staff_ids],
        ),
    ]


class QueryTimer:
    """An execute wrapper that times each query to the microsecond (the debug cursor that
    CaptureQueriesContext uses rounds to the millisecond)."""

    def __init__(self) -> None:
        self.milliseconds: list[float] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.milliseconds.append((time.perf_counter() - started) * 1000)


def measure(page: PagePlan, *, requests: int, warmup: int) -> dict:
    visits = [page.visits[n % len(page.visits)] for n in range(warmup + requests)]
    for visit in visits[:warmup]:
        check(page, visit, visit.client.get(page.url))

    timings, cpu_timings = [], []
    for visit in visits[warmup:]:
        started, cpu_started = time.perf_counter(), time.process_time()
        response = visit.client.get(page.url)
        timings.append((time.perf_counter() - started) * 1000)
        cpu_timings.append((time.process_time() - cpu_started) * 1000)
        check(page, visit, response)

    return {
        "url": page.url,
        "requests": len(timings),
        "distinct_users": len({id(visit.client) for visit in visits[warmup:]}),
        "rows_on_page": len(page.visits[0].expected),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile_95(timings), 2),
        "mean_ms": round(statistics.fmean(timings), 2),
        "min_ms": round(min(timings), 2),
        "max_ms": round(max(timings), 2),
        # CPU time of this process alone (Django, the driver, SQLite itself; not the
        # PostgreSQL server): less sensitive than wall time to other work on the machine.
        "cpu_p50_ms": round(statistics.median(cpu_timings), 2),
        "cpu_p95_ms": round(percentile_95(cpu_timings), 2),
        # Counted apart from the timed requests: recording queries has a cost of its own.
        **count_queries(page, visits[warmup : warmup + QUERY_SAMPLES]),
    }


def count_queries(page: PagePlan, visits: list[Visit]) -> dict:
    """The queries of one in-process request of each visit: how many, and their time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts, sql_ms = [], []
    for visit in visits:
        timer = QueryTimer()
        with connection.execute_wrapper(timer), CaptureQueriesContext(connection) as captured:
            check(page, visit, visit.client.get(page.url))
        counts.append(len(captured.captured_queries))
        sql_ms.append(sum(timer.milliseconds))
    return {
        "queries_min": min(counts),
        "queries_max": max(counts),
        "sql_ms_mean": round(statistics.fmean(sql_ms), 2),
        # The last sampled request's queries, each with its time.
        "sample_queries": [
            {"ms": round(ms, 3), "sql": query["sql"]}
            for query, ms in zip(captured.captured_queries, timer.milliseconds, strict=True)
        ],
    }


def percentile_95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def check(page: PagePlan, visit: Visit, response) -> None:
    """The page is a 200 that shows exactly the expected rows, each in its own table row."""
    if response.status_code != 200:
        raise AssertionError(f"{page.name}: HTTP {response.status_code} for {page.url}")
    html = response.content.decode()
    missing = [row for row in visit.expected if f">{row}<" not in html]
    if missing or not visit.expected:
        raise AssertionError(f"{page.name}: rows missing from the page: {missing[:5]}")
    # One <tr> for the header, one per row.
    if html.count("<tr>") != len(visit.expected) + 1:
        raise AssertionError(
            f"{page.name}: {html.count('<tr>') - 1} rows shown, {len(visit.expected)} expected"
        )


# --- Reporting -------------------------------------------------------------------------------


def print_table(reports: list[dict]) -> None:
    columns = [
        ("database", "<10"),
        ("page", "<10"),
        ("p50 ms", ">7"),
        ("p95 ms", ">7"),
        ("mean ms", ">7"),
        ("max ms", ">7"),
        ("cpu p50", ">7"),
        ("cpu p95", ">7"),
        ("queries", ">7"),
        ("sql ms", ">7"),
    ]
    header = " ".join(f"{title:{align}}" for title, align in columns)
    print(f"\n{header}\n{'-' * len(header)}")
    for report in reports:
        for name, page in report["pages"].items():
            queries = str(page["queries_max"])
            if page["queries_min"] != page["queries_max"]:
                queries = f"{page['queries_min']}-{queries}"
            values = [report["database"], name]
            values += [
                f"{page[key]:.1f}"
                for key in ("p50_ms", "p95_ms", "mean_ms", "max_ms", "cpu_p50_ms", "cpu_p95_ms")
            ]
            values += [queries, f"{page['sql_ms_mean']:.1f}"]
            line = " ".join(
                f"{value:{align}}" for value, (_, align) in zip(values, columns, strict=True)
            )
            over = page["p95_ms"] > report["target_p95_ms"]
            print(line + (f"  p95 over {report['target_p95_ms']} ms" if over else ""))
    for report in reports:
        rows, machine = report["rows"], report["machine"]
        print(
            f"{report['database']}: seeded {rows['users']} users, {rows['documents']} documents, "
            f"{rows['shares']} shares in {report['seeding_seconds']} s; load average "
            f"{machine['load_average_at_start']} at start, {machine['load_average_at_end']} at end"
        )
    print()


if __name__ == "__main__":
    main()
