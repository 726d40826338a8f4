"""Sign-in and two-factor events, which Django and allauth announce by signal rather than
through one of our services. Connected in AuditConfig.ready."""

from credshare.audit.models import Event
from credshare.audit.services import audit_record


def _organizations_of(user) -> list[int]:
    """The organizations USER is a member of: their administrators see the member's
    sign-ins and two-factor changes."""
    from credshare.network.models import Membership

    return list(Membership.objects.filter(user=user).values_list("organization_id", flat=True))


def signed_in(sender, request, user, **kwargs) -> None:
    audit_record(
        event=Event.SIGNED_IN,
        target=user,
        actor=user,
        organizations=_organizations_of(user),
        request=request,
    )


def sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    """A failed password sign-in. The account tried is named only when it exists, and the
    typed text never is: a password typed into the email box must not end up in the log."""
    from credshare.accounts.selectors import user_with_email

    typed = next(
        (credentials.get(name) for name in ("email", "username", "login") if credentials.get(name)),
        "",
    )
    user = user_with_email(typed) if isinstance(typed, str) and "@" in typed else None
    audit_record(
        event=Event.SIGN_IN_FAILED,
        target=user,
        organizations=_organizations_of(user) if user is not None else (),
        details={"step": "password", "account_known": user is not None},
        request=request,
    )


def _mfa(event: str, *, request, user, authenticator, details: dict | None = None) -> None:
    audit_record(
        event=event,
        target=user,
        organizations=_organizations_of(user),
        details={"method": authenticator.type, **(details or {})},
        request=request,
    )


def mfa_added(sender, request, user, authenticator, **kwargs) -> None:
    _mfa(Event.MFA_ADDED, request=request, user=user, authenticator=authenticator)


def mfa_removed(sender, request, user, authenticator, **kwargs) -> None:
    _mfa(Event.MFA_REMOVED, request=request, user=user, authenticator=authenticator)


def mfa_reset(sender, request, user, authenticator, **kwargs) -> None:
    _mfa(Event.MFA_RESET, request=request, user=user, authenticator=authenticator)


def mfa_failed(sender, request, user, authenticator, **kwargs) -> None:
    """A wrong two-factor code, at sign-in or when confirming one's identity again."""
    _mfa(
        Event.SIGN_IN_FAILED,
        request=request,
        user=user,
        authenticator=authenticator,
        details={"step": "two_factor"},
    )
