from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credshare.core.security import safe_next_url
from credshare.sharing.selectors import organizations_staffed_by


def home(request: HttpRequest) -> HttpResponse:
    """Signed-in people land where their work is: learners on their documents, receiving
    organization staff without documents on their inbox."""
    if not request.user.is_authenticated:
        return render(request, "core/home.html")
    user = request.user
    if not user.documents.exists() and organizations_staffed_by(user=user).exists():
        return redirect("inbox:list")
    return redirect("documents:list")


def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "core/help.html", {"support_email": settings.SUPPORT_EMAIL})


def terms(request: HttpRequest) -> HttpResponse:
    return render(request, "core/terms.html")


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "core/privacy.html", {"support_email": settings.SUPPORT_EMAIL})


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Switch between French and English, remembered in a cookie and on the account."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest(_("Unknown language."))
    next_url = safe_next_url(request, request.POST.get("next"))
    if request.user.is_authenticated and request.user.language != language:
        request.user.language = language
        request.user.save(update_fields=["language"])
    response = redirect(next_url)
    remember_language(response, language)
    return response


def remember_language(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.SESSION_COOKIE_SECURE,
    )


def gone(request: HttpRequest, *, state: str) -> HttpResponse:
    """The page a recipient gets for a share that expired or was revoked: nothing served."""
    return render(request, "core/gone.html", {"state": state}, status=410)
