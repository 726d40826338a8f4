"""One cleaning rule for typed text (credshare/core/text.py), table-driven: every hostile
character, in every free-text field a person or an API client gives (forms, API schemas,
bulk rows), is gone once the input is read; the characters that scripts and emoji need stay;
and every form of credshare with a text field applies the rule (or says why not)."""

import importlib
import pkgutil

import pytest
from django import forms
from django.http import QueryDict
from hypothesis import given, settings
from hypothesis import strategies as st

import credshare
from credshare.accounts.forms import SignupForm
from credshare.api.schemas import DocumentIn, WithdrawIn
from credshare.billing.issuer_forms import GrantForm
from credshare.core.text import CleanTextFormMixin, clean_text
from credshare.documents import bulk
from credshare.documents.issuer_forms import IssueForm, WithdrawForm
from credshare.network.forms import ApiKeyForm, ProfileForm, ShareFieldForm, WebhookEndpointForm
from credshare.sharing.forms import EXTRA_FIELD_PREFIX, ShareByEmailForm, ShareWithOrganizationForm

HOSTILE_CHARACTERS = {
    "left-to-right embedding": "\u202a",
    "right-to-left embedding": "\u202b",
    "pop directional formatting": "\u202c",
    "left-to-right override": "\u202d",
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "right-to-left isolate": "\u2067",
    "first strong isolate": "\u2068",
    "pop directional isolate": "\u2069",
    "bell": "\x07",
    "backspace": "\x08",
    "vertical tab": "\x0b",
    "form feed": "\x0c",
    "escape (terminal colours)": "\x1b",
    "DEL": "\x7f",
    "C1 control": "\x80",
    "C1 CSI": "\x9b",
    "zero width space": "\u200b",
    "word joiner": "\u2060",
    "invisible times": "\u2062",
    "byte order mark": "\ufeff",
    "interlinear annotation": "\ufff9",
    "Mongolian vowel separator": "\u180e",
    "deprecated format character": "\u206e",
    "noncharacter": "\ufdd0",
    "noncharacter U+FFFE": "\ufffe",
    "language tag": "\U000e0001",
    "tag letter (ASCII smuggling)": "\U000e0041",
}
# Line breaks: gone from one-line fields, kept (as LF) in multi-line ones.
LINE_BREAKS = {
    "line feed": "\n",
    "carriage return": "\r",
    "next line (C1)": "\x85",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
}
KEPT = [
    "Zoé Citoyenne",
    "\u0632\u0647\u0631\u0627\u0621 \u0627\u0644\u0639\u0644\u064a",  # Arabic, right to left
    "\u05e9\u05dc\u05d5\u05dd\u200f (2026)",  # Hebrew with a right-to-left mark
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian with a zero width non-joiner
    "\U0001f469\u200d\U0001f393",  # woman student: a zero width joiner sequence
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland's flag
    "e\u0301 \u00a0 \U00010348",
]


def assert_clean(value: str, *, multiline: bool) -> None:
    for name, character in HOSTILE_CHARACTERS.items():
        assert character not in value, name
    if not multiline:
        for name, character in LINE_BREAKS.items():
            assert character not in value, name
        assert "\t" not in value
    else:
        assert "\r" not in value and "\u2028" not in value and "\u2029" not in value


@pytest.mark.parametrize("character", HOSTILE_CHARACTERS.values(), ids=HOSTILE_CHARACTERS.keys())
@pytest.mark.parametrize("multiline", [False, True])
def test_each_hostile_character_is_removed(character, multiline):
    assert clean_text(f"REF{character}-42", multiline=multiline) == "REF-42"


@pytest.mark.parametrize("text", KEPT)
@pytest.mark.parametrize("multiline", [False, True])
def test_what_scripts_and_emoji_need_is_kept(text, multiline):
    assert clean_text(text, multiline=multiline) == text


@pytest.mark.parametrize("character", LINE_BREAKS.values(), ids=LINE_BREAKS.keys())
def test_line_breaks_are_spaces_in_one_line_and_lf_in_multi_line_text(character):
    assert clean_text(f"one{character}two\tthree") == "one two three"
    assert clean_text(f"one{character}two\tthree", multiline=True) == "one\ntwo\tthree"
    assert clean_text("one\r\ntwo", multiline=True) == "one\ntwo"


