import time

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _

from credshare.accounts.selectors import user_must_enrol_mfa


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


# The pages a staff member without an authenticator may still reach: setting one up (allauth's
# mfa_* pages, and the password check its activation asks for), signing out, the language.
MFA_SETUP_URL_NAMES = {"account_reauthenticate", "account_logout", "logout", "language_switch"}
# A "not required" verdict is kept in the session, so a page costs no query for it; it is
# taken again at sign-in, when an authenticator is removed, and at the latest after this many
# seconds (someone made a member while signed in).
MFA_VERDICT_SESSION_KEY = "credshare_mfa_setup_required"
MFA_VERDICT_SECONDS = 300


def mfa_verdict_refresh(*, session, user) -> bool:
    """Take (and keep in SESSION) whether USER, signed in there, must enrol MFA now."""
    required = user_must_enrol_mfa(user=user)
    session[MFA_VERDICT_SESSION_KEY] = [required, int(time.time())]
    return required


class StaffMfaRequiredMiddleware:
    """Staff (a Membership in any organization) must have an authenticator: until they set
    one up, every page sends them to the MFA page. Learners may choose."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if not (user and user.is_authenticated):
            return None
        url_name = request.resolver_match.url_name or ""
        if url_name.startswith("mfa_") or url_name in MFA_SETUP_URL_NAMES:
            return None
        verdict = request.session.get(MFA_VERDICT_SESSION_KEY)
        if verdict and not verdict[0] and time.time() - verdict[1] < MFA_VERDICT_SECONDS:
            return None
        # Not known, stale, or "required": look again (an authenticator may just have been
        # added), a query that only people about to be sent to the MFA page pay for.
        if not mfa_verdict_refresh(session=request.session, user=user):
            return None
        messages.warning(
            request,
            _(
                "Staff of an organization must protect their account with two-factor "
                "authentication. Set up an authenticator app or a security key to continue."
            ),
        )
        return redirect("mfa_index")
