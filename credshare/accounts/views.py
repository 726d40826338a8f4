from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from credshare.accounts.selectors import invitation_open_or_none, user_with_email
from credshare.accounts.services import invitation_accept


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation's link. Signed out: it proves the address, so the sign-up it leads to
    opens the account with the address verified. Signed in: a button (a POST, so that a mail
    scanner fetching the link changes nothing) adds the address, verified, to the account."""
    found = invitation_open_or_none(token=token)
    if found is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    if not request.user.is_authenticated:
        get_adapter(request).stash_verified_email(request, found.email)
        has_account = user_with_email(found.email) is not None
        return render(
            request, "accounts/invitation.html", {"invitation": found, "has_account": has_account}
        )
    if request.method == "POST":
        try:
            invitation_accept(invitation=found, user=request.user)
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(
                request,
                _("%(email)s is now one of your verified addresses.") % {"email": found.email},
            )
        return redirect("account_email")
    return render(request, "accounts/invitation.html", {"invitation": found})
