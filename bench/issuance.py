"""Benchmark of bulk issuance: structured transcripts (JSON Lines) through the whole pipeline
(render, sign, store, record) with several worker processes sharing one job, beside a bare loop
of render + sign in the same run.

Creates a fresh database (PostgreSQL by default, or SQLite), a throwaway media folder and key
store, the learners and one job of --documents rows, then times --workers processes calling
issuance_job_process on that job until no row is pending; then the same number of processes
rendering (transcript_pdf) and signing (sign_pdf) the same transcripts with no database and no
storage. See bench/README.md.

    .venv/bin/python bench/issuance.py [--documents 10000] [--workers 2] [--database postgres]
    .venv/bin/python bench/issuance.py --profile-rows 200   # cProfile of one worker, no report
"""

import argparse
import datetime
import json
import multiprocessing
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path

from common import (  # bench/ is on sys.path when a script in it runs
    REPO,
    code_version,
    configure_django,
    cpu_model,
    throwaway_database,
    write_report,
)

DEFAULT_OUT = str(REPO / "bench" / "results" / "issuance-{database}.json")
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/credshare_bench_issuance"

BATCH_SIZE = 2000
TARGET_DOCUMENTS_PER_SECOND = 40
# The points of the job (fractions of each worker's rows) where the report shows memory.
JOB_POINTS = (0.25, 0.5, 0.75, 1.0)

SUBJECTS = [
    ("MAT", "Calcul différentiel / Differential Calculus"),
    ("MAT", "Algèbre linéaire / Linear Algebra"),
    ("MAT", "Probabilités et statistique / Probability and Statistics"),
    ("INF", "Introduction à la programmation / Introduction to Programming"),
    ("INF", "Structures de données / Data Structures"),
    ("INF", "Bases de données / Databases"),
    ("INF", "Réseaux informatiques / Computer Networks"),
    ("PHY", "Mécanique classique / Classical Mechanics"),
    ("PHY", "Électricité et magnétisme / Electricity and Magnetism"),
    ("CHM", "Chimie générale / General Chemistry"),
    ("BIO", "Biologie cellulaire / Cell Biology"),
    ("ECN", "Microéconomie / Microeconomics"),
    ("ECN", "Macroéconomie / Macroeconomics"),
    ("FRA", "Rédaction française / French Writing"),
    ("ANG", "Academic English / Anglais académique"),
    ("PHI", "Éthique / Ethics"),
    ("HIS", "Histoire du Québec / History of Quebec"),
    ("GES", "Comptabilité financière / Financial Accounting"),
    ("GES", "Gestion de projet / Project Management"),
    ("STA", "Régression et modèles linéaires / Regression and Linear Models"),
    ("PSY", "Psychologie du développement / Developmental Psychology"),
    ("SOC", "Méthodes de recherche qualitative / Qualitative Research Methods"),
]
GRADES = ["A+", "A", "A", "A-", "B+", "B+", "B", "B", "B-", "C+", "C", "D", "S"]
PROGRAMS = [
    ("Baccalauréat en informatique / Bachelor of Computer Science", "B.Sc. Informatique"),
    ("Baccalauréat en économie / Bachelor of Economics", "B.A. Économie"),
    ("Baccalauréat en biologie / Bachelor of Biology", "B.Sc. Biologie"),
    ("Certificat en gestion / Certificate in Management", "Certificat en gestion"),
]
FIRST_NAMES = ["Zoé", "Léa", "Noah", "Émile", "Camille", "Jean-François", "Amira", "Chloé", "Liam"]
LAST_NAMES = ["Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Nguyen", "Ouellet", "Lévesque"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=10_000, help="rows of the job")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server and name of a database that must not exist yet: created, then dropped",
    )
    parser.add_argument(
        "--sample-every", type=int, default=500, help="a worker records its memory every N rows"
    )
    parser.add_argument(
        "--out", default=DEFAULT_OUT, help="JSON report; {database} becomes sqlite or postgres"
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the data")
    parser.add_argument(
        "--profile-rows",
        type=int,
        default=0,
        help="instead of the benchmark: cProfile one in-process worker on the first N rows of "
        "a job of --documents rows, print the top costs (no report)",
    )
    args = parser.parse_args(argv)
    if args.documents < 1 or args.workers < 1 or args.sample_every < 1:
        parser.error("needs at least 1 document, 1 worker and --sample-every 1")
    if args.profile_rows > args.documents:
        parser.error("--profile-rows cannot exceed --documents")
    return args


# --- Setting up ------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    with throwaway_database(
        database=args.database, postgres_url=args.postgres_url, prefix="credshare-bench-issuance-"
    ) as (url, tmp_dir):
        configure_django(url, tmp_dir)
        if args.profile_rows:
            profile(args, tmp_dir)
            return
        report = benchmark(args, tmp_dir)
    out = write_report(report, out_pattern=args.out, database=args.database, started=started)
    print_table(report)
    print(f"[{args.database}] report written to {out} ({report['total_seconds']} s in all)")


