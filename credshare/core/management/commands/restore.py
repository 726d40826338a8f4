"""`manage.py restore --from DIR`: a backup into a new, empty database and media directory,
then every document version's file checked against its recorded SHA-256."""

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from credshare.core.backup import BackupError, backup_restore, restored_versions_check


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into an empty database (DATABASE_URL, or "
        "--database-url) and an empty media directory (CREDSHARE_MEDIA_ROOT, or --media-root), "
        "then check every document version's file against its SHA-256."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="source", required=True, help="The backup directory.")
        parser.add_argument(
            "--database-url",
            # The environment's own, as settings.py reads it: restoring a server's backup
            # onto a new server is run there with its settings.
            default=os.environ.get("DATABASE_URL", "sqlite:///"),
            help="The database to restore into; it must exist and be empty (PostgreSQL), or "
            "not exist yet (SQLite). Default: DATABASE_URL.",
        )
        parser.add_argument(
            "--media-root",
            default=str(settings.MEDIA_ROOT),
            help="The media directory to restore into; it must be empty or missing.",
        )
        parser.add_argument(
            "--pg-bin",
            default=settings.CREDSHARE_PG_BIN,
            help="The bin directory of PostgreSQL's client programs of the server's version.",
        )

    def handle(self, *args, source, database_url, media_root, pg_bin, **options):
        try:
            manifest = backup_restore(
                source=Path(source),
                database_url=database_url,
                media_root=Path(media_root),
                pg_bin=pg_bin,
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        if "media" not in manifest:
            self.stdout.write("Restored the database; the backup holds no media files.")
            return
        try:
            report = restored_versions_check(database_url=database_url, media_root=Path(media_root))
        except BackupError as error:
            raise CommandError(str(error)) from error
        if report.missing or report.mismatched:
            raise CommandError(
                f"Restored, but of {report.versions} document version(s), "
                f"{len(report.missing)} file(s) are missing and {len(report.mismatched)} do not "
                f"match their SHA-256: " + ", ".join((report.missing + report.mismatched)[:10])
            )
        self.stdout.write(
            f"Restored; all {report.versions} document version(s) match their SHA-256."
        )
