from django.conf import settings
from django.utils import translation


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
