"""Webhooks: organizations' endpoints, the events published to them, and their delivery.

An event is published in the transaction of the change it tells of (a share, a revocation, a
correction): one WebhookDelivery row per subscribed endpoint, so no commit, no delivery, and
no change without its delivery. Sending starts only once that transaction has committed, and
never in the request that caused it: a Celery task (CREDSHARE_TASKS "celery"), a short-lived
thread ("inline", the embedded default) or nothing ("none", tests). Failed deliveries are
retried by the scheduler (`manage.py deliver_webhooks --loop`, or Celery beat) with an
exponential backoff for up to three days.

An attempt first claims its delivery under a row lock (attempts + 1, next attempt pushed past
the longest possible request) and commits, then makes the HTTP request with no transaction
open, then saves the outcome: two workers never send the same attempt, and a worker killed
mid-request leaves the delivery to be retried once its claim runs out. Receivers drop the
rare duplicate by the event id, which every retry and redelivery keeps.

The payload, headers and signature are documented in README.md beside this file.
"""

import datetime
import http.client
import ipaddress
import json
import logging
import random
import re
import secrets
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from credshare.accounts.models import User
from credshare.core.errors import ApplicationError
from credshare.documents.models import Document
from credshare.network.models import Organization
from credshare.sharing.models import Share
from credshare.webhooks.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from credshare.webhooks.signatures import signature_header

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 -- a prefix that says what the string is, not a secret
USER_AGENT = "credshare-webhooks/1"
FIRST_RETRY = datetime.timedelta(seconds=30)
LONGEST_RETRY = datetime.timedelta(hours=6)
# Retries stop this long after the delivery was created; the last one falls on its end.
RETRY_WINDOW = datetime.timedelta(days=3)
# An attempt's claim: far longer than one request can last (CREDSHARE_WEBHOOK_TIMEOUT bounds
# each of its few network steps), so no other worker sends the same attempt meanwhile.
CLAIM = datetime.timedelta(minutes=10)
# Of the receiver's answer, only the start is read and kept.
RESPONSE_BODY_CHARS = 2000
RESPONSE_READ_BYTES = 8 * 1024
# share.expired goes out for shares that expired this recently: older ones (those expired
# before webhooks existed, or while no scheduler ran) would only be given up on.
EXPIRY_LOOKBACK = RETRY_WINDOW


# --- endpoints ---------------------------------------------------------------------------------


def endpoint_create(
    *,
    organization: Organization,
    url: str,
    events: list[str],
    description: str = "",
    by: User | None,
) -> WebhookEndpoint:
    """Register an endpoint of ORGANIZATION for EVENTS, with a new signing secret. Callers
    check that BY may manage the organization's webhooks."""
    return WebhookEndpoint.objects.create(
        organization=organization,
        url=_clean_url(url),
        events=_clean_events(events),
        description=_clean_description(description),
        secret=_new_secret(),
        created_by=by,
    )


def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str,
    events: list[str],
    description: str,
    is_active: bool,
    by: User | None,
) -> WebhookEndpoint:
    """Change an endpoint. Deliveries already made keep going to the endpoint's URL of the
    moment they are attempted; a deactivated endpoint's pending deliveries are given up."""
    endpoint.url = _clean_url(url)
    endpoint.events = _clean_events(events)
    endpoint.description = _clean_description(description)
    endpoint.is_active = bool(is_active)
    endpoint.save(update_fields=["url", "events", "description", "is_active"])
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint, by: User | None) -> None:
    """Remove an endpoint with its deliveries and their log."""
    endpoint.delete()


def endpoint_secret_rotate(*, endpoint: WebhookEndpoint, by: User | None) -> WebhookEndpoint:
    """Give the endpoint a new secret: every attempt from now on, retries included, is
    signed with it, and the old one stops working at once."""
    endpoint.secret = _new_secret()
    endpoint.save(update_fields=["secret"])
    return endpoint


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _clean_description(description: str) -> str:
    description = " ".join((description or "").split())
    limit = WebhookEndpoint._meta.get_field("description").max_length
    if len(description) > limit:
        raise ApplicationError(
            _("Keep the description under %(limit)d characters.") % {"limit": limit},
            code="description_too_long",
            field="description",
        )
    return description


def _clean_events(events: Iterable[str]) -> list[str]:
    chosen = set(events or [])
    if not chosen:
        raise ApplicationError(
            _("Choose at least one event."), code="webhook_events_empty", field="events"
        )
    unknown = chosen - set(Event.values)
    if unknown:
        raise ApplicationError(
            _("Unknown event: %(events)s.") % {"events": ", ".join(sorted(unknown))},
            code="webhook_event_unknown",
            field="events",
        )
    # In the order of the list of events, whatever order they were given in.
    return [value for value in Event.values if value in chosen]