def setup_django() -> None:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()


def prepare(args: argparse.Namespace, tmp_dir: Path) -> tuple[int, Path]:
    """Migrate, create the issuer (and its signing key), its registrar and the learners, write
    the JSON Lines file and create the job through issuance_job_create. Returns the job's id
    and the file's path."""
    from django.contrib.auth.hashers import make_password
    from django.core.files import File
    from django.core.management import call_command
    from django.db import connection, transaction

    from credshare.accounts.models import User
    from credshare.core.testing import PASSWORD
    from credshare.documents.bulk import issuance_job_create
    from credshare.documents.signing import ensure_issuer_key
    from credshare.network.models import Membership, Organization

    label = args.database
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"[{label}] migrated in {time.perf_counter() - started:.1f} s", flush=True)

    started = time.perf_counter()
    # One Argon2 hash for every account: hashing 10,000 passwords would take minutes.
    password = make_password(PASSWORD)
    with transaction.atomic():
        issuer = Organization.objects.create(
            slug="bench-university",
            name_en="Bench University",
            name_fr="Université du Banc d'essai",
            description_en="The issuer of the benchmark.",
            description_fr="L'émetteur du banc d'essai.",
            is_issuer=True,
        )
        registrar = User.objects.create(
            email="registrar@bench-university.example",
            full_name="Dominique Registraire",
            password=password,
            language="fr",
        )
        Membership.objects.create(user=registrar, organization=issuer)
        learners = User.objects.bulk_create(
            (
                User(
                    email=f"learner{n:06d}@bench.example",
                    full_name=f"Learner {n:06d}",
                    password=password,
                    language="fr" if n % 2 else "en",
                )
                for n in range(args.documents)
            ),
            batch_size=BATCH_SIZE,
        )
    # Created once before the workers start, as the first document of an issuer would.
    ensure_issuer_key(issuer)

    rows_path = tmp_dir / "transcripts.jsonl"
    write_rows(rows_path, [learner.email for learner in learners], random.Random(args.seed))
    with open(rows_path, "rb") as handle:
        job = issuance_job_create(
            issuer=issuer,
            created_by=registrar,
            rows_file=File(handle, name="transcripts.jsonl"),
        )
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load: planner statistics.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(
        f"[{label}] {args.documents} learners, job {job.pk} of {job.total} rows "
        f"({rows_path.stat().st_size / 1e6:.1f} MB of JSON Lines) in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return job.pk, rows_path


def write_rows(path: Path, emails: list[str], rng: random.Random) -> None:
    """One structured transcript a learner: 10–20 courses, a program, a GPA, a credential."""
    from credshare.core.testing import bulk_row

    with open(path, "w", encoding="utf-8") as out:
        for number, email in enumerate(emails, start=1):
            program, credential = rng.choice(PROGRAMS)
            courses = []
            for subject, title in rng.sample(SUBJECTS, rng.randint(10, 20)):
                level = rng.choice((1, 2, 3, 4))
                courses.append(
                    [
                        f"{subject}{level}{rng.randint(0, 99):02d}",
                        title,
                        rng.choice(("3.0", "3.0", "3.0", "4.0", "1.5")),
                        rng.choice(GRADES),
                    ]
                )
            row = bulk_row(
                number,
                email,
                first_name=rng.choice(FIRST_NAMES),
                last_name=f"{rng.choice(LAST_NAMES)}-{number}",
                title="Relevé de notes officiel / Official transcript",
                issue_date=f"2026-{rng.randint(5, 6):02d}-{rng.randint(1, 28):02d}",
                program=program,
                courses=courses,
                gpa=f"{rng.uniform(2.3, 4.3):.2f}",
                credential=credential if rng.random() < 0.6 else "",
            )
            row.pop("file")  # JSON Lines rows carry their data, not a PDF
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


# --- The workers (spawned processes) ---------------------------------------------------------


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """This process's peak resident memory, in MB. VmHWM, not getrusage's ru_maxrss: a
    spawned worker is forked, then exec'd, and ru_maxrss keeps the parent's peak at the fork
    across the exec, while VmHWM starts again with the new interpreter."""
    return _status_mb("VmHWM") or round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )


