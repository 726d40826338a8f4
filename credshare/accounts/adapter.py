"""credshare's adapter for django-allauth: emails through the outbox in the reader's language
with links on CREDSHARE_BASE_URL, the atomic sign-in lockout, the account's language at
sign-in, and the name (and interface language) a sign-up saves."""

from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import translation

from credshare.accounts import lockout
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

    def post_login(self, request, user, **kwargs):
        response = super().post_login(request, user, **kwargs)
        if user.language in dict(settings.LANGUAGES):
            remember_language(response, user.language)
        return response

    def pre_authenticate(self, request, **credentials) -> None:
        super().pre_authenticate(request, **credentials)
        email = credentials.get("email", "")
        if email and not lockout.sign_in_attempt_reserve(email=email):
            raise self.validation_error("too_many_login_attempts")

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None and credentials.get("email"):
            lockout.sign_in_attempt_succeeded(email=credentials["email"])
        return user

    def get_client_ip(self, request) -> str:
        # Every rate limit of allauth's counts per this address: behind our proxies, the
        # client's, not the proxy's (which would make a per-address limit a site-wide one).
        address = client_address(request)
        if not address:
            raise PermissionDenied("The client's address cannot be told.")
        return address

    def _delete_login_attempts_cached_email(self, request, **credentials) -> None:
        # Called for each of the account's addresses once its password was reset by email.
        super()._delete_login_attempts_cached_email(request, **credentials)
        lockout.sign_in_lockout_clear(email=credentials.get("email", ""))
