"""Backing up and restoring a credshare installation: the database (pg_dump's custom format on
PostgreSQL, SQLite's online backup otherwise) and the documents' storage (MEDIA_ROOT as a
tar.gz), with a manifest of checksums. `manage.py backup` and `manage.py restore` call these;
docs/backup.md says how to run them.

The database is dumped first, then the files archived: a version's file is written before
its row commits and never overwritten or deleted (documents are append-only), so every file
the dump refers to is already there when the archive is made; files added in between are
merely extra.
"""

import datetime
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connections

from credshare.settings import database_from_url

FORMAT = "credshare-backup/1"
MANIFEST = "manifest.json"
PG_DUMP_FILE = "database.dump"
SQLITE_FILE = "database.sqlite3"
MEDIA_FILE = "media.tar.gz"
# Where PostgreSQL's client programs live by major version when PATH has another version:
# Debian and Ubuntu, RHEL and Fedora (PGDG packages), Homebrew (Apple silicon, Intel).
PG_BIN_LAYOUTS = (
    "/usr/lib/postgresql/{major}/bin",
    "/usr/pgsql-{major}/bin",
    "/opt/homebrew/opt/postgresql@{major}/bin",
    "/usr/local/opt/postgresql@{major}/bin",
)


class BackupError(Exception):
    """A backup or restore cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class RestoreReport:
    versions: int
    mismatched: list[str]
    missing: list[str]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while block := source.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


# --- PostgreSQL client programs ----------------------------------------------------------------


def _major_of(program: Path | str) -> int | None:
    """The major version a PostgreSQL client program says it is, or None if it does not run."""
    try:
        result = subprocess.run(  # noqa: S603 -- an argument list, no shell; operator's paths
            [str(program), "--version"], capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s+(\d+)", result.stdout)
    return int(match.group(1)) if match else None


def pg_program(name: str, *, server_major: int, pg_bin: str = "") -> str:
    """The path of NAME (pg_dump, pg_restore) to use with a server of SERVER_MAJOR.

    PG_BIN (the --pg-bin option, or CREDSHARE_PG_BIN) wins and must fit. Otherwise the
    program on PATH is used when its major version is the server's; if not, the version's
    directory in the usual package layouts; failing an exact match, the oldest newer one
    (pg_dump reads older servers, but a dump from a newer pg_dump may not restore with an
    older pg_restore)."""
    if pg_bin:
        program = Path(pg_bin) / name
        major = _major_of(program)
        if major is None or major < server_major:
            raise BackupError(
                f"{program} is {'missing' if major is None else f'version {major}'}; the server "
                f"is PostgreSQL {server_major}: point --pg-bin (CREDSHARE_PG_BIN) at the bin "
                f"directory of PostgreSQL {server_major}'s client programs."
            )
        return str(program)
    candidates = [shutil.which(name)] + [
        str(Path(layout.format(major=server_major)) / name) for layout in PG_BIN_LAYOUTS
    ]
    found = {}
    for candidate in candidates:
        if candidate and candidate not in found:
            found[candidate] = _major_of(candidate)
    fitting = sorted(
        (major, path)
        for path, major in found.items()
        if major is not None and major >= server_major
    )
    for major, path in fitting:
        if major == server_major:
            return path
    if fitting:
        return fitting[0][1]
    seen = ", ".join(f"{path} ({major or 'not runnable'})" for path, major in found.items())
    raise BackupError(
        f"No {name} for PostgreSQL {server_major} (looked at: {seen or 'nothing on PATH'}). "
        f"Install PostgreSQL {server_major}'s client programs or set --pg-bin."
    )


def _pg_connect(settings_dict: dict, **options) -> psycopg.Connection:
    try:
        return psycopg.connect(**_psycopg_params(settings_dict), **options)
    except psycopg.Error as error:
        raise BackupError(f"Cannot reach the database {settings_dict['NAME']}: {error}") from error


def _pg_server_major(settings_dict: dict) -> int:
    with _pg_connect(settings_dict, autocommit=True) as conn:
        return conn.info.server_version // 10000


def _psycopg_params(settings_dict: dict) -> dict:
    params = {"dbname": settings_dict["NAME"]}
    for key, name in [("USER", "user"), ("PASSWORD", "password"), ("HOST", "host")]:
        if settings_dict.get(key):
            params[name] = settings_dict[key]
    if settings_dict.get("PORT"):
        params["port"] = int(settings_dict["PORT"])
    return params


def _pg_cli(settings_dict: dict) -> tuple[list[str], dict]:
    """The connection arguments of pg_dump and pg_restore, and their environment: the
    password goes in PGPASSWORD, never on a command line that `ps` shows."""
    args = []
    if settings_dict.get("HOST"):
        args += ["--host", settings_dict["HOST"]]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", settings_dict["USER"]]
    environment = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        environment["PGPASSWORD"] = settings_dict["PASSWORD"]
    sslmode = settings_dict.get("OPTIONS", {}).get("sslmode")
    if sslmode:
        environment["PGSSLMODE"] = sslmode
    return args + ["--no-password"], environment


def _run(command: list[str], environment: dict) -> None:
    # An argument list, no shell: the database's name and host cannot inject anything.
    result = subprocess.run(command, env=environment, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-2000:]}")


# --- backup --------------------------------------------------------------------------------------


def _media_root() -> Path:
    if getattr(settings, "CREDSHARE_STORAGE", "filesystem") != "filesystem":
        raise BackupError(
            "Documents are in an S3 bucket (CREDSHARE_STORAGE=s3): back the bucket up with its "
            "own versioning or replication (docs/backup.md); --no-media backs up the database "
            "alone."
        )
    return Path(settings.MEDIA_ROOT)


def backup_create(
    *, out: Path, alias: str = "default", media: bool = True, pg_bin: str = ""
) -> dict:
    """Write a backup of the database ALIAS and (MEDIA) the media files into OUT, a new or
    empty directory. Returns the manifest, also written to OUT/manifest.json."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty: back up into a new directory.")
    media_root = _media_root() if media else None
    out.mkdir(parents=True, exist_ok=True)
    connection = connections[alias]
    settings_dict = connection.settings_dict
    started = datetime.datetime.now(datetime.UTC)

    if connection.vendor == "postgresql":
        server_major = _pg_server_major(settings_dict)
        pg_dump = pg_program("pg_dump", server_major=server_major, pg_bin=pg_bin)
        args, environment = _pg_cli(settings_dict)
        target = out / PG_DUMP_FILE
        # Custom format: compressed, restored by pg_restore in one transaction; owners and
        # grants are left to the target's own role.
        _run(
            [pg_dump, "--format=custom", "--no-owner", "--no-privileges", *args,
             "--file", str(target), "--dbname", settings_dict["NAME"]],
            environment,
        )  # fmt: skip
        database = {
            "vendor": "postgresql",
            "file": PG_DUMP_FILE,
            "server_major": server_major,
            "dumped_with": f"pg_dump {_major_of(pg_dump)}",
        }
    elif connection.vendor == "sqlite":
        target = out / SQLITE_FILE
        connection.ensure_connection()
        # SQLite's online backup: a consistent copy even while others write (WAL mode).
        with sqlite3.connect(target) as copy:
            connection.connection.backup(copy)
        copy.close()
        database = {"vendor": "sqlite", "file": SQLITE_FILE}
    else:
        raise BackupError(f"Cannot back up a {connection.vendor} database.")
    database["sha256"] = file_sha256(target)

    manifest = {"format": FORMAT, "created": started.isoformat(), "database": database}
    if media_root is not None:
        archive = out / MEDIA_FILE
        count = 0
        with tarfile.open(archive, "w:gz") as tar:
            for path in sorted(media_root.rglob("*")) if media_root.exists() else []:
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname=path.relative_to(media_root).as_posix())
                    count += 1
        manifest["media"] = {"file": MEDIA_FILE, "sha256": file_sha256(archive), "files": count}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


