"""Benchmark of verification: signed PDFs and Verifiable Credentials, each beside an
independent verifier on the same files (poppler's pdfsig, Digital Bazaar's verifier in Node),
in one run, on one core.

Issues --documents structured transcripts (10 courses each) through document_issue into a
fresh database (PostgreSQL by default, or SQLite), exports the signed PDFs and the credentials
to a temporary folder, warms up, then in each of --rounds rounds times one pass over every
file of: verify_pdf, pdfsig (one process a file, as a user runs it), verify_credential (with
its database reads), the bare verify_proof, and the Node verifier. See bench/README.md.

    .venv/bin/python bench/verify.py [--documents 200] [--rounds 3] [--database postgres]
    .venv/bin/python bench/verify.py --profile credential   # cProfile of one pass, no report
"""

import argparse
import cProfile
import datetime
import json
import os
import platform
import pstats
import random
import resource
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from common import (  # bench/ is on sys.path when a script in it runs
    REPO,
    code_version,
    configure_django,
    cpu_model,
    throwaway_database,
    write_report,
)

DEFAULT_OUT = str(REPO / "bench" / "results" / "verify.json")
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/credshare_bench_verify"
NODE_VERIFIER = REPO / "tools" / "vc-verifier" / "verify.mjs"

# Issue 6: per core, at least this many verifications a second, ahead of the independent
# verifier on the same files.
TARGET_PDFS_PER_SECOND = 90
TARGET_CREDENTIALS_PER_SECOND = 150
WARM_UP = 20  # verifications of each kind before the clock starts
COURSES = 10

SUBJECTS = [
    ("MAT", "Calcul différentiel / Differential Calculus"),
    ("MAT", "Algèbre linéaire / Linear Algebra"),
    ("INF", "Introduction à la programmation / Introduction to Programming"),
    ("INF", "Structures de données / Data Structures"),
    ("INF", "Bases de données / Databases"),
    ("PHY", "Mécanique classique / Classical Mechanics"),
    ("CHM", "Chimie générale / General Chemistry"),
    ("ECN", "Microéconomie / Microeconomics"),
    ("FRA", "Rédaction française / French Writing"),
    ("ANG", "Academic English / Anglais académique"),
    ("PHI", "Éthique / Ethics"),
    ("GES", "Gestion de projet / Project Management"),
]
GRADES = ["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "D", "S"]
PROGRAMS = [
    ("Baccalauréat en informatique / Bachelor of Computer Science", "B.Sc. Informatique"),
    ("Baccalauréat en économie / Bachelor of Economics", "B.A. Économie"),
    ("Certificat en gestion / Certificate in Management", ""),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=200, help="transcripts issued")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over every file")
    parser.add_argument(
        "--node-repeat",
        type=int,
        default=5,
        help="the Node verifier's passes in its long run (its rate is the difference between "
        "that run and a one-pass run: no start-up, no first-pass JIT warm-up)",
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server and name of a database that must not exist yet: created, then dropped",
    )
    parser.add_argument(
        "--out", default=DEFAULT_OUT, help="JSON report; {database} becomes sqlite or postgres"
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the data")
    parser.add_argument(
        "--profile",
        choices=["credential", "proof", "pdf"],
        help="instead of the benchmark: cProfile one pass of verify_credential, verify_proof "
        "or verify_pdf over every file, print the top costs (no report)",
    )
    args = parser.parse_args(argv)
    if args.documents < 1 or args.rounds < 1 or args.node_repeat < 2:
        parser.error("needs at least 1 document, 1 round and --node-repeat 2")
    return args


# --- Setting up ------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    with throwaway_database(
        database=args.database, postgres_url=args.postgres_url, prefix="credshare-bench-verify-"
    ) as (url, tmp_dir):
        configure_django(url, tmp_dir)
        files = prepare(args, tmp_dir)
        if args.profile:
            profile(args.profile, files)
            return
        report = benchmark(args, files)
    out = write_report(report, out_pattern=args.out, database=args.database, started=started)
    print_table(report)
    print(f"report written to {out} ({report['total_seconds']} s in all)")


class Files:
    """What the verifiers read: the signed PDFs and the credentials as files (a user's
    download), and for Node one input file with the credentials and what they name."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.pdfs: list[Path] = []
        self.credentials: list[Path] = []
        self.node_input = directory / "node-input.json"
        self.nss_database = ""
        self.issuing_seconds = 0.0


def prepare(args: argparse.Namespace, tmp_dir: Path) -> Files:
    """Migrate, issue the transcripts through document_issue, export their files."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from credshare.accounts.models import User
    from credshare.core import testing
    from credshare.documents.pdf import transcript_pdf
    from credshare.documents.services import document_issue

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"migrated in {time.perf_counter() - started:.1f} s", flush=True)

    issuer = testing.make_organization("bench-university", issuer=True)
    # One Argon2 hash for every account: hashing one a learner would take minutes.
    password = make_password(testing.PASSWORD)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    documents = []
    for number in range(args.documents):
        first, last = rng.choice(["Zoé", "Léa", "Noah", "Émile"]), f"Tremblay-{number}"
        learner = User.objects.create(
            email=f"learner{number:05d}@bench.example",
            full_name=f"{first} {last}",
            password=password,
        )
        program, credential = rng.choice(PROGRAMS)
        courses = [
            [f"{code}{rng.randint(100, 499)}", title, rng.choice(("3", "3", "4", "1.5")), grade]
            for (code, title), grade in zip(
                rng.sample(SUBJECTS, COURSES), rng.choices(GRADES, k=COURSES), strict=True
            )
        ]
        record = {
            "program": program,
            "courses": courses,
            "gpa": f"{rng.uniform(2.3, 4.3):.2f}",
            "credential": credential,
        }
        issue_date = datetime.date(2026, rng.randint(5, 6), rng.randint(1, 28))
        title = "Relevé de notes officiel / Official transcript"
        pdf = transcript_pdf(
            issuer_name=issuer.name_fr,
            learner_name=learner.full_name,
            program=program,
            courses=[tuple(course) for course in courses],
            issue_date=issue_date,
            gpa=record["gpa"],
            credential=credential,
            title=title,
        )
        documents.append(
            document_issue(
                issuer=issuer,
                learner=learner,
                document_type="transcript",
                title=title,
                issue_date=issue_date,
                pdf=pdf,
                student_number=f"{20260000 + number}",
                record=record,
            )
        )
    files = Files(tmp_dir / "files")
    files.issuing_seconds = time.perf_counter() - started
    print(
        f"issued {len(documents)} transcripts in {files.issuing_seconds:.1f} s "
        f"({len(documents) / files.issuing_seconds:.1f}/s)",
        flush=True,
    )
    export(documents, files)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return files


