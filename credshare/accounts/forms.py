from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.utils.translation import gettext_lazy as _

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


class SignupForm(CleanTextFormMixin, AllauthSignupForm):
    """allauth's sign-up (email, password twice) plus the name printed on documents."""

    full_name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        help_text=_("As on your official documents."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    field_order = ["full_name", "email", "password1", "password2"]