# --- restore -------------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict:
    """The backup's manifest, once every file it lists matches its checksum."""
    try:
        manifest = json.loads((Path(source) / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{source} holds no readable {MANIFEST}: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source} is not a {FORMAT} backup.")
    for part in ("database", "media"):
        if part in manifest:
            path = Path(source) / manifest[part]["file"]
            if not path.is_file() or file_sha256(path) != manifest[part]["sha256"]:
                raise BackupError(f"{path} is missing or damaged (its SHA-256 does not match).")
    return manifest


def _pg_is_empty(settings_dict: dict) -> bool:
    query = (
        "SELECT count(*) FROM pg_tables"
        " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
    )
    with _pg_connect(settings_dict, autocommit=True) as conn:
        return conn.execute(query).fetchone()[0] == 0


def backup_restore(
    *, source: Path, database_url: str, media_root: Path | None, pg_bin: str = ""
) -> dict:
    """Restore the backup in SOURCE into the database at DATABASE_URL, which must exist and be
    empty (PostgreSQL: `createdb NAME`) or not exist yet (SQLite), and its media files into
    MEDIA_ROOT, which must be empty or missing. Refuses, changing nothing, otherwise."""
    manifest = read_manifest(source)
    target = database_from_url(database_url)
    database = manifest["database"]
    vendor = "postgresql" if "postgresql" in target["ENGINE"] else "sqlite"
    if vendor != database["vendor"]:
        raise BackupError(f"This backup is of a {database['vendor']} database, not {vendor}.")
    if media_root is not None and "media" in manifest:
        media_root = Path(media_root)
        if media_root.exists() and any(media_root.iterdir()):
            raise BackupError(f"{media_root} is not empty: restore into a new media directory.")

    dump = Path(source) / database["file"]
    if vendor == "postgresql":
        if not _pg_is_empty(target):
            raise BackupError(
                f"The database {target['NAME']} is not empty: restore into a new one "
                f"(createdb {target['NAME']}_restored)."
            )
        server_major = _pg_server_major(target)
        pg_restore = pg_program("pg_restore", server_major=server_major, pg_bin=pg_bin)
        args, environment = _pg_cli(target)
        _run(
            [pg_restore, "--no-owner", "--no-privileges", "--single-transaction",
             "--exit-on-error", *args, "--dbname", target["NAME"], str(dump)],
            environment,
        )  # fmt: skip
    else:
        path = Path(target["NAME"])
        if path.exists() and path.stat().st_size > 0:
            raise BackupError(f"{path} exists: restore into a new database file.")
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dump, path)

    if media_root is not None and "media" in manifest:
        media_root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(Path(source) / manifest["media"]["file"], "r:gz") as tar:
            # The "data" filter refuses absolute paths, "..", links out of the directory and
            # device files: an archive cannot write outside MEDIA_ROOT.
            tar.extractall(media_root, filter="data")
    return manifest