_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def _clean_url(url: str) -> str:
    """An absolute HTTPS URL whose host is not an address of a private network. Plain HTTP
    and loopback hosts are accepted only with CREDSHARE_WEBHOOK_ALLOW_LOOPBACK (local
    development and tests). Host names are resolved, and checked again, at each attempt."""
    url = (url or "").strip()
    limit = WebhookEndpoint._meta.get_field("url").max_length
    invalid = ApplicationError(
        _("Enter a valid URL, such as https://example.com/webhooks."),
        code="webhook_url_invalid",
        field="url",
    )
    if len(url) > limit:
        raise invalid
    try:
        URLValidator(schemes=["http", "https"])(url)
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except (ValidationError, ValueError):
        raise invalid from None
    if parts.username is not None or parts.password is not None:
        # A password in the URL would be shown to every admin and stored in clear.
        raise invalid
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise invalid

    loopback_allowed = settings.CREDSHARE_WEBHOOK_ALLOW_LOOPBACK
    address = host_address(host)
    if address is None:  # a name: checked here if it is a loopback one, else when sending
        is_loopback = host in _LOOPBACK_NAMES or host.endswith(".localhost")
        refused = is_loopback and not loopback_allowed
    else:
        is_loopback = _unmapped(address).is_loopback
        refused = not address_allowed(address)
    if refused:
        raise ApplicationError(
            _("This address is on a private network: enter a public HTTPS URL."),
            code="webhook_url_private",
            field="url",
        )
    if parts.scheme != "https" and not (loopback_allowed and is_loopback):
        raise ApplicationError(
            _("The URL must start with https://."), code="webhook_url_not_https", field="url"
        )
    return url


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges that is_global does not refuse (in every Python we run on) but that never hold a
# public web server: deprecated site-local IPv6, the IPv6 documentation prefix of RFC 9637,
# SRv6 segment identifiers (RFC 9602), the deprecated 6to4 relay anycast, NAT64's local-use
# prefix (RFC 8215: a network's own translator, which reaches its private IPv4 hosts),
# IPv4-compatible (::a.b.c.d, deprecated) and IPv4-translated (::ffff:0:a.b.c.d) addresses.
_NEVER_PUBLIC = [
    ipaddress.ip_network(network)
    for network in (
        "fec0::/10",
        "3fff::/20",
        "5f00::/16",
        "192.88.99.0/24",
        "64:ff9b:1::/48",
        "::/96",
        "::ffff:0:0:0/96",
    )
]
# Prefixes whose addresses carry an IPv4 address that the packets reach in the end: NAT64's
# well-known prefix (RFC 6052: the last 32 bits) and 6to4 (RFC 3056: the 32 bits after 2002:).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a translated or tunnelled IPv6 ADDRESS leads to (NAT64, 6to4,
    Teredo's server and client)."""
    if address in _NAT64:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    return []


def address_allowed(address: IPAddress) -> bool:
    """Whether credshare may send a request to ADDRESS: a public one, or a loopback one when
    CREDSHARE_WEBHOOK_ALLOW_LOOPBACK is on. Never a private, link-local (cloud metadata),
    shared, reserved, documentation or multicast one, nor an IPv6 address that translates or
    tunnels to one (IPv4-mapped, NAT64, 6to4, Teredo), so an endpoint cannot reach the
    servers beside ours."""
    address = _unmapped(address)
    if address.is_loopback:
        return bool(settings.CREDSHARE_WEBHOOK_ALLOW_LOOPBACK)
    if not address.is_global or address.is_multicast or address.is_unspecified:
        return False
    if any(address in network for network in _NEVER_PUBLIC if network.version == address.version):
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        # Teredo (2001::/32) is already refused as not global; a tunnel to loopback is never
        # a local development setup.
        return all(inner.is_global and not inner.is_multicast for inner in embedded)
    return True


# A host of numbers only: decimal, octal (leading 0) or hex (0x) parts, one to four of them.
_NUMERIC_HOST = re.compile(
    r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.IGNORECASE
)


