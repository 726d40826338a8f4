"""credshare's adapter for django-allauth: emails through the outbox in the reader's language
with links on CREDSHARE_BASE_URL, the sign-in throttling by account and source (throttle.py)
and the device cookie (devices.py), the client's address behind our proxies, the account's
language at sign-in, and the name (and interface language) a sign-up saves."""

from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import translation

from credshare.accounts import devices, throttle
from credshare.accounts.models import User
from credshare.accounts.selectors import user_with_email
from credshare.core.client_address import client_address
from credshare.core.views import remember_language
from credshare.notifications.services import email_queue

# Renders allauth's own subject and message templates (and so its French catalog) inside the
# outbox's email, which wants <name>_subject.txt and <name>.txt.
ALLAUTH_EMAIL_TEMPLATE = "accounts/email/allauth"


def on_base_url(url: str) -> str:
    """URL with the scheme and host of CREDSHARE_BASE_URL: allauth builds its links on the
    request's host, which behind a proxy (or from a command) is not the public address."""
    parts = urlsplit(url)
    return settings.CREDSHARE_BASE_URL.rstrip("/") + urlunsplit(
        ("", "", parts.path, parts.query, parts.fragment)
    )


def language_for(email: str, user=None) -> str:
    """The language an email to EMAIL is written in: its account's, else the page's (an
    address with no account, e.g. a password reset asked for an unknown address)."""
    if user is None or not getattr(user, "pk", None):
        user = user_with_email(email)
    if user is not None and user.language in dict(settings.LANGUAGES):
        return user.language
    return translation.get_language() or settings.LANGUAGE_CODE


def normalized(email: str) -> str:
    return (email or "").strip().lower()[:254]


def account_of(email: str) -> tuple[str, User | None]:
    """The account a sign-in at EMAIL tries, as the throttle names it, and its user: whichever
    of its addresses is typed, one account; an address no account has, by itself."""
    user = user_with_email(normalized(email))
    return (f"user:{user.pk}" if user is not None else f"email:{normalized(email)}"), user


def password_buckets_of(request, email: str) -> list[throttle.Bucket]:
    account, user = account_of(email)
    device = devices.device_of(request, user_pk=user.pk) if user is not None else None
    return throttle.password_buckets(
        account=account, address=client_address(request), device=device
    )


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        values = {
            key: on_base_url(value) if key.endswith("_url") and isinstance(value, str) else value
            for key, value in context.items()
            if key != "request"
        }
        values.update(
            email=email,
            current_site=SimpleNamespace(
                name="credshare", domain=urlsplit(settings.CREDSHARE_BASE_URL).netloc
            ),
            subject_template=f"{template_prefix}_subject.txt",
            message_template=f"{template_prefix}_message.txt",
        )
        email_queue(
            to=email,
            template=ALLAUTH_EMAIL_TEMPLATE,
            context=values,
            language=language_for(email, context.get("user")),
        )

    def save_user(self, request, user, form, commit=True):
        user.full_name = form.cleaned_data.get("full_name", "").strip()
        # A new account reads the language its sign-up page was shown in.
        language = translation.get_language()
        if language in dict(settings.LANGUAGES):
            user.language = language
        return super().save_user(request, user, form, commit=commit)

    def pre_authenticate(self, request, **credentials) -> None:
        super().pre_authenticate(request, **credentials)  # allauth's per-address limit
        email = credentials.get("email", "")
        if not email:
            return
        try:
            self._credshare_reservation = throttle.attempt_reserve(
                password_buckets_of(request, email)
            )
        except throttle.MustWait as wait:
            raise forms.ValidationError(wait.message(), code="too_many_login_attempts") from None

    def authenticate(self, request, **credentials):
        self._credshare_reservation = None
        user = super().authenticate(request, **credentials)
        if user is not None and self._credshare_reservation is not None:
            throttle.attempt_succeeded(self._credshare_reservation)
        return user

    def post_login(self, request, user, **kwargs):
        response = super().post_login(request, user, **kwargs)
        if user.language in dict(settings.LANGUAGES):
            remember_language(response, user.language)
        # A complete sign-in (password and second factor): this browser is now one the
        # account knows, throttled apart from the others.
        devices.device_remember(request, response, user_pk=user.pk)
        return response

    def _delete_login_attempts_cached_email(self, request, **credentials) -> None:
        # Called for each of the account's addresses once its password was reset by email.
        super()._delete_login_attempts_cached_email(request, **credentials)
        email = credentials.get("email", "")
        for account in {account_of(email)[0], f"email:{normalized(email)}"}:
            throttle.password_failures_forget(account=account)

    def get_client_ip(self, request) -> str:
        # Every rate limit of allauth's counts per this address: behind our proxies, the
        # client's, not the proxy's (which would make a per-address limit a site-wide one).
        address = client_address(request)
        if not address:
            raise PermissionDenied("The client's address cannot be told.")
        return address
