import uuid

from django import forms
from django.conf import settings
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext_lazy as _

from credshare.accounts.models import User
from credshare.billing.selectors import credit_needs_for_documents
from credshare.core.ranges import (
    AnyDayField,
    check_share_expiry,
    form_check,
    share_expiry_range,
)
from credshare.core.text import CleanTextFormMixin
from credshare.documents.models import Document
from credshare.network.models import Organization, ShareField
from credshare.sharing.models import Share

EXTRA_FIELD_PREFIX = "field_"


def participating_organizations():
    """The directory: receiving organizations listed for learners and approved by the
    platform, by name in their language."""
    name = "name_fr" if (get_language() or "").startswith("fr") else "name_en"
    return Organization.objects.participating().order_by(name)


def language_choices() -> list[tuple[str, str]]:
    """The platform's languages, each named in itself (Français, English)."""
    return [
        (code, get_language_info(code)["name_local"].capitalize()) for code, _ in settings.LANGUAGES
    ]


def current_language(default: str) -> str:
    """The interface's language if the platform has it, else DEFAULT."""
    active = get_language() or ""
    for code, _name in settings.LANGUAGES:
        if active == code or active.startswith(f"{code}-"):
            return code
    return default


class RecipientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organization) -> str:
        return obj.name


class DocumentsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Document) -> str:
        return f"{obj.title} — {obj.issuer.name}"


def form_field_for(share_field: ShareField) -> forms.Field:
    """The Django form field for an organization's extra share field."""
    common = {
        "label": share_field.label,
        "required": share_field.required,
        "help_text": share_field.help_text,
    }
    match share_field.field_type:
        case ShareField.FieldType.DATE:
            return AnyDayField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        case ShareField.FieldType.EMAIL:
            return forms.EmailField(max_length=254, **common)
        case ShareField.FieldType.CHOICE:
            empty = [("", "—")]
            return forms.ChoiceField(choices=empty + share_field.choice_options(), **common)
        case _:
            return forms.CharField(max_length=500, **common)


