"""Limits on the sessions of accounts with power (platform staff and superusers, organization
members of any role): one ends after CREDSHARE_STAFF_SESSION_IDLE_MINUTES without a request
and CREDSHARE_STAFF_SESSION_MAX_HOURS after its sign-in, and is never remembered past the
browser's closing. Learners keep the usual rules (and "Remember me").

Whether the session's account holds power is taken at sign-in and again at most every
POWER_RECHECK_SECONDS (one query then, not on every request); the limits count from the times
kept in the session, so an account that gained power mid-session meets them at once when
they are already over."""

import time

from django.conf import settings

from credshare.accounts.selectors import user_holds_power
from credshare.network.selectors import organizations_of_request_user

SIGNED_IN_AT = "credshare_signed_in_at"
LAST_SEEN_AT = "credshare_last_seen_at"
POWER = "credshare_holds_power"  # [verdict, when taken]
POWER_RECHECK_SECONDS = 300
# The last request's time is written at most this often, not on every request (a session
# write each time); the idle limit is that much less precise.
LAST_SEEN_GRANULARITY_SECONDS = 60


def request_user_holds_power(request) -> bool:
    """selectors.user_holds_power for the signed-in user, the memberships read by the header's
    own query (kept on the request)."""
    return user_holds_power(user=request.user, organizations=organizations_of_request_user(request))


def _note_power(session, power: bool, now: int) -> None:
    session[POWER] = [power, now]
    if power and not session.get_expire_at_browser_close():
        session.set_expiry(0)  # "Remember me" is for learners


def signed_in(session, user) -> None:
    """At a sign-in of USER: the limits count from now."""
    now = int(time.time())
    session[SIGNED_IN_AT] = now
    session[LAST_SEEN_AT] = now
    _note_power(session, user_holds_power(user=user), now)


def holds_power(request) -> bool:
    """The session's verdict, taken again when it is older than POWER_RECHECK_SECONDS."""
    now = int(time.time())
    verdict = request.session.get(POWER)
    if verdict and now - verdict[1] < POWER_RECHECK_SECONDS:
        return verdict[0]
    power = request_user_holds_power(request)
    _note_power(request.session, power, now)
    return power


def over_limit(request) -> str | None:
    """Which limit a staff session is over ("idle", "absolute"), else None; notes this
    request's time."""
    now = int(time.time())
    session = request.session
    signed_in_at = session.setdefault(SIGNED_IN_AT, now)  # a session from before the limits
    last_seen_at = session.get(LAST_SEEN_AT, now)
    if now - signed_in_at >= settings.CREDSHARE_STAFF_SESSION_MAX_HOURS * 3600:
        return "absolute"
    if now - last_seen_at >= settings.CREDSHARE_STAFF_SESSION_IDLE_MINUTES * 60:
        return "idle"
    if now - last_seen_at >= LAST_SEEN_GRANULARITY_SECONDS or LAST_SEEN_AT not in session:
        session[LAST_SEEN_AT] = now
    return None