def export(documents, files: Files) -> None:
    from django.conf import settings

    from credshare.credentials.keys import did_document
    from credshare.credentials.models import StatusList
    from credshare.credentials.selectors import current_credential, issuer_with_keys_or_404

    files.directory.mkdir(parents=True)
    credentials = []
    for number, document in enumerate(documents):
        version = document.versions.get()
        pdf_path = files.directory / f"{number:05d}.pdf"
        with version.file.open("rb") as handle:
            pdf_path.write_bytes(handle.read())
        files.pdfs.append(pdf_path)
        credential = current_credential(document).credential
        credentials.append(credential)
        credential_path = files.directory / f"{number:05d}.credential.json"
        # As the learner downloads it (credentials.views.document_credential).
        credential_path.write_text(json.dumps(credential, ensure_ascii=False, indent=2))
        files.credentials.append(credential_path)

    # What the Node verifier would fetch: the issuer's DID document at the URL its did:web DID
    # resolves to, and the status list credential.
    host = urlsplit(settings.CREDSHARE_BASE_URL).netloc
    published = {}
    issuer, keys = issuer_with_keys_or_404(slug=documents[0].issuer.slug)
    published[f"https://{host}/issuers/{issuer.slug}/did.json"] = did_document(issuer, keys)
    for status_list in StatusList.objects.filter(issuer=issuer):
        published[status_list.credential["id"]] = status_list.credential
    files.node_input.write_text(json.dumps({"credentials": credentials, "documents": published}))
    files.nss_database = nss_database(files.directory.parent / "nss")


def nss_database(directory: Path) -> str:
    """An NSS database trusting the demo CA, for pdfsig (as credshare/documents/tests do);
    empty when certutil is missing."""
    from credshare.documents import signing

    certutil = shutil.which("certutil")
    if certutil is None:
        return ""
    directory.mkdir()
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(signing.ensure_ca().pem)
    database = f"sql:{directory}"
    subprocess.run([certutil, "-N", "--empty-password", "-d", database], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603 -- our own arguments
        [certutil, "-A", "-n", "credshare-ca", "-t", "CT,C,C", "-i", ca_file, "-d", database],
        check=True,
    )
    return database


