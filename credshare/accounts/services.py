"""Writes of the accounts app: invitations (an emailed link that proves an address)."""

import datetime
import hashlib
import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credshare.accounts.models import Invitation, User
from credshare.accounts.selectors import user_with_email
from credshare.notifications.services import email_queue

INVITATION_LIFETIME = datetime.timedelta(days=30)


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_send(
    *,
    email: str,
    purpose: str,
    invited_by_org=None,
    language: str | None = None,
    lifetime: datetime.timedelta = INVITATION_LIFETIME,
) -> Invitation:
    """Email EMAIL an invitation link for PURPOSE (Invitation.Purpose), from INVITED_BY_ORG
    when an organization sends it, in LANGUAGE (by default the address's account's, else the
    current one). Following the link verifies the address: an account opened from it has the
    address verified, and a signed-in person who follows it adds the address, verified, to
    their account. In the caller's transaction; the email goes after it commits."""
    if purpose not in Invitation.Purpose.values:
        raise ValueError(f"Unknown invitation purpose: {purpose!r}")
    email = email.strip().lower()
    token = secrets.token_urlsafe(32)
    account = user_with_email(email)
    if language is None:
        from credshare.accounts.adapter import language_for

        language = language_for(email, account)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email,
            purpose=purpose,
            invited_by_org=invited_by_org,
            token_hash=invitation_token_hash(token),
            expires_at=timezone.now() + lifetime,
        )
        email_queue(
            to=email,
            template=f"accounts/email/invitation_{purpose}",
            context={
                "organization_name": invited_by_org.name if invited_by_org else "",
                "link": settings.CREDSHARE_BASE_URL.rstrip("/")
                + reverse("accounts:invitation", args=[token]),
                "email": email,
                "has_account": account is not None,
                "expires_at": invitation.expires_at,
            },
            language=language,
        )
    return invitation


def invitation_accept(*, invitation: Invitation, user: User) -> EmailAddress:
    """USER followed INVITATION's link while signed in: the invited address becomes one of
    their verified addresses. Raises ValidationError when another account holds it."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        holder = user_with_email(invitation.email)
        if holder is not None and holder.pk != user.pk:
            raise ValidationError(
                _(
                    "This invitation is for %(email)s, the address of another account. Sign "
                    "out, then sign in with that address."
                )
                % {"email": invitation.email}
            )
        address, _created = EmailAddress.objects.get_or_create(
            user=user, email=invitation.email, defaults={"verified": True}
        )
        if not address.verified:
            address.verified = True
            address.save(update_fields=["verified"])
        invitation_mark_accepted(invitation=invitation, user=user)
    email_address_verified(address=address)
    return address


def invitation_mark_accepted(*, invitation: Invitation, user: User) -> None:
    if invitation.accepted_at is None:
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])


def invitations_accept_for_address(*, email: str, user: User) -> int:
    """Mark the open invitations to EMAIL accepted by USER, whose account now has the address
    verified (a sign-up from the link, or a later verification); returns how many."""
    return Invitation.objects.filter(email=email.strip().lower(), accepted_at=None).update(
        accepted_at=timezone.now(), accepted_by=user
    )


def email_address_verified(*, address: EmailAddress) -> None:
    """ADDRESS was just verified on its account (sign-up, a confirmation link, an
    invitation): its open invitations are settled, and the documents issued to it while it
    had no account move into the account."""
    from credshare.documents.services import documents_claim

    with transaction.atomic():
        invitations_accept_for_address(email=address.email, user=address.user)
        documents_claim(user=address.user, email=address.email)