def restored_versions_check(*, database_url: str, media_root: Path) -> RestoreReport:
    """Compare every document version's file under MEDIA_ROOT with the SHA-256 recorded in
    the database at DATABASE_URL: what a restore should be checked with. Reads the table
    with a connection of its own (the restored database is not one Django is serving)."""
    from credshare.documents.models import DocumentVersion

    table = DocumentVersion._meta.db_table  # our model's own table, not anyone's input
    query = f"SELECT file, sha256 FROM {table} ORDER BY id"  # noqa: S608
    target = database_from_url(database_url)
    try:
        if "postgresql" in target["ENGINE"]:
            with _pg_connect(target) as conn:
                rows = conn.execute(query).fetchall()
        else:
            with closing(sqlite3.connect(f"file:{target['NAME']}?mode=ro", uri=True)) as conn:
                rows = conn.execute(query).fetchall()
    except (sqlite3.Error, psycopg.Error) as error:
        raise BackupError(f"Cannot read the restored document versions: {error}") from error
    mismatched, missing = [], []
    for name, sha256 in rows:
        path = Path(media_root) / name
        if not path.is_file():
            missing.append(name)
        elif file_sha256(path) != sha256:
            mismatched.append(name)
    return RestoreReport(versions=len(rows), mismatched=mismatched, missing=missing)