# --- The measurements ------------------------------------------------------------------------


class Timer:
    """Wall and CPU time of one measured pass, and each call's wall time."""

    def __init__(self):
        self.calls: list[float] = []
        self.wall = 0.0
        self.cpu = 0.0

    def add(self, other: "Timer") -> None:
        self.calls += other.calls
        self.wall += other.wall
        self.cpu += other.cpu


def timed_pass(function, inputs, check) -> Timer:
    """Call FUNCTION on each input in turn; CHECK(result) must hold for every one (a
    benchmark of failing verifications would measure nothing)."""
    timer = Timer()
    results = []
    cpu_started, started = own_and_sandbox_cpu(), time.perf_counter()
    for item in inputs:
        call_started = time.perf_counter()
        results.append(function(item))
        timer.calls.append(time.perf_counter() - call_started)
    timer.wall = time.perf_counter() - started
    timer.cpu = own_and_sandbox_cpu() - cpu_started
    failed = [n for n, result in enumerate(results) if not check(result)]
    if failed:
        raise RuntimeError(f"{len(failed)} verifications failed, the first: {results[failed[0]]}")
    return timer


def own_and_sandbox_cpu() -> float:
    """This process's CPU time and that of its live descendants: verify_pdf parses in the
    sandbox's worker processes (credshare.core.sandbox), which are never waited for, so
    RUSAGE_CHILDREN would not see them."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    me, total = os.getpid(), time.process_time()
    for pid in times:
        ancestor = parents.get(pid)
        while ancestor and ancestor != me:
            ancestor = parents.get(ancestor)
        if ancestor == me:
            total += times[pid]
    return total


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pdfsig_pass(pdfsig: str, files: Files) -> Timer:
    """pdfsig on every file, one process each, as a user runs it."""

    def run(path: Path) -> str:
        done = subprocess.run(  # noqa: S603 -- our own arguments
            [pdfsig, "-nssdir", files.nss_database, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return done.stdout + done.stderr

    def valid(output: str) -> bool:
        return (
            "Signature Validation: Signature is Valid." in output
            and "Certificate Validation: Certificate is Trusted." in output
        )

    cpu_started = children_cpu()
    timer = timed_pass(run, files.pdfs, valid)
    timer.cpu = children_cpu() - cpu_started  # pdfsig's own CPU time, not ours waiting
    return timer


def node_run(node: str, files: Files, repeat: int) -> dict:
    """One Node process verifying every credential REPEAT times: its own timing of the
    passes (stderr), the whole process's wall and CPU time, and its outcomes."""
    cpu_started, started = children_cpu(), time.perf_counter()
    done = subprocess.run(  # noqa: S603 -- our own arguments
        [node, str(NODE_VERIFIER), str(files.node_input), "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"the Node verifier failed: {done.stderr[-2000:]}")
    outcomes = [json.loads(line) for line in done.stdout.splitlines()]
    expected = {"verified": True, "statusVerified": True, "revoked": False, "error": None}
    wrong = [outcome for outcome in outcomes if outcome != expected]
    if len(outcomes) != len(files.credentials) or wrong:
        raise RuntimeError(f"the Node verifier did not verify every credential: {wrong[:1]}")
    timing = json.loads(done.stderr.strip().splitlines()[-1])
    return {
        "repeat": repeat,
        "passes_ms": timing["total_ms"],
        "process_wall_ms": round(wall * 1000, 1),
        "process_cpu_ms": round((children_cpu() - cpu_started) * 1000, 1),
    }


def node_round(node: str, files: Files, repeat: int) -> dict:
    """The Node verifier's steady rate: a REPEAT-pass run minus a one-pass run, which takes
    out the start-up, reading the input, loading the libraries and the first, JIT-cold, pass."""
    short = node_run(node, files, 1)
    long = node_run(node, files, repeat)
    credentials = (repeat - 1) * len(files.credentials)
    return {
        "one_pass": short,
        "long": long,
        "credentials": credentials,
        "seconds": (long["passes_ms"] - short["passes_ms"]) / 1000,
        "cpu_seconds": (long["process_cpu_ms"] - short["process_cpu_ms"]) / 1000,
    }


class Verifiers:
    """The Python verifiers on what the files hold, read into memory before the clock."""

    def __init__(self, files: Files):
        from credshare.credentials.dataintegrity import verify_proof
        from credshare.credentials.multibase import ed25519_public_key_from_multibase
        from credshare.verification.credential import verify_credential
        from credshare.verification.pdf import verify_pdf
        from credshare.verification.verdicts import Status

        self.pdfs = [path.read_bytes() for path in files.pdfs]
        self.texts = [path.read_bytes() for path in files.credentials]
        self.credentials = [json.loads(text) for text in self.texts]
        published = json.loads(files.node_input.read_text())["documents"]
        # The bare proof check reads the key from the DID document, not the database.
        keys = {
            method["id"]: ed25519_public_key_from_multibase(method["publicKeyMultibase"])
            for document in published.values()
            for method in document.get("verificationMethod", [])
        }
        self.verify_pdf = verify_pdf
        self.verify_credential = verify_credential
        self.verify_proof = lambda credential: verify_proof(credential, public_key_for=keys.get)
        self.valid = lambda verdict: verdict.status == Status.VALID

    def pdf_pass(self) -> Timer:
        return timed_pass(self.verify_pdf, self.pdfs, self.valid)

    def credential_pass(self) -> Timer:
        return timed_pass(self.verify_credential, self.texts, self.valid)

    def proof_pass(self) -> Timer:
        return timed_pass(self.verify_proof, self.credentials, lambda proof: proof is not None)

    def warm_up(self) -> None:
        """Imports, the CA and context caches, the database connection, the key cache."""
        for data in self.pdfs[:WARM_UP]:
            self.verify_pdf(data)
        for text, credential in zip(self.texts[:WARM_UP], self.credentials, strict=False):
            self.verify_credential(text)
            self.verify_proof(credential)


def profile(kind: str, files: Files) -> None:
    verifiers = Verifiers(files)
    verifiers.warm_up()
    run = {
        "credential": verifiers.credential_pass,
        "proof": verifiers.proof_pass,
        "pdf": verifiers.pdf_pass,
    }[kind]
    profiler = cProfile.Profile()
    profiler.runcall(run)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def benchmark(args: argparse.Namespace, files: Files) -> dict:
    verifiers = Verifiers(files)
    pdfsig = shutil.which("pdfsig") if files.nss_database else None
    node = shutil.which("node")
    node_ready = node is not None and (NODE_VERIFIER.parent / "node_modules").is_dir()
    if pdfsig is None:
        print("pdfsig or certutil missing (poppler-utils, libnss3-tools): no pdfsig figures")
    if not node_ready:
        print("node or tools/vc-verifier/node_modules missing (make test installs them)")

    loads = {"start": os.getloadavg()}
    verifiers.warm_up()
    if pdfsig:
        for path in files.pdfs[:5]:  # the program and its libraries into the page cache
            subprocess.run([pdfsig, "-nssdir", files.nss_database, str(path)], capture_output=True)  # noqa: S603

    timers = {name: Timer() for name in ("verify_pdf", "pdfsig", "verify_credential", "proof")}
    per_round = {name: [] for name in (*timers, "node")}
    node_rounds = []
    for number in range(1, args.rounds + 1):
        print(f"round {number}/{args.rounds}…", flush=True)
        loads[f"round_{number}"] = os.getloadavg()
        passes = {
            "verify_pdf": verifiers.pdf_pass,
            "pdfsig": (lambda: pdfsig_pass(pdfsig, files)) if pdfsig else None,
            "verify_credential": verifiers.credential_pass,
            "proof": verifiers.proof_pass,
        }
        for name, run in passes.items():
            if run is None:
                continue
            timer = run()
            timers[name].add(timer)
            per_round[name].append(len(timer.calls) / timer.wall)
        if node_ready:
            result = node_round(node, files, args.node_repeat)
            node_rounds.append(result)
            per_round["node"].append(result["credentials"] / result["seconds"])

    results = {name: summary(timer, per_round[name]) for name, timer in timers.items()}
    if node_rounds:
        credentials = sum(result["credentials"] for result in node_rounds)
        seconds = sum(result["seconds"] for result in node_rounds)
        cpu_seconds = sum(result["cpu_seconds"] for result in node_rounds)
        results["node"] = {
            "verifications": credentials,
            "per_second": round(credentials / seconds, 1),
            "per_second_by_round": [round(rate, 1) for rate in per_round["node"]],
            "mean_ms": round(seconds / credentials * 1000, 3),
            "per_cpu_second": round(credentials / cpu_seconds, 1) if cpu_seconds > 0 else None,
            "one_pass_process_wall_ms": [r["one_pass"]["process_wall_ms"] for r in node_rounds],
            "runs": node_rounds,
        }
    loads["end"] = os.getloadavg()
    return {
        "parameters": {
            "documents": args.documents,
            "courses_per_transcript": COURSES,
            "rounds": args.rounds,
            "node_repeat": args.node_repeat,
            "seed": args.seed,
            "database": args.database,
        },
        "code": code_version(),
        "machine": machine_info(loads, node, pdfsig),
        "issuing_per_second": round(args.documents / files.issuing_seconds, 1),
        "file_sizes": {
            "pdf_kb_mean": round(statistics.mean(len(data) for data in verifiers.pdfs) / 1024, 1),
            "credential_kb_mean": round(
                statistics.mean(len(text) for text in verifiers.texts) / 1024, 1
            ),
        },
        "targets": {
            "pdfs_per_second": TARGET_PDFS_PER_SECOND,
            "credentials_per_second": TARGET_CREDENTIALS_PER_SECOND,
        },
        "results": results,
        "ratios": ratios(results),
    }


def summary(timer: Timer, rates: list[float]) -> dict | None:
    if not timer.calls:
        return None
    calls = sorted(timer.calls)
    return {
        "verifications": len(calls),
        "per_second": round(len(calls) / timer.wall, 1),
        "per_second_by_round": [round(rate, 1) for rate in rates],
        "per_cpu_second": round(len(calls) / timer.cpu, 1) if timer.cpu > 0 else None,
        "median_ms": round(statistics.median(calls) * 1000, 3),
        "p95_ms": round(calls[max(0, int(0.95 * len(calls)) - 1)] * 1000, 3),
        "mean_ms": round(timer.wall / len(calls) * 1000, 3),
        "min_ms": round(calls[0] * 1000, 3),
        "max_ms": round(calls[-1] * 1000, 3),
    }


def ratios(results: dict) -> dict:
    def ratio(a: str, b: str) -> float | None:
        if not results.get(a) or not results.get(b):
            return None
        return round(results[a]["per_second"] / results[b]["per_second"], 2)

    return {
        "verify_pdf_to_pdfsig": ratio("verify_pdf", "pdfsig"),
        "verify_credential_to_node": ratio("verify_credential", "node"),
        "proof_to_node": ratio("proof", "node"),
        "verify_credential_to_proof": ratio("verify_credential", "proof"),
    }


def machine_info(loads: dict, node: str | None, pdfsig: str | None) -> dict:
    import django
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
    else:
        import sqlite3

        database = f"SQLite {sqlite3.sqlite_version}"

    def version(program: str | None, *arguments: str) -> str:
        if program is None:
            return ""
        done = subprocess.run([program, *arguments], capture_output=True, text=True)  # noqa: S603
        return (done.stdout or done.stderr).strip().splitlines()[0]

    # Other work on the machine shows in the timings: this says how busy it was.
    return {
        "platform": platform.platform(),
        "processor": cpu_model() or platform.processor(),
        "cpu_count": os.cpu_count(),
        "load_average": {key: [round(load, 2) for load in value] for key, value in loads.items()},
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": database,
        "node": version(node, "--version"),
        "pdfsig": version(pdfsig, "-v"),
    }


def print_table(report: dict) -> None:
    results, machine = report["results"], report["machine"]
    print()
    print(
        f"{report['parameters']['documents']} transcripts × {report['parameters']['rounds']} "
        f"rounds on one core ({machine['processor']}, {machine['cpu_count']} CPUs, "
        f"{machine['database']}), load {machine['load_average']['start'][0]} at start, "
        f"{machine['load_average']['end'][0]} at end"
    )
    print(f"{'':34} {'per s':>8} {'per CPU s':>10} {'median ms':>10} {'p95 ms':>8}")
    labels = {
        "verify_pdf": "verify_pdf",
        "pdfsig": "pdfsig (a process a file)",
        "verify_credential": "verify_credential (with database)",
        "proof": "verify_proof (bare)",
        "node": "Node verifier (no start-up)",
    }
    for name, label in labels.items():
        result = results.get(name)
        if not result:
            print(f"{label:34} {'-':>8}")
            continue
        print(
            f"{label:34} {result['per_second']:>8} {result['per_cpu_second'] or '-':>10} "
            f"{result.get('median_ms', '-'):>10} {result.get('p95_ms', '-'):>8}"
        )
    targets = report["targets"]
    print(
        f"targets: {targets['pdfs_per_second']} PDFs/s, {targets['credentials_per_second']} "
        f"credentials/s; ratios: {report['ratios']}"
    )


if __name__ == "__main__":
    main()
