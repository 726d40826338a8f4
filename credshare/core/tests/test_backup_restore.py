"""`manage.py backup` and `manage.py restore`: a few documents issued, backed up, restored
into a fresh database and media directory, and every version's file there matches the
SHA-256 the restored database records. Damaged backups and non-empty targets are refused."""

import hashlib
import io
import json
import stat
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from credshare.core import backup, testing
from credshare.documents.models import DocumentVersion
from credshare.documents.services import document_version_add


def run(command: str, **options) -> str:
    out = io.StringIO()
    call_command(command, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def issued(zoe, bob, university, free_college):
    """Four versions of three documents, for two learners."""
    transcript = testing.make_document(zoe, university, "Official transcript")
    document_version_add(document=transcript, pdf=testing.sample_pdf("corrected"))
    testing.make_document(zoe, free_college, "First-aid certificate")
    testing.make_document(bob, university, "Bob's transcript")
    return {v.file.name: v.sha256 for v in DocumentVersion.objects.all()}


# --- PostgreSQL ------------------------------------------------------------------------------


def admin_connection():
    params = backup._psycopg_params({**connection.settings_dict, "NAME": "postgres"})
    return psycopg.connect(**params, autocommit=True)


@pytest.fixture
def fresh_database():
    """A new, empty PostgreSQL database of its own name, dropped afterwards; its URL."""
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    settings_dict = connection.settings_dict
    user = settings_dict["USER"]
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    host = settings_dict["HOST"] or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    yield name, f"postgres://{user}{password}@{host}{port}/{name}"
    with admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (pg_dump)")
@pytest.mark.django_db(transaction=True)  # pg_dump reads committed rows, from its own session
def test_a_postgresql_backup_restores_into_a_fresh_database_and_media_directory(
    issued, tmp_path, settings, fresh_database
):
    name, url = fresh_database
    run("backup", out=str(tmp_path / "backup"))
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["database"]["vendor"] == "postgresql"
    assert manifest["media"]["files"] == 4

    restored_media = tmp_path / "restored-media"
    output = run(
        "restore",
        source=str(tmp_path / "backup"),
        database_url=url,
        media_root=str(restored_media),
    )

    assert output == "Restored; all 4 document version(s) match their SHA-256.\n"
    # Checked again here, from the restored database itself.
    with psycopg.connect(
        **backup._psycopg_params({**connection.settings_dict, "NAME": name})
    ) as db:
        rows = db.execute("SELECT file, sha256 FROM documents_documentversion").fetchall()
        learners = db.execute("SELECT email FROM accounts_user ORDER BY email").fetchall()
    assert dict(rows) == issued
    for file_name, sha256 in rows:
        assert hashlib.sha256((restored_media / file_name).read_bytes()).hexdigest() == sha256
    assert [email for (email,) in learners] == ["bob@example.org", "zoe@example.org"]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (pg_restore)")
@pytest.mark.django_db(transaction=True)
def test_restoring_into_a_database_that_is_not_empty_is_refused(issued, tmp_path):
    run("backup", out=str(tmp_path / "backup"))
    settings_dict = connection.settings_dict
    url = f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/"
    url += settings_dict["NAME"]

    with pytest.raises(CommandError, match="is not empty: restore into a new one"):
        run("restore", source=str(tmp_path / "backup"), database_url=url, media_root="/nowhere")
    assert DocumentVersion.objects.count() == 4


# --- SQLite ----------------------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite path")
@pytest.mark.django_db(transaction=True)
def test_a_sqlite_backup_restores_into_a_new_file_and_media_directory(issued, tmp_path):
    run("backup", out=str(tmp_path / "backup"))

    target = tmp_path / "restored.sqlite3"
    output = run(
        "restore",
        source=str(tmp_path / "backup"),
        database_url=f"sqlite:///{target}",
        media_root=str(tmp_path / "restored-media"),
    )

    assert output == "Restored; all 4 document version(s) match their SHA-256.\n"


# --- refusals and tool choice (no database of their own) -----------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_damaged_backup_is_refused_before_anything_is_restored(issued, tmp_path):
    run("backup", out=str(tmp_path / "backup"))
    archive = tmp_path / "backup" / "media.tar.gz"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))

    with pytest.raises(CommandError, match="media.tar.gz is missing or damaged"):
        run(
            "restore",
            source=str(tmp_path / "backup"),
            database_url=f"sqlite:///{tmp_path / 'never.sqlite3'}",
            media_root=str(tmp_path / "restored-media"),
        )
    assert not (tmp_path / "restored-media").exists()
    assert not (tmp_path / "never.sqlite3").exists()


def test_backing_up_into_a_directory_that_is_not_empty_is_refused(tmp_path):
    (tmp_path / "old-backup.txt").write_text("keep me")

    with pytest.raises(CommandError, match="is not empty: back up into a new directory"):
        run("backup", out=str(tmp_path))


def fake_program(directory: Path, name: str, major: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / name
    program.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {major}.3'\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program


def test_the_server_version_of_pg_dump_is_found_when_the_one_on_path_differs(tmp_path, monkeypatch):
    fake_program(tmp_path / "path-bin", "pg_dump", 13)
    wanted = fake_program(tmp_path / "pg" / "15" / "bin", "pg_dump", 15)
    monkeypatch.setenv("PATH", str(tmp_path / "path-bin"))
    monkeypatch.setattr(backup, "PG_BIN_LAYOUTS", (str(tmp_path / "pg" / "{major}" / "bin"),))

    assert backup.pg_program("pg_dump", server_major=15) == str(wanted)
    # The one on PATH is used when it is the server's version.
    assert backup.pg_program("pg_dump", server_major=13) == str(tmp_path / "path-bin" / "pg_dump")
    with pytest.raises(backup.BackupError, match="No pg_dump for PostgreSQL 16"):
        backup.pg_program("pg_dump", server_major=16)


def test_a_pg_bin_of_an_older_version_than_the_server_is_refused(tmp_path):
    fake_program(tmp_path / "bin", "pg_restore", 12)

    with pytest.raises(backup.BackupError, match="version 12; the server is PostgreSQL 15"):
        backup.pg_program("pg_restore", server_major=15, pg_bin=str(tmp_path / "bin"))
