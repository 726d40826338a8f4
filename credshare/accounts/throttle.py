"""Throttling of password and second-factor guesses, by account and source, that an attacker
cannot aim at a victim (OWASP's "device cookie" approach).

A password attempt at an account is counted in buckets (SignInThrottle rows):

- from a browser that signed in to that account before (it shows a valid device cookie,
  given at each complete sign-in: devices.py), in that browser's own bucket only: however
  many guesses others make, the owner's usual browsers are never slowed;
- from any other browser, in the bucket of the account and the client's address (an IPv6
  address counts by its /64), and in the account's bucket of unknown browsers, which allows
  more failures, so that one address cannot slow the owner's new browsers elsewhere while many
  addresses together still cannot guess freely.

A second-factor code is counted in the account's own bucket, whatever the address: guessing
one needs the password already.

In each bucket the first few failures are free; past them each next attempt waits a delay
that doubles up to a ceiling. An attempt that must wait is refused without its password being
checked, with the time to wait; a right password or code gives its slot back; a failure is
forgotten after a day without attempts; a password reset forgets the account's password
buckets. Nothing is ever locked for good, and nothing here depends on whether the account
exists: an address with no account is counted the same way, so it answers the same.

An attempt takes its slots under row locks (PostgreSQL: SELECT ... FOR UPDATE; SQLite:
transactions start IMMEDIATE, see settings) before its password is checked, so concurrent
guesses cannot all pass the same check.
"""

import dataclasses
import datetime
import ipaddress
import math

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import ngettext

from credshare.accounts.models import SignInThrottle

# The first delay past the free failures; each next failure doubles it, up to the ceiling.
FIRST_DELAY = datetime.timedelta(seconds=30)
# A bucket without any attempt for this long starts again from nothing.
FORGET_AFTER = datetime.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class Bucket:
    key: str
    free_failures: int


@dataclasses.dataclass(frozen=True)
class Reservation:
    """What an attempt took: its buckets, to give back if it succeeds."""

    buckets: tuple[Bucket, ...]


class MustWait(Exception):
    """Too many recent failures in one of the attempt's buckets: try again at RETRY_AT."""

    def __init__(self, retry_at: datetime.datetime):
        super().__init__(retry_at)
        self.retry_at = retry_at

    def message(self) -> str:
        """For the person trying: when to try again, translated."""
        seconds = max(1, math.ceil((self.retry_at - timezone.now()).total_seconds()))
        if seconds < 60:
            return ngettext(
                "Too many failed attempts. Try again in %(count)d second.",
                "Too many failed attempts. Try again in %(count)d seconds.",
                seconds,
            ) % {"count": seconds}
        minutes = math.ceil(seconds / 60)
        return ngettext(
            "Too many failed attempts. Try again in %(count)d minute.",
            "Too many failed attempts. Try again in %(count)d minutes.",
            minutes,
        ) % {"count": minutes}


def delay_after(failures: int, free_failures: int) -> datetime.timedelta:
    """How long the next attempt waits after FAILURES in a bucket allowing FREE_FAILURES."""
    if failures < free_failures:
        return datetime.timedelta(0)
    ceiling = datetime.timedelta(minutes=settings.CREDSHARE_SIGN_IN_MAX_DELAY_MINUTES)
    doublings = min(failures - free_failures, 30)  # past 30, any ceiling is reached
    return min(FIRST_DELAY * 2**doublings, ceiling)


def _source_network(address: str) -> str:
    """ADDRESS as a bucket counts it: an IPv4 address whole, an IPv6 one by its /64 (one
    subscriber's usual allocation, all of it theirs to rotate through)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return "unknown-address"
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def password_buckets(*, account: str, address: str, device: str | None) -> list[Bucket]:
    """The buckets of a password attempt at ACCOUNT ("user:<pk>", or "email:<address>" for an
    address no account has) from ADDRESS, in a browser known to the account as DEVICE (its
    device cookie's id) or in an unknown one (None)."""
    free = settings.CREDSHARE_SIGN_IN_FREE_FAILURES
    if device is not None:
        return [Bucket(f"password:{account}:device:{device}", free)]
    return [
        Bucket(f"password:{account}:address:{_source_network(address)}", free),
        Bucket(
            f"password:{account}:unknown-browsers",
            settings.CREDSHARE_SIGN_IN_UNKNOWN_BROWSER_FREE_FAILURES,
        ),
    ]


def second_factor_buckets(*, user_pk: int) -> list[Bucket]:
    return [Bucket(f"mfa:user:{user_pk}", settings.CREDSHARE_SIGN_IN_FREE_FAILURES)]


def attempt_reserve(buckets: list[Bucket]) -> Reservation:
    """Take one slot in each of BUCKETS for one attempt, which counts as a failure until it is
    given back; raises MustWait (taking nothing) when one of them asks to wait."""
    now = timezone.now()
    # Locked in one order, so two attempts sharing buckets never wait on each other in a cycle.
    buckets = sorted(buckets, key=lambda bucket: bucket.key)
    keys = [bucket.key for bucket in buckets]
    with transaction.atomic():
        # Insert missing rows without failing on a concurrent insert, then lock them.
        SignInThrottle.objects.bulk_create(
            [SignInThrottle(key=key, last_attempt_at=now) for key in keys], ignore_conflicts=True
        )
        rows = {
            row.key: row
            for row in SignInThrottle.objects.select_for_update()
            .filter(key__in=keys)
            .order_by("key")
        }
        waits = [
            row.next_attempt_at
            for row in rows.values()
            if row.next_attempt_at and row.next_attempt_at > now
        ]
        if waits:
            raise MustWait(max(waits))
        for bucket in buckets:
            row = rows[bucket.key]
            if row.last_attempt_at + FORGET_AFTER <= now:
                row.failures = 0
            row.failures += 1
            row.last_attempt_at = now
            wait = delay_after(row.failures, bucket.free_failures)
            row.next_attempt_at = now + wait if wait else None
            row.save(update_fields=["failures", "last_attempt_at", "next_attempt_at"])
    return Reservation(tuple(buckets))


def attempt_succeeded(reservation: Reservation) -> None:
    """Give back the slots of an attempt whose password or code was right. Only those: an
    attacker cannot wipe the count by slipping in the owner's successful sign-ins."""
    free = {bucket.key: bucket.free_failures for bucket in reservation.buckets}
    with transaction.atomic():
        for row in SignInThrottle.objects.select_for_update().filter(key__in=free).order_by("key"):
            if row.failures == 0:
                continue
            row.failures -= 1
            if row.failures < free.get(row.key, 0):
                row.next_attempt_at = None
            row.save(update_fields=["failures", "next_attempt_at"])


def password_failures_forget(*, account: str) -> None:
    """Forget every password failure at ACCOUNT: its owner proved they read its mail (a
    password reset)."""
    SignInThrottle.objects.filter(key__startswith=f"password:{account}:").delete()


def sign_in_throttles_purge() -> int:
    """Delete the buckets nothing is counted in any more (forgotten, not waiting); returns how
    many."""
    now = timezone.now()
    deleted, _by_model = (
        SignInThrottle.objects.filter(last_attempt_at__lte=now - FORGET_AFTER)
        .exclude(next_attempt_at__gt=now)
        .delete()
    )
    return deleted