HOSTILE = st.text(
    st.one_of(
        st.sampled_from(list(HOSTILE_CHARACTERS.values()) + list(LINE_BREAKS.values()) + ["\t"]),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=60,
)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(text=HOSTILE)
def test_any_text_comes_out_clean_and_cleaning_twice_changes_nothing(text):
    for multiline in (False, True):
        cleaned = clean_text(text, multiline=multiline)
        assert_clean(cleaned, multiline=multiline)
        assert clean_text(cleaned, multiline=multiline) == cleaned


# --- every field people and clients type ------------------------------------------------------

VISIBLE = "Visible"
TEXT = VISIBLE + "{}Text"
URL = "https://hooks.example.org/a{}b"
COURSES = "TST{}100; Testing; 3; A"


def _hostile_value(character: str) -> str:
    return TEXT.format(character)


def _form_cases(zoe, ecole):
    """(form factory, field, multi-line, the value with {} where the character goes) for
    every text field people type."""
    share_base = {"submission_token": "8c1b8bd0-1f0e-4b1e-9c6c-0a0b0c0d0e0f"}

    def posted(data):
        query = QueryDict(mutable=True)
        query.update(data)
        return query

    def share_by_email(data):
        return ShareByEmailForm(posted({**share_base, **data}), learner=zoe)

    def share_with_organization(data):
        return ShareWithOrganizationForm(
            posted({**share_base, "recipient": ecole.slug, **data}), learner=zoe
        )

    cases = [
        (ProfileForm, "name_en", False, TEXT),
        (ProfileForm, "name_fr", False, TEXT),
        (ProfileForm, "description_en", True, TEXT),
        (ProfileForm, "description_fr", True, TEXT),
        (ProfileForm, "website", False, URL),
        (ShareFieldForm, "label_en", False, TEXT),
        (ShareFieldForm, "label_fr", False, TEXT),
        (ShareFieldForm, "help_en", False, TEXT),
        (ShareFieldForm, "help_fr", False, TEXT),
        (lambda data: ApiKeyForm(data, organization=ecole), "name", False, TEXT),
        (WebhookEndpointForm, "url", False, URL),
        (WebhookEndpointForm, "description", False, TEXT),
        (SignupForm, "full_name", False, TEXT),
        (IssueForm, "full_name", False, TEXT),
        (IssueForm, "student_number", False, TEXT),
        (IssueForm, "title", False, TEXT),
        (IssueForm, "program", False, TEXT),
        (IssueForm, "credential", False, TEXT),
        (IssueForm, "courses", True, COURSES),
        (WithdrawForm, "reason", True, TEXT),
        (GrantForm, "note", False, TEXT),
        (share_by_email, "name", False, TEXT),
        (share_by_email, "purpose", False, TEXT),
        (share_by_email, "reference", False, TEXT),
        (share_by_email, "message", True, TEXT),
        (share_with_organization, EXTRA_FIELD_PREFIX + "application_number", False, TEXT),
    ]
    return cases


@pytest.mark.django_db
@pytest.mark.parametrize("character", HOSTILE_CHARACTERS.values(), ids=HOSTILE_CHARACTERS.keys())
def test_every_forms_text_field_removes_the_character(character, zoe, ecole):
    for make_form, field, multiline, template in _form_cases(zoe, ecole):
        form = make_form({field: template.format(character)})
        form.is_valid()
        name = f"{field} of {make_form}"
        assert field in form.cleaned_data, (name, form.errors.get(field))
        value = form.cleaned_data[field]
        if field == "courses":
            value = "; ".join(value[0])
        assert value == template.format(""), name
        assert_clean(value, multiline=multiline)


def test_nul_is_refused_rather_than_removed():
    assert clean_text("a\x00b") == "a\x00b"
    form = WithdrawForm({"reason": "a\x00b"})
    assert not form.is_valid()
    assert "reason" in form.errors
    with pytest.raises(ValueError, match="reason"):
        WithdrawIn.model_validate({"reason": "a\x00b"})


@pytest.mark.django_db
def test_text_of_only_hostile_characters_is_empty_so_required_fields_refuse_it():
    form = SignupForm({"full_name": "\u202e\u200b\u2066\u2069"})
    assert not form.is_valid()
    assert "full_name" in form.errors


@pytest.mark.parametrize("character", HOSTILE_CHARACTERS.values(), ids=HOSTILE_CHARACTERS.keys())
def test_the_apis_text_fields_remove_the_character(character):
    value = _hostile_value(character)
    document = DocumentIn.model_validate(
        {
            "learner_email": "zoe@example.org",
            "learner_name": value,
            "student_number": value,
            "type": "transcript",
            "title": value,
            "issue_date": "2026-06-01",
            "external_id": value,
            "record": {
                "program": value,
                "gpa": "3.9",
                "credential": value,
                "courses": [[value, value, "3", "A"]],
            },
        }
    )
    for text in (
        document.learner_name,
        document.student_number,
        document.title,
        document.external_id,
        document.record.program,
        document.record.credential,
        *document.record.courses[0],
    ):
        assert text in {_hostile_value(""), "3", "A"}
    withdrawal = WithdrawIn.model_validate({"reason": f"Line one{character}\r\nline two"})
    assert withdrawal.reason == "Line one\nline two"


def test_an_api_text_of_only_hostile_characters_is_refused_where_text_is_required():
    with pytest.raises(ValueError, match="reason"):
        WithdrawIn.model_validate({"reason": "\u202e\u2066\x07"})


@pytest.mark.parametrize("character", HOSTILE_CHARACTERS.values(), ids=HOSTILE_CHARACTERS.keys())
def test_bulk_rows_remove_the_character(character):
    header = ",".join(bulk.CSV_COLUMNS)
    row = ",".join(_hostile_value(character) for _ in bulk.CSV_COLUMNS)
    [(_number, fields, _reason)] = bulk._parse_csv(f"{header}\n{row}\n")
    assert set(fields.values()) == {_hostile_value("")}


# --- every form applies the rule ---------------------------------------------------------------

# Forms whose text is not cleaned, and why.
RAW_TEXT_FORMS = {
    # A credential pasted to verify: its proof signs these exact bytes.
    "credshare.verification.forms.CredentialVerifyForm",
    # Compared, never stored nor shown: an email and password to sign in, a code.
    "credshare.accounts.forms.LoginForm",
    "credshare.sharing.recipient_views.AccessCodeForm",
    "credshare.accounts.privacy_views.AccountCloseForm",
    "credshare.accounts.forms.MfaAuthenticateForm",
    "credshare.accounts.forms.MfaReauthenticateForm",
}
# Text fields that are ours, not the user's: the one-time token of a form that acts once
# (credshare.core.submissions), compared and never shown.
OUR_TEXT_FIELDS = {"submission_token"}


def _credshare_forms() -> list[type[forms.BaseForm]]:
    for module in pkgutil.walk_packages(credshare.__path__, "credshare."):
        if ".tests" in module.name or ".migrations" in module.name:
            continue
        if module.name.endswith(("forms", "views")):
            importlib.import_module(module.name)
    found, pending = [], [forms.BaseForm]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if subclass.__module__.startswith("credshare.") and ".tests" not in subclass.__module__:
                found.append(subclass)
    return found


def _takes_text(form_class) -> bool:
    return any(
        isinstance(field, forms.CharField)
        and not isinstance(field.widget, forms.PasswordInput)
        and name not in OUR_TEXT_FIELDS
        for name, field in form_class.base_fields.items()
    )


def test_every_form_with_a_text_field_applies_the_cleaning_rule():
    forms_with_text = [form for form in _credshare_forms() if _takes_text(form)]
    assert len(forms_with_text) >= 10
    missing = [
        f"{form.__module__}.{form.__qualname__}"
        for form in forms_with_text
        if not issubclass(form, CleanTextFormMixin)
        and f"{form.__module__}.{form.__qualname__}" not in RAW_TEXT_FORMS
    ]
    assert missing == []
