"""`manage.py backup --out DIR`: the database and the documents' files, with checksums."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from credshare.core.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump, or SQLite's online backup) and the media files "
        "(documents) into a new directory, with a manifest of SHA-256 checksums."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="A new or empty directory.")
        parser.add_argument(
            "--no-media",
            action="store_true",
            help="The database only (documents kept elsewhere, e.g. a versioned S3 bucket).",
        )
        parser.add_argument(
            "--pg-bin",
            default=settings.CREDSHARE_PG_BIN,
            help="The bin directory of PostgreSQL's client programs of the server's version "
            "(default: CREDSHARE_PG_BIN, else found by the server's version).",
        )

    def handle(self, *args, out, no_media, pg_bin, **options):
        try:
            manifest = backup_create(out=Path(out), media=not no_media, pg_bin=pg_bin)
        except BackupError as error:
            raise CommandError(str(error)) from error
        media = manifest.get("media")
        self.stdout.write(
            f"Backed up the {manifest['database']['vendor']} database"
            + (f" and {media['files']} media file(s)" if media else "")
            + f" into {out}"
        )
