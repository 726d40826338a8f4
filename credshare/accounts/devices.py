"""The device cookie (OWASP): a signed cookie, given to a browser at each complete sign-in,
naming the accounts that signed in from it. A browser that shows one for the account it
tries is throttled on its own (throttle.py), apart from every browser the account does not
know, so that guesses made elsewhere never slow its owner there.

It holds, for at most DEVICES_PER_BROWSER accounts, the account's id and a random id of this
browser, signed with the secret key (it cannot be made up or moved to another account) and
valid for a year from its last sign-in. It proves nothing by itself: the password (and the
second factor) are still asked."""

import secrets

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

COOKIE_NAME = "credshare_device"
SALT = "credshare.accounts.devices"
MAX_AGE_SECONDS = 365 * 24 * 3600
DEVICES_PER_BROWSER = 5


def _entries(request: HttpRequest) -> list[list]:
    value = request.COOKIES.get(COOKIE_NAME)
    if not value:
        return []
    try:
        entries = signing.loads(value, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:  # also an expired one
        return []
    if not isinstance(entries, list):
        return []
    return [
        entry
        for entry in entries
        if isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], int)
        and isinstance(entry[1], str)
    ]


def device_of(request: HttpRequest, *, user_pk: int) -> str | None:
    """This browser's id for the account USER_PK, when it signed in to it before."""
    return next((device for pk, device in _entries(request) if pk == user_pk), None)


def device_remember(request: HttpRequest, response: HttpResponse, *, user_pk: int) -> None:
    """After a complete sign-in to USER_PK: (re)give RESPONSE's browser its device cookie,
    keeping the browser's id for that account if it had one."""
    entries = _entries(request)
    device = device_of(request, user_pk=user_pk) or secrets.token_hex(16)
    others = [entry for entry in entries if entry[0] != user_pk]
    entries = [[user_pk, device], *others][:DEVICES_PER_BROWSER]
    response.set_cookie(
        COOKIE_NAME,
        signing.dumps(entries, salt=SALT),
        max_age=MAX_AGE_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
