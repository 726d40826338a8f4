"""The outbox worker: `deliver_emails` attempts every due email once; `deliver_emails --loop`
keeps doing so until SIGTERM or SIGINT, and is what production runs beside the web server
(with CREDSHARE_EMAIL_DELIVERY=worker)."""

import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from credshare.notifications.services import email_deliver_due

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Send every pending email that is due, once. With --loop, keep doing so every few "
        "seconds until SIGTERM or SIGINT: the background email worker."
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

    def handle(self, *args, loop: bool, interval: float, **options):
        if not loop:
            self._report(email_deliver_due(), options["verbosity"])
            return

        stop = threading.Event()
        # Finish the email in hand, then end: a signal never cuts an SMTP conversation short.
        previous = {
            number: signal.signal(number, lambda *_: stop.set())
            for number in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            while not stop.is_set():
                # As between requests: drop connections that broke or outlived CONN_MAX_AGE.
                close_old_connections()
                try:
                    self._report(email_deliver_due(should_stop=stop.is_set), options["verbosity"])
                except Exception:
                    # The database restarting, say: try again on the next pass.
                    logger.exception("Email delivery pass failed")
                stop.wait(interval)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            close_old_connections()

    def _report(self, sent: int, verbosity: int) -> None:
        if sent and verbosity > 0:
            self.stdout.write(f"{sent} email(s) sent")
