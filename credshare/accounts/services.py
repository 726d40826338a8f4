"""Writes of the accounts app: invitations (an emailed link that proves an address, which
only that address can take up)."""

import datetime
import hashlib
import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credshare.accounts.models import Invitation, User
from credshare.accounts.selectors import user_with_email
from credshare.accounts.signals import invitation_accepted, invitation_declined
from credshare.core.errors import ApplicationError
from credshare.notifications.services import email_queue

INVITATION_LIFETIME = datetime.timedelta(days=30)


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_send(
    *,
    email: str,
    purpose: str,
    invited_by_org=None,
    invited_by: User | None = None,
    role: str = "",
    language: str | None = None,
    lifetime: datetime.timedelta = INVITATION_LIFETIME,
) -> Invitation:
    """Email EMAIL an invitation link for PURPOSE (Invitation.Purpose), from INVITED_BY_ORG
    (and its member INVITED_BY) when an organization sends it, offering ROLE for an
    invitation to join it. The email is in the address's account's language, else in
    LANGUAGE, else the current one. Only EMAIL can take it up (invitation_accept, and the
    sign-up from its link). In the caller's transaction; the email goes after it commits."""
    if purpose not in Invitation.Purpose.values:
        raise ValueError(f"Unknown invitation purpose: {purpose!r}")
    email = email.strip().lower()
    token = secrets.token_urlsafe(32)
    account = user_with_email(email)
    if account is not None or language is None:
        from credshare.accounts.adapter import language_for

        language = language_for(email, account)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email,
            purpose=purpose,
            invited_by_org=invited_by_org,
            invited_by=invited_by,
            role=role,
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


def _invitation_check_open(invitation: Invitation) -> None:
    """Refuse an answer to an invitation that is no longer open, saying why."""
    status = invitation.status
    if status == Invitation.Status.OPEN:
        return
    messages = {
        Invitation.Status.ACCEPTED: _("This invitation was already used: it works once."),
        Invitation.Status.DECLINED: _("This invitation was declined: it no longer works."),
        Invitation.Status.REVOKED: _("This invitation was withdrawn by whoever sent it."),
        Invitation.Status.EXPIRED: _(
            "This invitation has expired. Ask whoever sent it for a new one."
        ),
    }
    raise ApplicationError(messages[status], code=f"invitation_{status}")


def invitation_is_for(*, invitation: Invitation, user: User) -> bool:
    """Whether USER's account holds the address INVITATION was sent to: its sign-in address
    or one of its verified addresses. An unverified address proves nothing (anyone can add
    any address to their account), so it does not count."""
    return user_with_email(invitation.email) == user


def invitation_check_addressee(*, invitation: Invitation, user: User) -> None:
    """Refuse (ApplicationError) USER's answer to INVITATION unless the invitation is for
    their account's address: what the pages show to anyone signed in with another one."""
    if not invitation_is_for(invitation=invitation, user=user):
        raise ApplicationError(
            _(
                "This invitation was sent to %(email)s, not to the address of the account you "
                "are signed in with (%(current)s). Nothing was changed. Sign out, then sign in "
                "or open an account with %(email)s to answer it."
            )
            % {"email": invitation.email, "current": user.email},
            code="invitation_other_address",
        )


def _invitation_locked(invitation: Invitation) -> Invitation:
    """INVITATION as it is now, its row locked: of two answers at once, the second finds the
    first one's."""
    return (
        Invitation.objects.select_related("invited_by_org")
        .select_for_update(of=("self",))  # not the organization's (an outer join: no lock)
        .get(pk=invitation.pk)
    )


def invitation_accept(*, invitation: Invitation, user: User) -> Invitation:
    """USER accepts INVITATION: only while it is open, and only when USER's account holds
    the invited address (raises ApplicationError otherwise, changing nothing). The address
    is then verified on the account (following the emailed link proved it), what waits for
    it is settled (documents issued to it), and the higher apps act on the purpose (an
    invitation to join an organization makes USER a member: invitation_accepted)."""
    with transaction.atomic():
        invitation = _invitation_locked(invitation)
        _invitation_check_open(invitation)
        invitation_check_addressee(invitation=invitation, user=user)
        address, _created = EmailAddress.objects.get_or_create(
            user=user, email=invitation.email, defaults={"verified": True}
        )
        if not address.verified:
            address.verified = True
            address.save(update_fields=["verified"])
        invitation_mark_accepted(invitation=invitation, user=user)
        invitation_accepted.send(sender=Invitation, invitation=invitation, user=user)
        email_address_verified(address=address)
    return invitation


def invitation_decline(*, invitation: Invitation, user: User | None) -> Invitation:
    """INVITATION's addressee declines it: from its link signed out (the link is all they
    have when they have no account), or signed in with the invited address; someone signed
    in with another account cannot (ApplicationError, nothing changes)."""
    with transaction.atomic():
        invitation = _invitation_locked(invitation)
        _invitation_check_open(invitation)
        if user is not None:
            invitation_check_addressee(invitation=invitation, user=user)
        invitation.declined_at = timezone.now()
        invitation.save(update_fields=["declined_at"])
        invitation_declined.send(sender=Invitation, invitation=invitation, user=user)
    return invitation


def invitation_revoke(*, invitation: Invitation) -> Invitation:
    """Withdraw INVITATION while it is open (ApplicationError otherwise): its link stops
    working. The caller checks who may, and records it."""
    with transaction.atomic():
        invitation = _invitation_locked(invitation)
        _invitation_check_open(invitation)
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


def invitation_mark_accepted(*, invitation: Invitation, user: User) -> None:
    if invitation.accepted_at is None:
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])


def invitations_accept_for_address(*, email: str, user: User) -> int:
    """Mark the open invitations to EMAIL accepted by USER, whose account now has the address
    verified (a sign-up, a confirmation link); returns how many. Not the invitations to join
    an organization: proving an address is not consenting to join one, which only accepting
    that invitation does."""
    return (
        Invitation.objects.filter(
            email=email.strip().lower(),
            accepted_at=None,
            declined_at=None,
            revoked_at=None,
            expires_at__gt=timezone.now(),
        )
        .exclude(purpose=Invitation.Purpose.JOIN_ORGANIZATION)
        .update(accepted_at=timezone.now(), accepted_by=user)
    )


def email_address_verified(*, address: EmailAddress) -> None:
    """ADDRESS was just verified on its account (sign-up, a confirmation link, an
    invitation): its open invitations are settled, and the documents issued to it while it
    had no account move into the account."""
    from credshare.documents.services import documents_claim

    with transaction.atomic():
        invitations_accept_for_address(email=address.email, user=address.user)
        documents_claim(user=address.user, email=address.email)
