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


# Pages a session may reach before its second factor: allauth's own MFA pages (top-level
# names "mfa_…": setting one up, giving a code; not the admin's "admin:mfa_…" pages, which
# manage everyone's authenticators), the password check allauth asks before activating one,
# signing out, the language.
MFA_PENDING_URL_NAMES = {"account_reauthenticate", "account_logout", "logout", "language_switch"}
# The API authenticates every request by its key, never by the session: a browser's session
# cookie gives it nothing, so it is not this middleware's to stop.
KEY_AUTHENTICATED_NAMESPACES = {"api"}


def may_be_reached_before_mfa(match) -> bool:
    if match.namespace in KEY_AUTHENTICATED_NAMESPACES:
        return True
    if match.namespace:
        return False
    name = match.url_name or ""
    return name.startswith("mfa_") or name in MFA_PENDING_URL_NAMES


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
        if may_be_reached_before_mfa(request.resolver_match):
            return None
        # Power read on every such request: gained after signing in, it counts at once.
        if not staff_sessions.request_user_holds_power(request):
            return None
        if user_has_authenticator(user=user):
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