def warm_up(issuer) -> None:
    """One render + sign before the clock starts: imports, the CA and signer caches."""
    from credshare.documents.models import Document
    from credshare.documents.pdf import transcript_pdf
    from credshare.documents.signing import sign_pdf

    pdf = transcript_pdf(
        issuer_name="Warm-up",
        learner_name="Warm-up",
        program="Warm-up",
        courses=[("WRM100", "Warm-up", "3.0", "A")],
        issue_date=datetime.date(2026, 1, 1),
    )
    document = Document(issuer=issuer, title="Warm-up", issue_date=datetime.date(2026, 1, 1))
    sign_pdf(pdf=pdf, document=document, issuer=issuer)


def pipeline_worker(index, job_id, sample_every, ready, start, results) -> None:
    """issuance_job_process on the shared job, SAMPLE_EVERY rows at a time (each call takes
    the next pending rows, skipping those another worker holds), until none is pending."""
    setup_django()
    from django.db import connection

    from credshare.documents.bulk import issuance_job_process
    from credshare.documents.models import IssuanceJob

    warm_up(IssuanceJob.objects.select_related("issuer").get(pk=job_id).issuer)
    samples = [{"rows": 0, "seconds": 0.0, "rss_mb": rss_mb(), "peak_rss_mb": peak_rss_mb()}]
    ready.put(index)
    start.wait()
    started = time.perf_counter()
    cpu_started = time.process_time()
    rows = 0
    while True:
        processed = issuance_job_process(job_id=job_id, max_rows=sample_every)
        rows += processed
        samples.append(
            {
                "rows": rows,
                "seconds": round(time.perf_counter() - started, 2),
                "rss_mb": rss_mb(),
                "peak_rss_mb": peak_rss_mb(),
            }
        )
        if processed < sample_every:  # the call found no pending row left
            break
    connection.close()
    results.put(
        {
            "worker": index,
            "rows": rows,
            "seconds": round(time.perf_counter() - started, 2),
            "cpu_seconds": round(time.process_time() - cpu_started, 2),
            "peak_rss_mb": peak_rss_mb(),
            "samples": samples,
        }
    )


def bare_worker(index, workers, rows_path, issuer_id, ready, start, results) -> None:
    """Render + sign this worker's share of the transcripts (every WORKERS-th line): no
    database (the issuer and its key are read before the clock starts) and no storage."""
    setup_django()
    from django.db import connection

    from credshare.documents import signing
    from credshare.documents.bulk import _courses
    from credshare.documents.models import Document, IssuerKey
    from credshare.documents.pdf import issuer_heading
    from credshare.network.models import Organization

    issuer = Organization.objects.get(pk=issuer_id)
    issuer_key = IssuerKey.objects.get(issuer=issuer, is_active=True)
    # sign_pdf looks the issuer's key up in the database for every document: here it is the
    # one read above (the only difference from the pipeline's sign_pdf).
    signing.ensure_issuer_key = lambda _issuer: issuer_key
    connection.close()
    with open(rows_path, encoding="utf-8") as handle:
        rows = [json.loads(line) for n, line in enumerate(handle) if n % workers == index]
    warm_up(issuer)
    ready.put(index)
    start.wait()
    started = time.perf_counter()
    cpu_started = time.process_time()
    issuer_name = issuer_heading(issuer)
    for row in rows:
        issue_date = datetime.date.fromisoformat(row["issue_date"])
        pdf = signing_input(row, issuer_name, issue_date, _courses)
        document = Document(issuer=issuer, title=row["title"], issue_date=issue_date)
        signing.sign_pdf(pdf=pdf, document=document, issuer=issuer)
    results.put(
        {
            "worker": index,
            "rows": len(rows),
            "seconds": round(time.perf_counter() - started, 2),
            "cpu_seconds": round(time.process_time() - cpu_started, 2),
            "peak_rss_mb": peak_rss_mb(),
        }
    )


def signing_input(row: dict, issuer_name: str, issue_date, courses) -> bytes:
    """The transcript the pipeline renders for ROW (as _issue_row calls transcript_pdf)."""
    from credshare.documents.pdf import transcript_pdf

    return transcript_pdf(
        issuer_name=issuer_name,
        learner_name=f"{row['first_name']} {row['last_name']}",
        program=row.get("program", ""),
        courses=courses(row.get("courses")),
        issue_date=issue_date,
        gpa=row.get("gpa", ""),
        credential=row.get("credential", ""),
        title=row["title"],
    )


