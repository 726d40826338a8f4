"""Helpers the benchmarks share: their own PostgreSQL database, and what was measured on
which code and machine."""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlparse, urlunparse

REPO = Path(__file__).resolve().parent.parent
# Never benchmark on these: the server's own databases, and the test suite's.
RESERVED_DATABASES = {"", "postgres", "template0", "template1", "test"}


def postgres_database_name(url: str) -> tuple[str, str]:
    """The bench database's name, and a URL of the same server's maintenance database."""
    parsed = urlparse(url)
    name = unquote(parsed.path.lstrip("/"))
    if name in RESERVED_DATABASES:
        raise SystemExit(f"Refusing to use the database {name!r}: name a dedicated one.")
    return name, urlunparse(parsed._replace(path="/postgres"))


def postgres_create_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name, admin_url = postgres_database_name(url)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            raise SystemExit(
                f"The database {name!r} already exists (left by an interrupted run?). "
                f"Drop it (dropdb {name}) or choose another with --postgres-url."
            )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def postgres_database_exists(url: str) -> bool:
    import psycopg

    name, admin_url = postgres_database_name(url)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return found is not None


def postgres_drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name, admin_url = postgres_database_name(url)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def code_version() -> dict:
    """The commit measured, and whether the working tree differed from it."""
    git = shutil.which("git")
    if git is None:
        return {}

    def run(*arguments: str) -> str:
        done = subprocess.run([git, *arguments], cwd=REPO, capture_output=True, text=True)  # noqa: S603
        return done.stdout.strip()

    return {
        "commit": run("rev-parse", "HEAD"),
        "modified_outside_bench": bool(run("status", "--porcelain", "--", ".", ":!bench")),
    }


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return ""
    return next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), "")


@contextlib.contextmanager
def throwaway_database(*, database: str, postgres_url: str, prefix: str):
    """A fresh database and a temporary folder for one benchmark run, both removed at the end
    whatever happens: yields (database URL, folder). A PostgreSQL database must not exist
    yet; a SQLite one is a file in the folder."""
    tmp_dir = Path(tempfile.mkdtemp(prefix=prefix))
    postgres = database == "postgres"
    url = postgres_url if postgres else f"sqlite:///{tmp_dir / 'bench.sqlite3'}"
    if postgres:
        postgres_create_database(url)
    try:
        yield url, tmp_dir
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            # Nothing may hold the database open once it is to be dropped.
            connections.close_all()
        if postgres:
            postgres_drop_database(url)
        shutil.rmtree(tmp_dir, ignore_errors=True)


def write_report(report: dict, *, out_pattern: str, database: str, started: float) -> Path:
    """Write REPORT as JSON where OUT_PATTERN ({database}) says, with the run's total time."""
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    out = Path(out_pattern.format(database=database))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    return out


def configure_django(database_url: str, tmp_dir: Path, **extra: str) -> dict[str, str]:
    """Point credshare's settings at the bench database, a throwaway media folder and key
    store, then set Django up. Set in os.environ, so that the processes a benchmark starts
    (spawned workers, a server) see the same settings; EXTRA adds variables. No timestamp
    authority: a network round trip would be measured with every document. Returns the
    variables set."""
    environment = {
        "DJANGO_SETTINGS_MODULE": "credshare.settings",
        "DATABASE_URL": database_url,
        "CREDSHARE_VAR_DIR": str(tmp_dir / "var"),
        "CREDSHARE_MEDIA_ROOT": str(tmp_dir / "media"),
        "CREDSHARE_KEY_DIR": str(tmp_dir / "keys"),
        "CREDSHARE_DEBUG": "0",
        # A benchmark runs its jobs itself.
        "CREDSHARE_TASKS": "none",
        **extra,
    }
    os.environ.update(environment)
    os.environ.pop("CREDSHARE_TSA_URL", None)
    (tmp_dir / "var" / "static").mkdir(parents=True, exist_ok=True)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()
    return environment
