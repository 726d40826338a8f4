from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator

from credshare.accounts.models import User


def user_with_email(email: str) -> User | None:
    """The account with this address, however it is capitalized: its sign-in address or any
    of its verified addresses. Addresses are stored lowercased, so these are exact matches on
    indexes (no full scan for UPPER()); the second query only for an address that is
    no account's sign-in address."""
    email = email.strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        address = (
            EmailAddress.objects.filter(email=email, verified=True).select_related("user").first()
        )
        user = address.user if address is not None else None
    return user


def user_has_authenticator(*, user: User) -> bool:
    """Whether USER can give a second factor: an authenticator app or a security key
    (recovery codes alone are no authenticator)."""
    return Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


def user_holds_power(*, user: User, organizations: list | None = None) -> bool:
    """Whether USER may act for anyone but themselves: platform staff or superusers (the
    admin), or a member of any organization, whatever the role. ORGANIZATIONS: the user's
    organizations when already read (the header's query), else one query."""
    if user.is_staff or user.is_superuser:
        return True
    if organizations is not None:
        return bool(organizations)
    from credshare.network.models import Membership

    return Membership.objects.filter(user=user).exists()


def invitation_by_token_or_none(*, token: str):
    """The invitation whose link carries TOKEN, whatever became of it (its page says why a
    used, declined, withdrawn or expired one no longer works); None for any other token."""
    from credshare.accounts.models import Invitation
    from credshare.accounts.services import invitation_token_hash

    return (
        Invitation.objects.select_related("invited_by_org")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )
