"""Delete the API's kept POST responses once their Idempotency-Key has expired (24 hours).
Run it daily (cron, a systemd timer); expired keys are ignored even before they go."""

from django.core.management.base import BaseCommand

from credshare.api.services import idempotency_records_purge


class Command(BaseCommand):
    help = "Delete the API's Idempotency-Key records older than 24 hours."

    def handle(self, *args, **options):
        deleted = idempotency_records_purge()
        self.stdout.write(f"Deleted {deleted} idempotency records.")
