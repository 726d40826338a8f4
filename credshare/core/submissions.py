"""Forms that act once: the way the share window is idempotent, for every other form that
creates or changes something (an issuer issuing, correcting, withdrawing, granting shares,
refunding, starting a bulk job...).

The form served carries a one-time token (a hidden `submission_token`, made when the page is
rendered). `submit_once` runs the action and records the token in one transaction: the same
form posted again finds the token taken and is sent to where the first post went, doing
nothing. Two posts at the same moment are serialized by the token's unique index (the second
waits for the first to commit, then finds it). An action that fails rolls the token back
with it, so the corrected form can be sent again."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credshare.core.models import FormSubmission

T = TypeVar("T")
FIELD = "submission_token"


class OneTimeFormMixin(forms.Form):
    """A form with a hidden one-time token; an unbound form gets a new one."""

    # Not required: a post without a token (a script, a test) is done as asked, unguarded;
    # every page we serve sends one.
    submission_token = forms.UUIDField(
        widget=forms.HiddenInput,
        required=False,
        error_messages={
            "invalid": gettext_lazy("This form has expired: reload the page and send it again.")
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault(FIELD, uuid.uuid4())

    def full_clean(self) -> None:
        super().full_clean()
        # A hidden field's error has no place on the page: it goes to the form's own errors.
        if self._errors is not None and FIELD in self._errors:
            for error in self._errors.pop(FIELD):
                self.add_error(None, error)


def token_from(request: HttpRequest) -> uuid.UUID | None:
    """The one-time token of a bare form (a button, no Django form); None when absent or not
    a token."""
    try:
        return uuid.UUID(request.POST.get(FIELD, ""))
    except ValueError:
        return None


@dataclass(frozen=True)
class Repeated:
    """The form was already sent: its action was done, its result is at RESULT_URL."""

    result_url: str


def submit_once(
    *, user, token: uuid.UUID | None, action: Callable[[], T], result_url: Callable[[T], str]
) -> T | Repeated:
    """Run ACTION once for TOKEN, posted by USER: its result, or Repeated when the token was
    used before (a token used by someone else is Repeated with no URL). RESULT_URL(result)
    is where a repeat is sent. Without a token, ACTION simply runs."""
    if token is None:
        with transaction.atomic():
            return action()
    with transaction.atomic():
        try:
            with transaction.atomic():
                FormSubmission.objects.create(token=token, user=user)
        except IntegrityError:
            done = FormSubmission.objects.filter(token=token, user=user).first()
            return Repeated(done.result_url if done is not None else "")
        result = action()
        FormSubmission.objects.filter(token=token).update(result_url=result_url(result))
        return result


def repeated_response(request: HttpRequest, repeated: Repeated, *, fallback: str) -> HttpResponse:
    """Where a form sent twice goes: the first post's result, saying it was done once."""
    messages.info(request, _("This form was already sent: it was done once, here is the result."))
    return redirect(repeated.result_url or fallback)


def form_submissions_purge(*, older_than) -> int:
    """Forget tokens older than OLDER_THAN (a datetime): nobody posts a day-old page twice by
    accident."""
    deleted, _by_model = FormSubmission.objects.filter(created__lt=older_than).delete()
    return deleted
