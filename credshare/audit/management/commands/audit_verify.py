from django.core.management.base import BaseCommand, CommandError

from credshare.audit.selectors import chain_verify


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain from its first entry to its last; exits non-zero "
        "naming the first entry that does not hold."
    )

    def handle(self, *args, **options) -> None:
        verdict = chain_verify()
        if not verdict.intact:
            broken = verdict.broken
            raise CommandError(
                f"The audit log is broken at entry {broken.sequence}: {broken.reason}. "
                f"{verdict.checked} entries before it hold."
            )
        self.stdout.write(f"The audit log holds: {verdict.checked} entries, chain intact.")
        if verdict.last_hash:
            self.stdout.write(f"Last entry's hash: {verdict.last_hash}")
