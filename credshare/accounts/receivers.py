"""Hooks into allauth and django.contrib.auth; they only call services or session helpers.

Whether the session completed its second factor (mfa_session, read by
middleware.StaffMfaRequiredMiddleware) is settled at every sign-in (allauth's and force_login
alike), when a code is given again, and when an authenticator is added or removed in the
session. A newly verified address settles what waits for it (services.email_address_verified).
"""

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed, user_signed_up
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_used
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from credshare.accounts import mfa_session, staff_sessions
from credshare.accounts.selectors import user_has_authenticator
from credshare.accounts.services import email_address_verified

SECOND_FACTORS = {Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN}


def _session_of(request):
    return getattr(request, "session", None) if request is not None else None


@receiver(user_logged_in, dispatch_uid="credshare_mfa_at_sign_in")
def _session_at_sign_in(sender, request, user, **kwargs):
    session = _session_of(request)
    if session is None:
        return
    # allauth signs in an account with an authenticator only after its code (its MFA stage);
    # one without has signed in with its password alone.
    if user_has_authenticator(user=user):
        mfa_session.mark(session)
    else:
        mfa_session.forget(session)
    staff_sessions.signed_in(session, user)


@receiver(authenticator_used, dispatch_uid="credshare_mfa_code_given")
def _mfa_code_given(sender, request, user, authenticator, **kwargs):
    # A code from the app, a security key or a recovery code, given in this session.
    session = _session_of(request)
    if session is not None:
        mfa_session.mark(session)


@receiver(authenticator_added, dispatch_uid="credshare_mfa_set_up")
def _mfa_set_up(sender, request, user, authenticator, **kwargs):
    # Setting up an app or a key takes a code from it (or its signature) in this session.
    session = _session_of(request)
    if session is not None and authenticator.type in SECOND_FACTORS:
        mfa_session.mark(session)


@receiver(authenticator_removed, dispatch_uid="credshare_mfa_removed")
def _mfa_removed(sender, request, user, **kwargs):
    session = _session_of(request)
    if session is not None and not user_has_authenticator(user=user):
        mfa_session.forget(session)


@receiver(email_confirmed, dispatch_uid="credshare_address_confirmed")
def _address_confirmed(sender, request, email_address, **kwargs):
    email_address_verified(address=email_address)


@receiver(user_signed_up, dispatch_uid="credshare_signed_up")
def _signed_up(sender, request, user, **kwargs):
    # An address proved by an invitation's link is verified at sign-up, with no confirmation.
    for address in EmailAddress.objects.filter(user=user, verified=True):
        email_address_verified(address=address)
