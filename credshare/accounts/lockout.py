"""Sign-in lockout per address, counted atomically in the database.

allauth's own rate limits read, change and write a cache entry, so concurrent guesses can all
pass the same check. Here an attempt first takes one of the address's slots under a row lock
(PostgreSQL: SELECT ... FOR UPDATE; SQLite: transactions start IMMEDIATE, see settings), and
only an attempt that got a slot has its password checked. LIMIT failures within WINDOW lock
the address for LOCKOUT; a successful sign-in gives its slot back; a password reset clears it.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from credshare.accounts.models import SignInThrottle


def _limit() -> int:
    return settings.CREDSHARE_SIGN_IN_FAILURE_LIMIT


def _period() -> datetime.timedelta:
    # The counting window and the lockout share one length: "10 failures in 15 minutes locks
    # the address for 15 minutes".
    return datetime.timedelta(minutes=settings.CREDSHARE_SIGN_IN_LOCKOUT_MINUTES)


def normalized(email: str) -> str:
    return (email or "").strip().lower()[:254]


def sign_in_attempt_reserve(*, email: str) -> bool:
    """Take a slot for one sign-in attempt at EMAIL: True when its password may be checked,
    False when the address is locked. The slot counts as a failure until given back."""
    key = normalized(email)
    now = timezone.now()
    with transaction.atomic():
        # Insert the row if missing without failing on a concurrent insert, then lock it.
        SignInThrottle.objects.bulk_create(
            [SignInThrottle(email=key, window_started_at=now)], ignore_conflicts=True
        )
        throttle = SignInThrottle.objects.select_for_update().get(email=key)
        if throttle.locked_until and throttle.locked_until > now:
            return False
        if throttle.locked_until or throttle.window_started_at + _period() <= now:
            throttle.failures = 0
            throttle.window_started_at = now
            throttle.locked_until = None
        if throttle.failures >= _limit():
            throttle.locked_until = now + _period()
            throttle.save(update_fields=["failures", "window_started_at", "locked_until"])
            return False
        throttle.failures += 1
        if throttle.failures >= _limit():
            # The last slot: should it fail too, the address stays locked from now.
            throttle.locked_until = now + _period()
        throttle.save(update_fields=["failures", "window_started_at", "locked_until"])
    return True


def sign_in_attempt_succeeded(*, email: str) -> None:
    """Give back the slot of an attempt whose password was right. Only that one slot: an
    attacker cannot wipe the count by slipping in the owner's successful sign-ins."""
    with transaction.atomic():
        throttle = (
            SignInThrottle.objects.select_for_update().filter(email=normalized(email)).first()
        )
        if throttle is None or throttle.failures == 0:
            return
        throttle.failures -= 1
        throttle.locked_until = None
        throttle.save(update_fields=["failures", "locked_until"])


def sign_in_lockout_clear(*, email: str) -> None:
    """Forget EMAIL's failures: its owner proved they read its mail (a password reset)."""
    SignInThrottle.objects.filter(email=normalized(email)).delete()


def sign_in_throttles_purge() -> int:
    """Delete rows whose window and lockout are over (any address may get one); returns how
    many."""
    cutoff = timezone.now() - _period()
    deleted, _ = (
        SignInThrottle.objects.filter(window_started_at__lte=cutoff)
        .exclude(locked_until__gt=timezone.now())
        .delete()
    )
    return deleted