class ShareExpiryForm(CleanTextFormMixin, forms.Form):
    """A share's expiry date: none, today or later. The share window asks it, and the share's
    page changes it."""

    expires_on = forms.DateField(
        label=_("Expiry date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "Your share will stop working after this date. With no date, it never expires."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        first, last = share_expiry_range()
        self.fields["expires_on"].widget.attrs.update(
            {"min": first.isoformat(), "max": last.isoformat()}
        )

    def clean_expires_on(self):
        return form_check(check_share_expiry, self.cleaned_data.get("expires_on"))


class ShareForm(ShareExpiryForm):
    """The share window's fields that every channel asks; each channel's form adds its
    recipient. `service_values()` gives the keyword arguments of the channel's service."""

    channel: str
    description: str  # one line under the channel's name in the window

    documents = DocumentsChoiceField(
        label=_("Documents in this share"),
        queryset=Document.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one document to share.")},
    )
    name = forms.CharField(
        label=_("Share name"),
        max_length=200,
        required=False,
        help_text=_(
            "Only you will see the name you choose. It will not be visible to the recipient "
            "of your share."
        ),
    )
    purpose = forms.CharField(
        label=_("Share purpose"),
        max_length=500,
        required=False,
        help_text=_("Only you will see the purpose of the share."),
    )
    reference = forms.CharField(
        label=_("Reference"),
        max_length=200,
        required=False,
        help_text=_("The recipient will be able to see this reference."),
    )
    notify_owner_on_first_open = forms.BooleanField(
        label=_("Email me when it is first opened"), required=False
    )
    confirm_credit_use = forms.BooleanField(required=False)
    submission_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, learner: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.learner = learner
        self.fields["documents"].queryset = (
            Document.objects.filter(learner=learner, status=Document.Status.ACTIVE)
            .select_related("issuer")
            .order_by("-issue_date", "-id")
        )
        if not self.is_bound:
            self.initial.setdefault("submission_token", uuid.uuid4())
        self.chosen_documents = self._chosen_documents()
        self.credit_needs = credit_needs_for_documents(
            learner=learner, documents=self.chosen_documents
        )

    def _chosen_documents(self) -> list[Document]:
        """The documents ticked in the window (or passed in), to say what sharing will cost."""
        if self.is_bound:
            ids = self.data.getlist("documents")
        else:
            ids = [getattr(d, "pk", d) for d in self.initial.get("documents", [])]
        ids = [i for i in ids if str(i).isdigit()]
        return list(self.fields["documents"].queryset.filter(pk__in=ids))

    def clean_confirm_credit_use(self):
        confirmed = self.cleaned_data.get("confirm_credit_use")
        if self.credit_needs and not confirmed:
            raise forms.ValidationError(
                _("Please confirm the use of a share."), code="credit_use_not_confirmed"
            )
        return confirmed

    def service_values(self) -> dict:
        """The share service's keyword arguments, from a valid form."""
        data = self.cleaned_data
        return {
            "owner": self.learner,
            "document_ids": [d.pk for d in data["documents"]],
            "submission_token": data["submission_token"],
            "name": data["name"],
            "purpose": data["purpose"],
            "reference": data["reference"],
            "expires_on": data["expires_on"],
            "confirmed_credit_use": data["confirm_credit_use"],
            "notify_owner_on_first_open": data["notify_owner_on_first_open"],
            **self.recipient_values(),
        }

    def recipient_values(self) -> dict:
        """The channel's own service arguments: who the share is for."""
        return {}


class ShareWithOrganizationForm(ShareForm):
    """The share window for the channel "with a participating organization"."""

    channel = Share.Channel.ORGANIZATION
    description = _("Share with a participating organization anywhere in our global network.")

    recipient = RecipientChoiceField(
        label=_("Recipient"),
        queryset=Organization.objects.none(),
        to_field_name="slug",
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Choose the organization you are sharing with."),
            "invalid_choice": _("Choose a participating organization from the list."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = participating_organizations()
        self.recipient_organization = self._chosen_recipient()
        self.extra_fields = list(self._add_extra_fields())

    def _chosen_recipient(self) -> Organization | None:
        slug = self.data.get("recipient") if self.is_bound else self.initial.get("recipient")
        if not slug:
            return None
        return self.fields["recipient"].queryset.filter(slug=slug).first()

    def _add_extra_fields(self):
        """Add the chosen organization's extra fields; the server enforces the required ones."""
        if self.recipient_organization is None:
            return
        for share_field in self.recipient_organization.share_fields.filter(is_active=True):
            name = EXTRA_FIELD_PREFIX + share_field.key
            self.fields[name] = form_field_for(share_field)
            yield self[name]

    def extra_field_values(self) -> dict[str, str]:
        """The extra fields' values as text, keyed by the organization's field keys."""
        values = {}
        for bound_field in self.extra_fields:
            value = self.cleaned_data.get(bound_field.name)
            if value not in (None, ""):
                key = bound_field.name.removeprefix(EXTRA_FIELD_PREFIX)
                values[key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return values

    def recipient_values(self) -> dict:
        return {
            "recipient": self.cleaned_data["recipient"],
            "field_values": self.extra_field_values(),
        }


class ShareByEmailForm(ShareForm):
    """The share window for the channel "by email": anyone, at an email address."""

    channel = Share.Channel.EMAIL
    description = _("Send a link to anyone by email; a code sent to the same address opens it.")

    recipient_email = forms.EmailField(
        label=_("Recipient's email address"),
        max_length=254,
        help_text=_("We email a link to this address, and a code to open it in a second email."),
        error_messages={"required": _("Enter the recipient's email address.")},
    )
    message = forms.CharField(
        label=_("Message"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Optional. The recipient reads it in the email, above the link."),
    )
    email_language = forms.ChoiceField(
        label=_("Language of the email"),
        choices=language_choices,
        error_messages={"invalid_choice": _("Choose the language of the email from the list.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("email_language", current_language(self.learner.language))

    def recipient_values(self) -> dict:
        data = self.cleaned_data
        return {
            "recipient_email": data["recipient_email"],
            "message": data["message"],
            "email_language": data["email_language"],
        }


class ShareByLinkForm(ShareForm):
    """The share window for the channel "by link": whoever holds a secret link."""

    channel = Share.Channel.LINK
    description = _(
        "Get a secret link and its QR code: anyone who has the link can open the share."
    )
