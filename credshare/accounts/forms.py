from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.mfa.base.forms import AuthenticateForm as AllauthMfaAuthenticateForm
from allauth.mfa.base.forms import ReauthenticateForm as AllauthMfaReauthenticateForm
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from credshare.accounts import throttle
from credshare.accounts.selectors import user_holds_power
from credshare.core.text import CleanTextFormMixin


class LoginForm(AllauthLoginForm):
    """allauth's sign-in, its address field named as everywhere else on credshare."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"] = forms.EmailField(
            label=_("Email address"),
            widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        )
        self.order_fields(["login", "password", "remember"])
        if "remember" in self.fields:
            self.fields["remember"].help_text = _(
                "Not for staff accounts: their sessions end after %(minutes)s minutes without "
                "activity."
            ) % {"minutes": settings.CREDSHARE_STAFF_SESSION_IDLE_MINUTES}

    def login(self, request, redirect_url=None):
        response = super().login(request, redirect_url=redirect_url)
        # allauth sets the session's lifetime from "Remember me" after signing in (or before
        # the code step): an account with power is never remembered.
        if getattr(self, "user", None) is not None and user_holds_power(user=self.user):
            request.session.set_expiry(0)
        return response


class SignupForm(CleanTextFormMixin, AllauthSignupForm):
    """allauth's sign-up (email, password twice) plus the name printed on documents."""

    full_name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        help_text=_("As on your official documents."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    field_order = ["full_name", "email", "password1", "password2"]


class SecondFactorThrottled:
    """A second-factor code form whose code is checked only once the account's throttle slot
    is taken (throttle.py): codes are limited per account, whatever the addresses they come
    from, besides allauth's limit per address."""

    def clean_code(self) -> str:
        buckets = throttle.second_factor_buckets(user_pk=self.user.pk)
        try:
            reservation = throttle.attempt_reserve(buckets)
        except throttle.MustWait as wait:
            raise forms.ValidationError(wait.message(), code="too_many_attempts") from None
        code = super().clean_code()  # raises when the code is wrong: the slot stays taken
        throttle.attempt_succeeded(reservation)
        return code


class MfaAuthenticateForm(SecondFactorThrottled, AllauthMfaAuthenticateForm):
    """The code asked at sign-in."""


class MfaReauthenticateForm(SecondFactorThrottled, AllauthMfaReauthenticateForm):
    """The code asked again in a signed-in session."""