def run_workers(target, arguments: list[tuple]) -> tuple[float, list[dict]]:
    """Start one spawned process a tuple of ARGUMENTS, wait until each is set up, then release
    them together. Returns the wall time from the release until the last finished, and their
    results."""
    from django.db import connections

    connections.close_all()  # spawned workers open their own; nothing shared
    context = multiprocessing.get_context("spawn")
    ready, results, start = context.Queue(), context.Queue(), context.Event()
    processes = [
        context.Process(target=target, args=(*values, ready, start, results))
        for values in arguments
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=300)
    started = time.perf_counter()
    start.set()
    collected = [results.get() for _ in processes]
    seconds = time.perf_counter() - started
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a worker exited with {process.exitcode}")
    return seconds, sorted(collected, key=lambda result: result["worker"])


# --- The benchmark ---------------------------------------------------------------------------


def benchmark(args: argparse.Namespace, tmp_dir: Path) -> dict:
    from credshare.documents.models import Document, DocumentVersion, IssuanceJob, IssuanceRow

    label = args.database
    load_at_start = os.getloadavg()
    job_id, rows_path = prepare(args, tmp_dir)
    issuer_id = IssuanceJob.objects.get(pk=job_id).issuer_id

    print(f"[{label}] pipeline: {args.workers} workers on {args.documents} rows…", flush=True)
    load_before_pipeline = os.getloadavg()
    pipeline_seconds, pipeline = run_workers(
        pipeline_worker, [(n, job_id, args.sample_every) for n in range(args.workers)]
    )
    counts = {
        "rows_issued": IssuanceRow.objects.filter(
            job_id=job_id, status=IssuanceRow.Status.ISSUED
        ).count(),
        "rows_rejected": IssuanceRow.objects.filter(
            job_id=job_id, status=IssuanceRow.Status.REJECTED
        ).count(),
        "rows_pending": IssuanceRow.objects.filter(
            job_id=job_id, status=IssuanceRow.Status.PENDING
        ).count(),
        "documents": Document.objects.count(),
        "versions": DocumentVersion.objects.count(),
        "stored_files": sum(1 for path in (tmp_dir / "media").rglob("*.pdf")),
    }
    job_status = IssuanceJob.objects.get(pk=job_id).status
    if counts["rows_issued"] != args.documents or counts["versions"] != args.documents:
        raise RuntimeError(f"{args.documents} rows, but: {counts} (job {job_status})")
    stored = [path.stat().st_size for path in (tmp_dir / "media").rglob("*.pdf")]

    print(f"[{label}] bare render + sign: {args.workers} workers…", flush=True)
    load_before_bare = os.getloadavg()
    bare_seconds, bare = run_workers(
        bare_worker,
        [(n, args.workers, str(rows_path), issuer_id) for n in range(args.workers)],
    )

    pipeline_rate = args.documents / pipeline_seconds
    bare_rows = sum(result["rows"] for result in bare)
    bare_rate = bare_rows / bare_seconds
    return {
        "database": label,
        "parameters": {
            "documents": args.documents,
            "workers": args.workers,
            "sample_every": args.sample_every,
            "seed": args.seed,
            "start_method": "spawn",
        },
        "code": code_version(),
        "machine": machine_info(
            {
                "start": load_at_start,
                "before_pipeline": load_before_pipeline,
                "before_bare": load_before_bare,
            }
        ),
        "target_documents_per_second": TARGET_DOCUMENTS_PER_SECOND,
        "pipeline": {
            "seconds": round(pipeline_seconds, 1),
            "documents_per_second": round(pipeline_rate, 1),
            "job_status": job_status,
            **counts,
            "stored_pdf_kb_mean": round(sum(stored) / len(stored) / 1024, 1),
            "workers": [summarize_worker(result) for result in pipeline],
        },
        "bare": {
            "documents": bare_rows,
            "seconds": round(bare_seconds, 1),
            "documents_per_second": round(bare_rate, 1),
            "workers": bare,
        },
        "ratio_pipeline_to_bare": round(pipeline_rate / bare_rate, 2),
        "parent_peak_rss_mb": peak_rss_mb(),
    }


