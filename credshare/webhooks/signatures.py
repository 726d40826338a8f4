"""The `Credshare-Signature` header of every webhook delivery (see README.md beside this file).

    Credshare-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

The timestamp is signed with the body, so a receiver that checks it is recent refuses a
captured request replayed later. `v1` may appear more than once (one per secret, should
signing ever cover two secrets at once): a receiver accepts the request if any of them
matches.
"""

import hashlib
import hmac
import time

# Seconds a receiver should accept between the signed timestamp and its own clock.
DEFAULT_TOLERANCE = 300


def signature_compute(*, secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>" with SECRET."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for BODY, signed now (or at TIMESTAMP)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature_compute(secret=secret, timestamp=timestamp, body=body)}"


def signature_verify(
    *,
    secret: str,
    header: str,
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """Whether HEADER signs BODY with SECRET at a timestamp within TOLERANCE seconds of now.
    What a receiver does; credshare uses it in its own tests and docs."""
    timestamp = None
    signatures = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature_compute(secret=secret, timestamp=timestamp, body=body)
    return any(hmac.compare_digest(expected, signature) for signature in signatures)
