"""The client's address, the one place every part of credshare reads it from: sign-in
throttling and allauth's rate limits (accounts), the API's limits, the audit log.

Without a proxy (CREDSHARE_TRUSTED_PROXY_COUNT = 0) it is the connection's address,
REMOTE_ADDR; X-Forwarded-For is then anyone's to write and is ignored. Behind N proxies of
ours, each appending the address it received the request from to X-Forwarded-For (nginx's
$proxy_add_x_forwarded_for, a load balancer's default), the Nth entry from the right was
written by the outermost proxy of ours: the client as that proxy saw it. Entries further left
are the client's own (spoofable) claims and are never read. A chain shorter than N (a request
that reached an inner proxy directly) gives its leftmost entry, which one of ours wrote."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _ip_or_empty(text: str) -> str:
    """TEXT as a normalized IP address ("203.0.113.9", "2001:db8::1"), a port or IPv6
    brackets stripped; "" when it is not one."""
    text = text.strip()
    if text.startswith("["):  # [2001:db8::1]:443
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # 203.0.113.9:443
        text = text.partition(":")[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return ""


def client_address(request: HttpRequest) -> str:
    """The IP address of the client that sent REQUEST, or "" when none can be told."""
    connection = _ip_or_empty(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.CREDSHARE_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return connection
    entries = [e for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()]
    if not entries:
        return connection
    written_by_our_outermost_proxy = entries[-proxies] if len(entries) >= proxies else entries[0]
    # Garbage there means a proxy of ours is misconfigured: count the connection instead.
    return _ip_or_empty(written_by_our_outermost_proxy) or connection