def host_address(host: str) -> IPAddress | None:
    """The IP address HOST spells, in any of the forms a resolver accepts: dotted decimal,
    IPv6, and the legacy IPv4 forms inet_aton reads (2130706433, 0x7f.1, 0177.0.0.1, 127.1),
    which getaddrinfo would turn into an address at delivery. None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


# --- publishing ----------------------------------------------------------------------------


def event_publish(
    *, organization: Organization, event_type: str, data: dict
) -> list[WebhookDelivery]:
    """Make one delivery of the event per active endpoint of ORGANIZATION subscribed to it, in
    the caller's transaction; they are sent in the background once it commits. DATA must be
    JSON (strings, not UUIDs) and hold ids and API URLs, never personal data."""
    if event_type not in Event.values:
        raise ValueError(f"Unknown webhook event {event_type!r}")
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(organization=organization, is_active=True)
        if event_type in endpoint.events
    ]
    if not endpoints:
        return []
    now = timezone.now()
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": event_type,
        "created": now.isoformat(),
        "organization": organization.slug,
        "data": data,
    }
    with transaction.atomic():
        deliveries = [
            WebhookDelivery.objects.create(
                endpoint=endpoint,
                event_id=event_id,
                event_type=event_type,
                payload=payload,
                next_attempt_at=now,
            )
            for endpoint in endpoints
        ]
        _send_after_commit([delivery.pk for delivery in deliveries])
    return deliveries


def _api_url(path: str) -> str:
    # The REST API's paths are part of its stable contract (/api/v1/...).
    return settings.CREDSHARE_BASE_URL.rstrip("/") + "/api/v1/" + path


def share_event_data(share: Share) -> dict:
    return {"share": {"id": str(share.public_id), "url": _api_url(f"shares/{share.public_id}")}}


def share_event_publish(*, share: Share, event_type: str) -> list[WebhookDelivery]:
    """Tell a share's recipient organization of EVENT_TYPE (share.received, share.revoked,
    share.expired). Email and link shares have no organization to tell."""
    if share.channel != Share.Channel.ORGANIZATION or share.recipient_organization_id is None:
        return []
    return event_publish(
        organization=share.recipient_organization,
        event_type=event_type,
        data=share_event_data(share),
    )


def document_event_publish(*, document: Document, event_type: str) -> list[WebhookDelivery]:
    """Tell every organization that holds a live share of DOCUMENT of EVENT_TYPE
    (document.updated, document.withdrawn), naming its shares there. Only organizations with
    an active endpoint are looked at."""
    rows = (
        Share.objects.live()
        .filter(
            channel=Share.Channel.ORGANIZATION,
            documents=document,
            recipient_organization__webhook_endpoints__is_active=True,
        )
        .order_by("created", "pk")
        .values_list("recipient_organization_id", "public_id")
    )
    shares_by_organization: dict[int, list[str]] = {}
    for organization_id, public_id in rows:
        ids = shares_by_organization.setdefault(organization_id, [])
        if str(public_id) not in ids:  # the join repeats a share once per endpoint
            ids.append(str(public_id))
    if not shares_by_organization:
        return []
    version = document.versions.aggregate(latest=Max("number"))["latest"]
    document_data = {"id": str(document.public_id), "status": document.status, "version": version}
    deliveries = []
    organizations = Organization.objects.in_bulk(list(shares_by_organization))
    for organization_id, share_ids in shares_by_organization.items():
        deliveries += event_publish(
            organization=organizations[organization_id],
            event_type=event_type,
            data={"document": document_data, "shares": share_ids},
        )
    return deliveries


def shares_expired_announce(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """Publish share.expired for organization shares whose expiry date has passed, once each
    even with several schedulers running: a share is announced by whoever sets its
    `expiry_announced_at` (a conditional UPDATE: on PostgreSQL the second waits for the
    first's row lock, then finds it set). Returns how many were announced."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    candidates = list(
        Share.objects.filter(
            channel=Share.Channel.ORGANIZATION,
            revoked_at__isnull=True,
            expiry_announced_at__isnull=True,
            expires_on__lt=today,
            expires_on__gte=today - EXPIRY_LOOKBACK,
        )
        .order_by("expires_on", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    announced = 0
    for share_id in candidates:
        with transaction.atomic():
            claimed = Share.objects.filter(
                pk=share_id, revoked_at__isnull=True, expiry_announced_at__isnull=True
            ).update(expiry_announced_at=now)
            if not claimed:
                continue
            share = Share.objects.select_related("recipient_organization").get(pk=share_id)
            share_event_publish(share=share, event_type=Event.SHARE_EXPIRED)
            announced += 1
    return announced


# --- sending in the background ------------------------------------------------------------


def _send_after_commit(delivery_ids: list[int]) -> None:
    transaction.on_commit(partial(_dispatch, delivery_ids))


def _dispatch(delivery_ids: list[int]) -> None:
    """Start sending DELIVERY_IDS without waiting for them. Never raises: a delivery that
    could not be handed over stays due, and the scheduler sends it."""
    mode = settings.CREDSHARE_TASKS
    try:
        if mode == "celery":
            from credshare.webhooks.tasks import deliver_webhook

            for delivery_id in delivery_ids:
                deliver_webhook.delay(delivery_id)
        elif mode == "inline":
            threading.Thread(
                target=_run_in_thread,
                args=(delivery_ids,),
                name=f"webhook-delivery-{delivery_ids[0]}",
                daemon=True,
            ).start()
        elif mode != "none":
            logger.warning("CREDSHARE_TASKS=%r is unknown: webhooks left to the scheduler", mode)
    except Exception:
        # The broker down, say: the learner's request must not fail for it.
        logger.exception("Could not start webhook deliveries %s", delivery_ids)


def _run_in_thread(delivery_ids: list[int]) -> None:
    try:
        for delivery_id in delivery_ids:
            _attempt_logged(delivery_id)
    finally:
        connection.close()


def _attempt_logged(delivery_id: int, now: datetime.datetime | None = None) -> bool:
    """delivery_attempt for background callers: True when an attempt was made; errors are
    logged (the delivery stays due or claimed, and is tried again)."""
    try:
        _delivery, attempted = _attempt(delivery_id, now=now)
    except WebhookDelivery.DoesNotExist:
        return False
    except Exception:
        logger.exception("Webhook delivery %s: attempt failed", delivery_id)
        return False
    return attempted


# --- delivery ------------------------------------------------------------------------------


def deliveries_due(*, now: datetime.datetime | None = None):
    """Pending deliveries whose next attempt may start at NOW, the longest waiting first."""
    return WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now or timezone.now()
    ).order_by("next_attempt_at", "pk")


def deliver_due(
    *,
    now: datetime.datetime | None = None,
    limit: int = 100,
    workers: int = 1,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Attempt up to LIMIT deliveries due at NOW (the present by default), once each, WORKERS
    at a time (so that one slow receiver does not hold up the others); returns how many
    attempts were made. Each attempt is timed when it starts unless NOW is given."""
    ids = list(deliveries_due(now=now).values_list("pk", flat=True)[:limit])
    if workers <= 1:
        attempted = 0
        for delivery_id in ids:
            if should_stop():
                break
            attempted += _attempt_logged(delivery_id, now)
        return attempted

    def work(delivery_id: int) -> bool:
        if should_stop():
            return False
        try:
            return _attempt_logged(delivery_id, now)
        finally:
            connection.close()  # this pool thread's own connection

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhooks") as pool:
        return sum(pool.map(work, ids))


def delivery_attempt(*, delivery_id: int, now: datetime.datetime | None = None) -> WebhookDelivery:
    """Make one attempt of a pending delivery that is due (at NOW): a POST of its payload,
    signed, recorded with the receiver's answer. A 2xx answer delivers it; anything else
    schedules the next attempt (30 s, 1 min, 2 min ... at most 6 h apart, with jitter) until
    the retry window of three days ends, when it fails. A delivery that is not due, or
    claimed by another worker, is returned as it is without a request."""
    delivery, _attempted = _attempt(delivery_id, now=now)
    return delivery


def delivery_redeliver(*, delivery: WebhookDelivery, by: User | None) -> WebhookDelivery:
    """Send a delivery's event again to its endpoint, as a new delivery of the same event id
    and payload, at once in the background (with its own retries)."""
    endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    if not endpoint.is_active:
        raise ApplicationError(
            _("This endpoint is disabled: enable it before redelivering."),
            code="webhook_endpoint_inactive",
        )
    with transaction.atomic():
        again = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            payload=delivery.payload,
            next_attempt_at=timezone.now(),
        )
        _send_after_commit([again.pk])
    return again


@dataclass
class _Outcome:
    status_code: int | None = None
    body: str = ""
    error: str = ""
    duration_ms: int = 0

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _attempt(
    delivery_id: int, *, now: datetime.datetime | None = None
) -> tuple[WebhookDelivery, bool]:
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id), False
    outcome = _send(delivery)
    return _save_outcome(delivery, outcome, started_at=now), True


def _claim(delivery_id: int, now: datetime.datetime) -> WebhookDelivery | None:
    with transaction.atomic():
        # SQLite has no row locks; its transactions start IMMEDIATE (see settings), so two
        # claims run one after the other and the second finds the delivery no longer due.
        features = connection.features
        locked = WebhookDelivery.objects.select_for_update(
            skip_locked=features.has_select_for_update_skip_locked,
            of=("self",) if features.has_select_for_update_of else (),
        )
        delivery = (
            locked.select_related("endpoint")
            .filter(
                pk=delivery_id,
                status=WebhookDelivery.Status.PENDING,
                next_attempt_at__lte=now,
            )
            .first()
        )
        if delivery is None:
            return None
        if not delivery.endpoint.is_active:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
            delivery.last_error = "The endpoint is disabled."
            delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + CLAIM
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return delivery


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed (and signed) for DELIVERY: its payload as compact UTF-8 JSON."""
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


def _send(delivery: WebhookDelivery) -> _Outcome:
    endpoint = delivery.endpoint
    body = delivery_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Credshare-Event": delivery.event_type,
        "Credshare-Delivery": str(delivery.public_id),
        # Signed at the moment of sending, so receivers can refuse old (replayed) requests.
        "Credshare-Signature": signature_header(secret=endpoint.secret, body=body),
    }
    started = time.perf_counter()
    outcome = _Outcome()
    try:
        outcome.status_code, outcome.body = _post(endpoint.url, body, headers)
    except Exception as error:
        outcome.error = _describe(error)
    outcome.duration_ms = max(0, round((time.perf_counter() - started) * 1000))
    return outcome


class RefusedAddress(Exception):
    """The endpoint's host resolved to an address credshare does not send to."""


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST BODY to URL; the status code and the start of the answer. Redirects are not
    followed (a 3xx is a failed attempt). The host is resolved here and every address it has
    checked, then the connection is made to the checked address itself, so a name that
    resolves to a private address (now, or between a check and the connection) is refused."""
    timeout = settings.CREDSHARE_WEBHOOK_TIMEOUT
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        if not address_allowed(ipaddress.ip_address(address.split("%")[0])):
            raise RefusedAddress(f"{host} resolves to {address}, which is not a public address")
    if not addresses:
        raise RefusedAddress(f"{host} has no address")

    family, _type, proto, _name, sockaddr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM, proto)
    try:
        sock.settimeout(timeout)
        sock.connect(sockaddr)
        if parts.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.sock = sock
        default_port = 443 if parts.scheme == "https" else 80
        host_header = f"[{host}]" if ":" in host else host
        if port != default_port:
            host_header += f":{port}"
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
        for name, value in {**headers, "Host": host_header, "Connection": "close"}.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        raw = response.read(RESPONSE_READ_BYTES)
        text = raw.decode("utf-8", errors="replace")[:RESPONSE_BODY_CHARS]
        return response.status, text
    finally:
        sock.close()


def _describe(error: Exception) -> str:
    """A short, one-line account of a failed request for the organization's admins."""
    if isinstance(error, TimeoutError):
        text = f"Timed out after {settings.CREDSHARE_WEBHOOK_TIMEOUT:g} s"
    else:
        try:
            detail = str(error)
        except Exception:  # an exception whose message cannot be shown still names its type
            detail = ""
        text = " ".join(f"{type(error).__name__}: {detail}".split())
    return Truncator(text).chars(WebhookAttempt._meta.get_field("error").max_length)


def _retry_delay(attempts: int) -> datetime.timedelta:
    """30 s × 2^(attempts - 1), at most 6 h, give or take 10 % so that deliveries that failed
    together (a receiver's outage) do not all come back at the same second."""
    delay = min(FIRST_RETRY * 2 ** min(attempts - 1, 16), LONGEST_RETRY)
    return delay * random.uniform(0.9, 1.1)


def _save_outcome(
    delivery: WebhookDelivery, outcome: _Outcome, *, started_at: datetime.datetime
) -> WebhookDelivery:
    if outcome.succeeded:
        changes = {
            "status": WebhookDelivery.Status.SUCCEEDED,
            "delivered_at": started_at,
            "next_attempt_at": None,
        }
    else:
        deadline = delivery.created + RETRY_WINDOW
        if started_at >= deadline:
            changes = {"status": WebhookDelivery.Status.FAILED, "next_attempt_at": None}
        else:
            next_at = min(started_at + _retry_delay(delivery.attempts), deadline)
            changes = {"status": WebhookDelivery.Status.PENDING, "next_attempt_at": next_at}
    changes["last_status_code"] = outcome.status_code
    changes["last_error"] = Truncator(outcome.error).chars(
        WebhookDelivery._meta.get_field("last_error").max_length
    )
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            started_at=started_at,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            response_body=outcome.body,
            error=outcome.error,
        )
        # Only while the claim is still this attempt's: an attempt that outlived its claim
        # (another worker has made the next one) is logged but decides nothing.
        WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(**changes)
    delivery.refresh_from_db()
    return delivery
