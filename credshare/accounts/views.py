"""An invitation's link (accounts.Invitation): its page, the answer (accept or decline), and
the sign-up it leads to. Only the invited address can take one up."""

from allauth.account import app_settings as allauth_settings
from allauth.account.adapter import get_adapter
from allauth.account.utils import complete_signup
from allauth.account.views import SignupView
from allauth.core.exceptions import ImmediateHttpResponse
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from credshare.accounts.models import Invitation
from credshare.accounts.selectors import invitation_by_token_or_none, user_with_email
from credshare.accounts.services import (
    invitation_accept,
    invitation_check_addressee,
    invitation_decline,
)
from credshare.core.errors import ApplicationError


def _closed_page(request: HttpRequest, invitation: Invitation | None) -> HttpResponse:
    """The page of a link that does not work (404 for an unknown token; 410 for a used,
    declined, withdrawn or expired invitation, saying which)."""
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    return render(
        request,
        "accounts/invitation_closed.html",
        {"invitation": invitation, "status": invitation.status},
        status=410,
    )


def _answered(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    """Where an accepted invitation leads, with what it did."""
    if invitation.purpose == Invitation.Purpose.JOIN_ORGANIZATION:
        messages.success(
            request,
            _("You are now a member of %(organization)s.")
            % {"organization": invitation.invited_by_org.name},
        )
        return redirect("home")
    messages.success(
        request, _("%(email)s is verified on your account.") % {"email": invitation.email}
    )
    return redirect("documents:list")


def _answer(request: HttpRequest, found: Invitation, user) -> HttpResponse | str:
    """Run the posted answer: where it leads, or why it was refused (a message)."""
    action = request.POST.get("action")
    try:
        if action == "accept" and user is None:
            return redirect_to_login(request.path)
        if action == "accept":
            return _answered(request, invitation_accept(invitation=found, user=user))
        if action == "decline":
            invitation_decline(invitation=found, user=user)
            messages.success(request, _("You declined the invitation. Nothing was changed."))
            return redirect("home")
    except ApplicationError as refused:
        return refused.message
    return _("That answer was not understood; nothing changed.")


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation's link. GET shows what it offers and how to answer; a POST answers
    (`action`: accept or decline), so that a mail scanner fetching the link changes nothing.
    Accepting takes the account that holds the invited address, signed in; signed out, the
    page leads to signing in, or to the sign-up with that address (invitation_signup).
    Anyone signed in with another account is refused, and nothing changes."""
    found = invitation_by_token_or_none(token=token)
    if found is None or found.status != Invitation.Status.OPEN:
        return _closed_page(request, found)
    user = request.user if request.user.is_authenticated else None
    try:
        if user is not None:
            # Someone signed in with another account: refused, whatever they post.
            invitation_check_addressee(invitation=found, user=user)
    except ApplicationError as refusal:
        error, status = refusal.message, 403
    else:
        error, status = None, 200
        if request.method == "POST":
            answered = _answer(request, found, user)
            if isinstance(answered, HttpResponse):
                return answered
            error, status = answered, 400
    context = {
        "invitation": found,
        "token": token,
        "error": error,
        "refused": status == 403,
        "has_account": user is None and user_with_email(found.email) is not None,
    }
    return render(request, "accounts/invitation.html", context, status=status)


class InvitationSignupView(SignupView):
    """allauth's sign-up, from an invitation's link: the account is opened with the invited
    address, shown but not editable (the posted one is ignored), verified at once since the
    link proved it, and the invitation is accepted in the same transaction (an invitation to
    join an organization makes the new account a member)."""

    template_name = "accounts/invitation_signup.html"

    def dispatch(self, request, *args, **kwargs):
        self.invitation = invitation_by_token_or_none(token=kwargs["token"])
        if self.invitation is None or self.invitation.status != Invitation.Status.OPEN:
            return _closed_page(request, self.invitation)
        if not request.user.is_authenticated and user_with_email(self.invitation.email):
            # The address has an account already: answering is signing in with it.
            return redirect(reverse("accounts:invitation", args=[kwargs["token"]]))
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self) -> dict:
        return {**super().get_initial(), "email": self.invitation.email}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["email"].disabled = True
        form.fields["email"].help_text = _("The address the invitation was sent to.")
        return form

    def get_context_data(self, **kwargs) -> dict:
        return {**super().get_context_data(**kwargs), "invitation": self.invitation}

    def form_valid(self, form) -> HttpResponse:
        # The address the link proved: allauth saves it verified (setup_user_email).
        get_adapter(self.request).stash_verified_email(self.request, self.invitation.email)
        try:
            with transaction.atomic():
                self.user, response = form.try_save(self.request)
                if response:
                    return response
                invitation_accept(invitation=self.invitation, user=self.user)
        except ApplicationError as refused:
            form.add_error(None, refused.message)
            return self.form_invalid(form)
        try:
            return complete_signup(
                self.request,
                self.user,
                allauth_settings.EMAIL_VERIFICATION,
                self.get_success_url(),
            )
        except ImmediateHttpResponse as immediate:
            return immediate.response


invitation_signup = InvitationSignupView.as_view()