def summarize_worker(result: dict) -> dict:
    """A worker's result, with its memory (and rate) at 25/50/75/100 % of its rows."""
    samples = result["samples"]
    at = {}
    for point in JOB_POINTS:
        goal = point * result["rows"]
        sample = next(s for s in samples if s["rows"] >= goal)
        at[f"{round(point * 100)}%"] = {
            "rows": sample["rows"],
            "rss_mb": sample["rss_mb"],
            "peak_rss_mb": sample["peak_rss_mb"],
        }
    # Documents a second over each stretch of SAMPLE_EVERY rows: does the job slow as it grows?
    rates = [
        round((b["rows"] - a["rows"]) / (b["seconds"] - a["seconds"]), 1)
        for a, b in zip(samples[1:], samples[2:], strict=False)
        if b["seconds"] > a["seconds"] and b["rows"] > a["rows"]
    ]
    first = samples[1] if len(samples) > 1 else samples[0]
    if first["seconds"]:
        rates.insert(0, round(first["rows"] / first["seconds"], 1))
    return {**result, "rss_over_job": at, "documents_per_second_over_job": rates}


def machine_info(loads: dict[str, tuple[float, float, float]]) -> dict:
    import django
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
    else:
        import sqlite3

        database = f"SQLite {sqlite3.sqlite_version}"
    # Other work on the machine shows in the timings: this says how busy it was.
    load_average = {key: [round(load, 2) for load in value] for key, value in loads.items()}
    load_average["end"] = [round(load, 2) for load in os.getloadavg()]
    return {
        "platform": platform.platform(),
        "processor": cpu_model() or platform.processor(),
        "cpu_count": os.cpu_count(),
        "load_average": load_average,
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": database,
    }


def print_table(report: dict) -> None:
    pipeline, bare = report["pipeline"], report["bare"]
    machine = report["machine"]
    print()
    print(
        f"{report['database']}: {report['parameters']['documents']} transcripts, "
        f"{report['parameters']['workers']} workers, {machine['cpu_count']} CPUs, "
        f"load {machine['load_average']['start'][0]} at start, "
        f"{machine['load_average']['end'][0]} at end"
    )
    print(f"{'':24} {'docs/s':>8} {'seconds':>8}")
    print(
        f"{'pipeline':24} {pipeline['documents_per_second']:>8} {pipeline['seconds']:>8}"
        f"   (target {report['target_documents_per_second']})"
    )
    print(f"{'bare render + sign':24} {bare['documents_per_second']:>8} {bare['seconds']:>8}")
    print(f"{'ratio pipeline / bare':24} {report['ratio_pipeline_to_bare']:>8}")
    print(f"rows issued {pipeline['rows_issued']}, rejected {pipeline['rows_rejected']}")
    points = list(pipeline["workers"][0]["rss_over_job"])
    print(f"{'RSS MB over the job':24} " + " ".join(f"{p:>7}" for p in points) + "    peak")
    for worker in pipeline["workers"]:
        values = " ".join(f"{v['rss_mb']:>7}" for v in worker["rss_over_job"].values())
        print(f"{'  worker ' + str(worker['worker']):24} {values} {worker['peak_rss_mb']:>7}")
    for worker in bare["workers"]:
        print(f"{'  bare worker ' + str(worker['worker']):24} peak {worker['peak_rss_mb']:>7}")
    print(f"{'  parent':24} peak {report['parent_peak_rss_mb']:>7}")
    for worker in pipeline["workers"]:
        rates = worker["documents_per_second_over_job"]
        every = report["parameters"]["sample_every"]
        print(f"  worker {worker['worker']} docs/s per {every} rows:")
        print(f"    {rates}")


# --- Profiling -------------------------------------------------------------------------------


def profile(args: argparse.Namespace, tmp_dir: Path) -> None:
    """cProfile one worker (this process) through the first --profile-rows rows of a job of
    --documents rows (the pending rows of a large job weigh on the choice of the next row)."""
    import cProfile
    import pstats

    from django.db import connections

    from credshare.documents.bulk import issuance_job_process
    from credshare.documents.models import IssuanceJob

    job_id, _ = prepare(args, tmp_dir)
    warm_up(IssuanceJob.objects.select_related("issuer").get(pk=job_id).issuer)
    connections.close_all()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    rows = issuance_job_process(job_id=job_id, max_rows=args.profile_rows)
    profiler.disable()
    seconds = time.perf_counter() - started
    print(f"\n{rows} rows in {seconds:.1f} s: {rows / seconds:.1f} documents/s on one process\n")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
