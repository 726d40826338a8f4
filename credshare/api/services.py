"""API keys: made, revoked, and checked on every request."""

import datetime
import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from credshare.api.models import ApiKey
from credshare.core.errors import ApplicationError

KEY_PREFIX = "csk"
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, organization, name: str, scopes: list[str], by) -> tuple[ApiKey, str]:
    """A new key and its full text, which is shown once and never again."""
    from django.utils.translation import gettext as _

    allowed = set(ApiKey.RECEIVING_SCOPES if organization.is_receiver else ()) | set(
        ApiKey.ISSUING_SCOPES if organization.is_issuer else ()
    )
    scopes = sorted(set(scopes))
    if not scopes:
        raise ApplicationError(_("Choose at least one permission."), code="no_scope")
    if not set(scopes) <= allowed:
        raise ApplicationError(
            _("This organization cannot grant that permission."), code="scope_not_allowed"
        )
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        organization=organization,
        name=name.strip()[:100],
        prefix=prefix,
        secret_hash=_secret_hash(secret),
        scopes=scopes,
        created_by=by,
    )
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


def api_key_revoke(*, key: ApiKey, by) -> ApiKey:
    """Revoke a key: its next request fails."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_authenticate(text: str) -> ApiKey | None:
    """The active key that TEXT is, or None. Compares hashes in constant time."""
    parts = text.split("_", 2) if isinstance(text, str) else []
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = (
        ApiKey.objects.select_related("organization")
        .filter(prefix=parts[1], revoked_at__isnull=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.secret_hash, _secret_hash(parts[2])):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
