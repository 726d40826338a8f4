from django.contrib.auth import views as auth_views

from credshare.core.views import remember_language


class LoginView(auth_views.LoginView):
    """Django's sign-in, which also switches to the language saved on the account."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        remember_language(response, form.get_user().language)
        return response
