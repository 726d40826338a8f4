"""Forms of an organization's self-service pages. They check the shape of what is typed;
the services check the rules."""

from django import forms
from django.conf import settings
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from credshare.api.models import ApiKey
from credshare.core.submissions import OneTimeFormMixin
from credshare.core.text import CleanTextFormMixin
from credshare.network import branding
from credshare.network.models import Membership, Organization, ShareField
from credshare.webhooks.models import Event

MAX_CHOICES = 100
CHOICE_SEPARATOR = "|"


def _model_max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


class ProfileForm(CleanTextFormMixin, forms.Form):
    """What the directory shows of the organization, in both languages."""

    name_en = forms.CharField(
        label=_("Name in English"), max_length=_model_max_length(Organization, "name_en")
    )
    name_fr = forms.CharField(
        label=_("Name in French"), max_length=_model_max_length(Organization, "name_fr")
    )
    description_en = forms.CharField(
        label=_("Description in English"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One or two sentences that help learners recognize the organization."),
    )
    description_fr = forms.CharField(
        label=_("Description in French"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    website = forms.URLField(
        label=_("Website"),
        required=False,
        assume_scheme="https",
        max_length=_model_max_length(Organization, "website"),
    )
    contact_email = forms.EmailField(
        label=_("Contact email"),
        required=False,
        max_length=_model_max_length(Organization, "contact_email"),
        help_text=_("Where learners can write with questions about what you ask of them."),
    )

    @classmethod
    def for_organization(cls, organization: Organization) -> "ProfileForm":
        return cls(initial={name: getattr(organization, name) for name in cls.base_fields})


class BrandingForm(CleanTextFormMixin, forms.Form):
    """An issuer's logo and colours on the transcripts it renders."""

    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    primary_color = forms.CharField(
        label=_("Primary colour"),
        required=False,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("The band across the top and the headings."),
    )
    accent_color = forms.CharField(
        label=_("Accent colour"),
        required=False,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("The stripe under the band and the rules of the courses table."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["logo"].help_text = gettext(
            "A PNG or JPEG image of at most %(size)d KiB and %(millions)d million pixels, "
            "drawn at the top left of your transcripts. It replaces the current one."
        ) % {
            "size": branding.MAX_LOGO_BYTES // 1024,
            "millions": branding.MAX_LOGO_PIXELS // 1_000_000,
        }

    @classmethod
    def for_organization(cls, organization: Organization) -> "BrandingForm":
        return cls(
            initial={
                "primary_color": organization.primary_color,
                "accent_color": organization.accent_color,
            }
        )


def choices_as_text(choices: list[dict]) -> str:
    return "\n".join(
        f"{c.get('label_en', '')} {CHOICE_SEPARATOR} {c.get('label_fr', '')}" for c in choices
    )


class ShareFieldForm(CleanTextFormMixin, OneTimeFormMixin):
    """An extra field learners fill when they share with the organization. Its type is chosen
    when it is added and cannot change afterwards (`editing`)."""

    label_en = forms.CharField(
        label=_("Label in English"),
        max_length=_model_max_length(ShareField, "label_en"),
        help_text=_("The field's key is made from it when the field is added."),
    )
    label_fr = forms.CharField(
        label=_("Label in French"), max_length=_model_max_length(ShareField, "label_fr")
    )
    help_en = forms.CharField(
        label=_("Help text in English"),
        required=False,
        max_length=_model_max_length(ShareField, "help_en"),
    )
    help_fr = forms.CharField(
        label=_("Help text in French"),
        required=False,
        max_length=_model_max_length(ShareField, "help_fr"),
    )
    field_type = forms.ChoiceField(
        label=_("Type"),
        choices=ShareField.FieldType.choices,
        initial=ShareField.FieldType.TEXT,
        error_messages={"invalid_choice": _("Choose a type from the list.")},
    )
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "For a choice field: one choice a line, its English label, a vertical bar, then "
            "its French label (Sciences | Sciences)."
        ),
    )
    required = forms.BooleanField(label=_("Learners must fill it"), required=False)

    def __init__(self, *args, editing: ShareField | None = None, **kwargs):
        if editing is not None and not kwargs.get("data") and not args:
            kwargs["initial"] = {
                "label_en": editing.label_en,
                "label_fr": editing.label_fr,
                "help_en": editing.help_en,
                "help_fr": editing.help_fr,
                "field_type": editing.field_type,
                "choices": choices_as_text(editing.choices),
                "required": editing.required,
            }
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing is not None:
            # The type stays what it was; the page says so.
            del self.fields["field_type"]
            if editing.field_type != ShareField.FieldType.CHOICE:
                del self.fields["choices"]

    def clean_choices(self) -> list[dict]:
        choices = []
        for line in self.cleaned_data.get("choices", "").splitlines():
            if not line.strip():
                continue
            english, _bar, french = (part.strip() for part in line.partition(CHOICE_SEPARATOR))
            english, french = english or french, french or english
            if max(len(english), len(french)) > 200:
                raise forms.ValidationError(
                    _("A choice's label has at most 200 characters."), code="choice_too_long"
                )
            choices.append({"label_en": english, "label_fr": french})
        if len(choices) > MAX_CHOICES:
            raise forms.ValidationError(
                _("A field has at most %(count)d choices.") % {"count": MAX_CHOICES},
                code="too_many_choices",
            )
        return choices

    def clean(self):
        data = super().clean()
        field_type = data.get("field_type") or getattr(self.editing, "field_type", None)
        no_choices = not data.get("choices") and "choices" not in self.errors
        if field_type == ShareField.FieldType.CHOICE and no_choices:
            self.add_error("choices", _("A choice field needs at least one choice."))
        return data

    def service_values(self) -> dict:
        data = self.cleaned_data
        values = {
            "label_en": data["label_en"],
            "label_fr": data["label_fr"],
            "help_en": data["help_en"],
            "help_fr": data["help_fr"],
            "required": data["required"],
            "choices": data.get("choices") or [],
        }
        if self.editing is None:
            values["field_type"] = data["field_type"]
        return values


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", _("Up")), ("down", _("Down"))])


class OnOffForm(forms.Form):
    """A yes/no switch posted by a button ("1" or "0")."""

    value = forms.TypedChoiceField(
        choices=[("1", "1"), ("0", "0")], coerce=lambda value: value == "1"
    )


ROLE_ERRORS = {"invalid_choice": _("Choose a role from the list.")}


class MemberInviteForm(CleanTextFormMixin, forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_(
            "The person gets an email with a link, and becomes a member only once they accept "
            "it (signed in with this address, or opening an account with it)."
        ),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Membership.Role.choices,
        initial=Membership.Role.STAFF,
        error_messages=ROLE_ERRORS,
    )
    language = forms.ChoiceField(
        label=_("Language of the email"),
        choices=settings.LANGUAGES,
        help_text=_("Used when the address has no account; otherwise the account's language."),
        error_messages={"invalid_choice": _("Choose a language from the list.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        active = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
        self.fields["language"].initial = active


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Role"), choices=Membership.Role.choices, error_messages=ROLE_ERRORS
    )


def grantable_scopes(organization: Organization) -> list[tuple[str, str]]:
    """The API permissions ORGANIZATION can give its keys: the receiving ones when it
    receives shares, the issuing ones when it issues documents."""
    scopes = []
    if organization.is_receiver:
        scopes += ApiKey.RECEIVING_SCOPES
    if organization.is_issuer:
        scopes += ApiKey.ISSUING_SCOPES
    return [(scope.value, scope.label) for scope in scopes]


class ApiKeyForm(CleanTextFormMixin, forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=_model_max_length(ApiKey, "name"),
        help_text=_("Which system uses the key, so that you can tell keys apart."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Permissions"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one permission."),
            "invalid_choice": _("This organization cannot grant that permission."),
        },
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = grantable_scopes(organization)


class WebhookEndpointForm(CleanTextFormMixin, OneTimeFormMixin):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("An HTTPS address of your system that receives the events."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one event."),
            "invalid_choice": _("Choose events from the list."),
        },
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    is_active = forms.BooleanField(label=_("Send events to this endpoint"), required=False)

    def __init__(self, *args, editing=None, **kwargs):
        if editing is not None and not kwargs.get("data") and not args:
            kwargs["initial"] = {
                "url": editing.url,
                "events": editing.events,
                "description": editing.description,
                "is_active": editing.is_active,
            }
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = Event.choices
        if editing is None:
            # A new endpoint is active; pausing one is an edit.
            del self.fields["is_active"]
        else:
            # Editing sets values: sent twice, it sets them twice, harmlessly. Adding twice
            # would make two endpoints, each event delivered twice: adding acts once.
            del self.fields["submission_token"]
