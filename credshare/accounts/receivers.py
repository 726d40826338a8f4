"""Hooks into allauth and django.contrib.auth; they only call services or session helpers.

The session's MFA verdict (middleware.StaffMfaRequiredMiddleware) is taken at every sign-in
(allauth's and force_login alike) and when an authenticator is removed in this session.
A newly verified address settles what waits for it (services.email_address_verified).
"""

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed, user_signed_up
from allauth.mfa.signals import authenticator_removed
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from credshare.accounts.middleware import mfa_verdict_refresh
from credshare.accounts.services import email_address_verified


@receiver(user_logged_in, dispatch_uid="credshare_mfa_verdict_at_sign_in")
def _take_mfa_verdict_at_sign_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        mfa_verdict_refresh(session=request.session, user=user)


@receiver(authenticator_removed, dispatch_uid="credshare_mfa_verdict_removed")
def _take_mfa_verdict_again(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        mfa_verdict_refresh(session=request.session, user=user)


@receiver(email_confirmed, dispatch_uid="credshare_address_confirmed")
def _address_confirmed(sender, request, email_address, **kwargs):
    email_address_verified(address=email_address)


@receiver(user_signed_up, dispatch_uid="credshare_signed_up")
def _signed_up(sender, request, user, **kwargs):
    # An address proved by an invitation's link is verified at sign-up, with no confirmation.
    for address in EmailAddress.objects.filter(user=user, verified=True):
        email_address_verified(address=address)
