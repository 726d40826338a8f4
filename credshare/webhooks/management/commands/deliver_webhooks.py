"""The webhook scheduler: `deliver_webhooks` attempts every delivery that is due (first
attempts that no background task sent, and retries) and announces shares that expired;
`deliver_webhooks --loop` keeps doing so until SIGTERM or SIGINT, and runs the hourly clean-ups
(credshare/ops/cleanup.py): it is the scheduler of an installation without Celery, run beside
the web server. Several may run at once: each delivery attempt and
each expiry announcement is claimed by one of them only."""

import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from credshare.ops.cleanup import clean_up
from credshare.webhooks.services import deliver_due, shares_expired_announce

logger = logging.getLogger(__name__)

BATCH = 100
# Seconds between two looks for expired shares with --loop: expiry dates are whole days.
ANNOUNCE_INTERVAL = 60.0
# Seconds between two runs of the clean-ups (credshare/ops/cleanup.py) with --loop, which
# is the scheduler of an installation without Celery beat.
CLEAN_UP_INTERVAL = 3600.0


class Command(BaseCommand):
    help = (
        "Send the webhook deliveries that are due and announce expired shares, once. With "
        "--loop, keep doing so every few seconds until SIGTERM or SIGINT."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", action="store_true", help="Keep delivering until SIGTERM or SIGINT."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            help="Seconds to wait between two passes with --loop (default 5).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=4,
            help="Deliveries sent at once, so that one slow receiver holds up no other "
            "(default 4).",
        )

    def handle(self, *args, loop: bool, interval: float, workers: int, **options):
        verbosity = options["verbosity"]
        if not loop:
            self._announce(verbosity)
            self._deliver(workers, verbosity, should_stop=lambda: False)
            return

        stop = threading.Event()
        # Finish the requests in hand, then end.
        previous = {
            number: signal.signal(number, lambda *_: stop.set())
            for number in (signal.SIGTERM, signal.SIGINT)
        }
        last_announce = last_clean_up = None
        try:
            while not stop.is_set():
                # As between requests: drop connections that broke or outlived CONN_MAX_AGE.
                close_old_connections()
                try:
                    if last_announce is None or time.monotonic() - last_announce >= (
                        ANNOUNCE_INTERVAL
                    ):
                        last_announce = time.monotonic()
                        self._announce(verbosity)
                    if last_clean_up is None or time.monotonic() - last_clean_up >= (
                        CLEAN_UP_INTERVAL
                    ):
                        last_clean_up = time.monotonic()
                        clean_up()
                    busy = self._deliver(workers, verbosity, should_stop=stop.is_set)
                except Exception:
                    # The database restarting, say: try again on the next pass.
                    logger.exception("Webhook delivery pass failed")
                    busy = False
                if not busy:
                    stop.wait(interval)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            close_old_connections()

    def _announce(self, verbosity: int) -> None:
        announced = shares_expired_announce()
        if announced and verbosity > 0:
            self.stdout.write(f"{announced} expired share(s) announced")

    def _deliver(self, workers: int, verbosity: int, *, should_stop) -> bool:
        """Attempt a batch of due deliveries; True when it was full (more may be due: no
        pause before the next)."""
        attempted = deliver_due(limit=BATCH, workers=workers, should_stop=should_stop)
        if attempted and verbosity > 0:
            self.stdout.write(f"{attempted} webhook delivery attempt(s)")
        return attempted >= BATCH
