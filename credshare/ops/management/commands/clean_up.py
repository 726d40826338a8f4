"""`manage.py clean_up`: the scheduler's hourly clean-ups, once (credshare/ops/cleanup.py)."""

from django.core.management.base import BaseCommand

from credshare.ops.cleanup import clean_up


class Command(BaseCommand):
    help = "Delete expired idempotency records, finished sign-in throttles and expired sessions."

    def handle(self, *args, **options):
        for name, deleted in clean_up().items():
            self.stdout.write(f"{name}: {deleted} deleted")
