from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from credshare.accounts import mfa_session, staff_sessions
from credshare.accounts.selectors import user_has_authenticator


class UserLanguageMiddleware:
    """A signed-in person without a language cookie (a new browser) gets the language saved on
    their account; the cookie, set by the header switch, wins when present."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
            and user.language in dict(settings.LANGUAGES)
        ):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


# The pages a session of an account with power may reach before its second factor: signing
# out and the language; then, for an account without an authenticator, setting one up (and
# the password check allauth asks first); for one with an authenticator, giving its code and
# nothing else (not its MFA page, from where a password-only session could remove the
# authenticator and set up its own). Top-level names only: the admin's "admin:mfa_…" pages
# manage everyone's authenticators.
ALWAYS_REACHABLE = {"account_logout", "logout", "language_switch"}
MFA_SETUP_PAGES = ALWAYS_REACHABLE | {
    "mfa_index",
    "mfa_activate_totp",
    "mfa_add_webauthn",
    "account_reauthenticate",
}
MFA_CODE_PAGES = ALWAYS_REACHABLE | {"mfa_reauthenticate", "mfa_reauthenticate_webauthn"}
# The API authenticates every request by its key, never by the session: a browser's session
# cookie gives it nothing, so it is not this middleware's to stop.
KEY_AUTHENTICATED_NAMESPACES = {"api"}


class StaffMfaRequiredMiddleware:
    """Every account with power (platform staff and superusers, organization members of any
    role) completes its second factor in this session before any other page or action:
    without an authenticator it is sent to set one up; with one, to give its code. Learners
    may choose. A session that completed MFA (credshare.accounts.mfa_session) costs nothing
    here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if not (user and user.is_authenticated):
            return None
        if mfa_session.completed(request.session):
            return None
        match = request.resolver_match
        if match.namespace in KEY_AUTHENTICATED_NAMESPACES:
            return None
        # Power read on every such request: gained after signing in, it counts at once.
        if not staff_sessions.request_user_holds_power(request):
            return None
        has_authenticator = user_has_authenticator(user=user)
        reachable = MFA_CODE_PAGES if has_authenticator else MFA_SETUP_PAGES
        if not match.namespace and match.url_name in reachable:
            return None
        if has_authenticator:
            messages.warning(
                request,
                _(
                    "Enter a code from your authenticator app (or use your security key) "
                    "to continue: staff accounts need their second factor in every session."
                ),
            )
            next_url = request.get_full_path() if request.method == "GET" else ""
            target = redirect("mfa_reauthenticate")
            if next_url:
                target["Location"] += "?" + urlencode({"next": next_url})
            return target
        messages.warning(
            request,
            _(
                "Staff of an organization must protect their account with two-factor "
                "authentication. Set up an authenticator app or a security key to continue."
            ),
        )
        return redirect("mfa_index")


class StaffSessionLimitsMiddleware:
    """A session of an account with power ends after a while without requests and some hours
    after its sign-in (staff_sessions.py): the next request signs it out and leads to the
    sign-in page, saying why. Learners' sessions are not concerned."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if not (user and user.is_authenticated):
            return None
        if request.resolver_match.namespace in KEY_AUTHENTICATED_NAMESPACES:
            return None
        if not staff_sessions.holds_power(request):
            return None
        limit = staff_sessions.over_limit(request)
        if limit is None:
            return None
        logout(request)
        if limit == "idle":
            message = _(
                "You were signed out after %(minutes)s minutes without activity, as staff "
                "accounts are. Sign in again to continue."
            ) % {"minutes": settings.CREDSHARE_STAFF_SESSION_IDLE_MINUTES}
        else:
            message = _(
                "You were signed out: a staff account's session lasts at most %(hours)s "
                "hours. Sign in again to continue."
            ) % {"hours": settings.CREDSHARE_STAFF_SESSION_MAX_HOURS}
        messages.info(request, message)
        return redirect_to_login(request.get_full_path() if request.method == "GET" else "/")
