"""The directory profile and the extra share fields, as an organization's administrator
manages them, and what learners and staff then see: the share window's directory and
fields, and the inbox's values of past shares."""

import re

import pytest
from django.urls import reverse

from credshare.core import testing
from credshare.network.models import Organization, ShareField
from credshare.network.services import organizations_approve
from credshare.network.tests.conftest import errors_next_to, text_of


def url(name, organization, *args):
    return reverse(f"network:{name}", args=[organization.slug, *args])


def field_order(organization) -> list[tuple[str, int]]:
    return list(
        ShareField.objects.filter(organization=organization)
        .order_by("position", "id")
        .values_list("key", "position")
    )


def window_field_names(client, organization) -> list[str]:
    """The extra fields the share window asks, in order (as a learner fetches them)."""
    response = client.get(reverse("sharing:fields"), {"recipient": organization.slug})
    return re.findall(r'name="field_([a-z0-9_]+)"', response.content.decode())


PROFILE = {
    "name_en": "Imaginary School",
    "name_fr": "École Imaginaire",
    "description_en": "A test school for demonstrations.",
    "description_fr": "Une école de test pour les démonstrations.",
    "website": "https://ecole.example",
    "contact_email": "Admissions@Ecole.example",
}


# The profile -------------------------------------------------------------------------------


def test_the_profile_form_shows_the_current_profile(admin_client, ecole):
    response = admin_client.get(url("profile", ecole))
    page = response.content.decode()
    assert 'value="Ecole Imaginaire"' in page
    assert 'value="Ecole Imaginaire (fr)"' in page
    assert "École Imaginaire est une école de test" in page


def test_the_directory_shows_the_saved_profile_in_the_learners_language(
    admin_client, learner_client, ecole, ecole_admin, zoe_transcript
):
    response = admin_client.post(url("profile", ecole), PROFILE)
    assert response.status_code == 302
    assert "The profile is saved." in text_of(admin_client.get(response["Location"]))
    ecole.refresh_from_db()
    assert ecole.website == "https://ecole.example"
    assert ecole.contact_email == "admissions@ecole.example"
    # A new name reaches the directory once the platform approves it (test_organization_names).
    organizations_approve(organizations=Organization.objects.filter(pk=ecole.pk), by=ecole_admin)

    window = reverse("sharing:with_organization")
    english = text_of(learner_client.get(window, {"documents": zoe_transcript.pk}))
    assert "Imaginary School" in english
    assert "A test school for demonstrations." in english
    learner_client.cookies["django_language"] = "fr"
    french = text_of(learner_client.get(window, {"documents": zoe_transcript.pk}))
    assert "École Imaginaire" in french
    assert "Une école de test pour les démonstrations." in french


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name_en": ""}, "name_en", "This field is required."),
        ({"name_fr": "   "}, "name_fr", "This field is required."),
        ({"website": "not a url at all"}, "website", "Enter a valid URL."),
        ({"contact_email": "nobody"}, "contact_email", "Enter a valid email address."),
        ({"name_en": "x" * 201}, "name_en", "at most 200 characters"),
    ],
)
def test_a_bad_profile_is_refused_next_to_its_field(admin_client, ecole, changes, field, message):
    before = Organization.objects.filter(pk=ecole.pk).values().get()

    response = admin_client.post(url("profile", ecole), {**PROFILE, **changes})

    assert response.status_code == 400
    assert message in errors_next_to(response, field)
    assert Organization.objects.filter(pk=ecole.pk).values().get() == before


def test_hostile_text_in_the_profile_is_shown_as_text(
    admin_client, learner_client, ecole, acme, ecole_admin, zoe_transcript
):
    hostile = '<script>alert("x")</script>'
    # An admin of two organizations: the header names each one.
    testing.make_member(ecole_admin, acme, "admin")
    admin_client.post(
        url("profile", ecole), {**PROFILE, "name_en": hostile, "description_en": hostile}
    )
    organizations_approve(organizations=Organization.objects.filter(pk=ecole.pk), by=ecole_admin)

    for response in (
        admin_client.get(url("profile", ecole)),
        admin_client.get(url("fields", ecole)),
        admin_client.get(reverse("documents:list")),  # the header's link
    ):
        assert hostile not in response.content.decode()
        assert "&lt;script&gt;" in response.content.decode()
    window = learner_client.get(
        reverse("sharing:with_organization"), {"documents": zoe_transcript.pk}
    )
    assert hostile not in window.content.decode()
    assert "&lt;script&gt;alert" in window.content.decode()


# Adding and editing fields -----------------------------------------------------------------


def test_a_new_field_gets_a_key_from_its_english_label_and_goes_last(admin_client, ecole):
    response = admin_client.post(
        url("field_new", ecole),
        {
            "label_en": "Date of birth",
            "label_fr": "Date de naissance",
            "help_en": "As on your passport",
            "help_fr": "Comme sur votre passeport",
            "field_type": "date",
            "required": "on",
        },
    )

    assert response.status_code == 302
    field = ShareField.objects.get(organization=ecole, key="date_of_birth")
    assert (field.label_en, field.label_fr, field.field_type, field.required) == (
        "Date of birth",
        "Date de naissance",
        "date",
        True,
    )
    assert field.help_fr == "Comme sur votre passeport"
    assert field_order(ecole) == [
        ("application_number", 1),
        ("intended_program", 2),
        ("date_of_birth", 3),
    ]
    page = text_of(admin_client.get(response["Location"]))
    assert "The field “Date of birth” is added." in page
    assert "date_of_birth" in page


def test_a_key_is_unique_in_the_organization_even_against_retired_fields(admin_client, ecole, acme):
    testing.make_share_field(acme, "program")  # another organization's key does not count
    testing.make_share_field(ecole, "program", is_active=False, position=3)
    for label in ("Program", "Program!"):
        admin_client.post(
            url("field_new", ecole), {"label_en": label, "label_fr": label, "field_type": "text"}
        )

    keys = [key for key, _position in field_order(ecole)]
    assert keys == ["application_number", "intended_program", "program", "program_2", "program_3"]


def test_a_label_without_letters_still_gets_a_key(admin_client, ecole):
    admin_client.post(
        url("field_new", ecole), {"label_en": "¿?", "label_fr": "¿?", "field_type": "text"}
    )
    assert ShareField.objects.filter(organization=ecole, key="field").exists()


def test_a_choice_field_has_bilingual_choices_and_learners_see_them_in_their_language(
    admin_client, learner_client, ecole
):
    admin_client.post(
        url("field_new", ecole),
        {
            "label_en": "Campus",
            "label_fr": "Campus",
            "field_type": "choice",
            "choices": "North campus | Campus nord\n\nSouth campus|Campus sud\n",
        },
    )
    field = ShareField.objects.get(organization=ecole, key="campus")
    assert field.choices == [
        {"value": "north_campus", "label_en": "North campus", "label_fr": "Campus nord"},
        {"value": "south_campus", "label_en": "South campus", "label_fr": "Campus sud"},
    ]
    fragment = reverse("sharing:fields")
    english = learner_client.get(fragment, {"recipient": ecole.slug}).content.decode()
    assert '<option value="north_campus">North campus</option>' in english
    learner_client.cookies["django_language"] = "fr"
    french = learner_client.get(fragment, {"recipient": ecole.slug}).content.decode()
    assert '<option value="south_campus">Campus sud</option>' in french


NEW_FIELD = {"label_en": "Student number", "label_fr": "Numéro d'étudiant", "field_type": "text"}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"label_en": ""}, "label_en", "This field is required."),
        ({"label_fr": " "}, "label_fr", "This field is required."),
        ({"field_type": "file"}, "field_type", "Choose a type from the list."),
        ({"field_type": "choice"}, "choices", "A choice field needs at least one choice."),
        (
            {"field_type": "choice", "choices": "x" * 201},
            "choices",
            "A choice's label has at most 200 characters.",
        ),
        ({"help_en": "h" * 301}, "help_en", "at most 300 characters"),
    ],
)
def test_a_bad_new_field_is_refused_next_to_its_field(admin_client, ecole, changes, field, message):
    before = field_order(ecole)

    response = admin_client.post(url("field_new", ecole), {**NEW_FIELD, **changes})

    assert response.status_code == 400
    assert message in errors_next_to(response, field)
    assert field_order(ecole) == before


def test_editing_a_field_changes_its_labels_and_keeps_its_key_and_type(admin_client, ecole):
    field = ecole.share_fields.get(key="application_number")
    page = admin_client.get(url("field_edit", ecole, field.pk)).content.decode()
    assert 'value="Application number"' in page
    assert 'name="field_type"' not in page

    response = admin_client.post(
        url("field_edit", ecole, field.pk),
        {
            "label_en": "Application no.",
            "label_fr": "No de demande",
            "field_type": "email",  # ignored: the type stays
            "required": "",
        },
    )

    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.key, field.field_type) == ("application_number", "text")
    assert (field.label_en, field.label_fr, field.required) == (
        "Application no.",
        "No de demande",
        False,
    )


def test_editing_a_choice_keeps_the_value_of_a_choice_whose_label_stays(admin_client, ecole):
    field = ecole.share_fields.get(key="intended_program")
    admin_client.post(
        url("field_edit", ecole, field.pk),
        {
            "label_en": "Intended program",
            "label_fr": "Programme visé",
            "choices": "Natural sciences | Sciences\nArts | Arts",
        },
    )
    field.refresh_from_db()
    assert field.choices == [
        {"value": "science", "label_en": "Natural sciences", "label_fr": "Sciences"},
        {"value": "arts", "label_en": "Arts", "label_fr": "Arts"},
    ]


def test_a_bad_edit_is_refused_next_to_its_field_and_changes_nothing(admin_client, ecole):
    field = ecole.share_fields.get(key="intended_program")
    before = ShareField.objects.filter(pk=field.pk).values().get()

    response = admin_client.post(
        url("field_edit", ecole, field.pk),
        {"label_en": "Intended program", "label_fr": "", "choices": ""},
    )

    assert response.status_code == 400
    assert "This field is required." in errors_next_to(response, "label_fr")
    assert "A choice field needs at least one choice." in errors_next_to(response, "choices")
    assert ShareField.objects.filter(pk=field.pk).values().get() == before


def test_hostile_labels_are_shown_as_text(admin_client, learner_client, ecole):
    hostile = "<script>alert(1)</script>"
    admin_client.post(
        url("field_new", ecole),
        {
            "label_en": hostile,
            "label_fr": hostile,
            "help_en": hostile,
            "field_type": "choice",
            "choices": f"{hostile} | {hostile}",
        },
    )
    assert ShareField.objects.filter(organization=ecole, key="scriptalert1script").exists()
    field = ShareField.objects.get(organization=ecole, key="scriptalert1script")
    for response in (
        admin_client.get(url("fields", ecole)),
        admin_client.get(url("field_edit", ecole, field.pk)),
        learner_client.get(reverse("sharing:fields"), {"recipient": ecole.slug}),
    ):
        content = response.content.decode()
        assert "<script>" not in content
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


# Order, required, retired --------------------------------------------------------------------


def test_fields_move_up_and_down_and_positions_stay_contiguous(admin_client, learner_client, ecole):
    third = testing.make_share_field(ecole, "start_date", field_type="date", position=7)

    admin_client.post(url("field_move", ecole, third.pk), {"direction": "up"})
    assert field_order(ecole) == [
        ("application_number", 1),
        ("start_date", 2),
        ("intended_program", 3),
    ]
    admin_client.post(url("field_move", ecole, third.pk), {"direction": "up"})
    admin_client.post(url("field_move", ecole, third.pk), {"direction": "up"})  # already first
    assert field_order(ecole) == [
        ("start_date", 1),
        ("application_number", 2),
        ("intended_program", 3),
    ]
    last = ecole.share_fields.get(key="intended_program")
    response = admin_client.post(url("field_move", ecole, last.pk), {"direction": "down"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#field-{last.pk}")
    assert [key for key, _ in field_order(ecole)] == [
        "start_date",
        "application_number",
        "intended_program",
    ]

    text = text_of(admin_client.get(url("fields", ecole)))
    assert text.index("Start date") < text.index("Application number") < text.index("Intended")
    assert window_field_names(learner_client, ecole) == [
        "start_date",
        "application_number",
        "intended_program",
    ]


def test_a_bad_move_is_a_400_and_changes_nothing(admin_client, ecole):
    field = ecole.share_fields.get(key="application_number")
    before = field_order(ecole)

    response = admin_client.post(url("field_move", ecole, field.pk), {"direction": "sideways"})

    assert response.status_code == 400
    assert "That change was not understood; nothing changed." in text_of(response)
    assert field_order(ecole) == before


def test_a_field_is_made_optional_then_required_again(admin_client, learner_client, ecole):
    field = ecole.share_fields.get(key="application_number")
    fields = reverse("sharing:fields")

    admin_client.post(url("field_required", ecole, field.pk), {"value": "0"})
    field.refresh_from_db()
    assert not field.required
    fragment = text_of(learner_client.get(fields, {"recipient": ecole.slug}))
    assert "Application number *" not in fragment

    admin_client.post(url("field_required", ecole, field.pk), {"value": "1"})
    fragment = text_of(learner_client.get(fields, {"recipient": ecole.slug}))
    assert "Application number *" in fragment
    response = admin_client.post(url("field_required", ecole, field.pk), {"value": "yes"})
    assert response.status_code == 400
    assert ShareField.objects.get(pk=field.pk).required


def test_a_retired_field_is_no_longer_asked_but_past_shares_still_show_its_value(
    admin_client, learner_client, staff_client, ecole, zoe, zoe_transcript
):
    share = testing.share_with(
        zoe,
        [zoe_transcript],
        ecole,
        field_values={"application_number": "A-2026-77", "intended_program": "science"},
    )
    field = ecole.share_fields.get(key="application_number")

    response = admin_client.post(url("field_active", ecole, field.pk), {"value": "0"})

    assert response.status_code == 302
    field.refresh_from_db()
    assert not field.is_active
    fields_page = text_of(admin_client.get(url("fields", ecole)))
    assert "“Application number” is retired" in fields_page
    assert "Retired" in fields_page
    assert window_field_names(learner_client, ecole) == ["intended_program"]
    inbox = text_of(staff_client.get(reverse("inbox:share", args=[share.pk])))
    assert "Application number A-2026-77" in inbox
    assert "Intended program Sciences" in inbox

    admin_client.post(url("field_active", ecole, field.pk), {"value": "1"})
    assert window_field_names(learner_client, ecole) == [
        "application_number",
        "intended_program",
    ]


def test_a_share_made_after_a_required_field_is_retired_does_not_need_it(
    admin_client, learner_client, ecole, zoe, zoe_transcript
):
    field = ecole.share_fields.get(key="application_number")
    admin_client.post(url("field_active", ecole, field.pk), {"value": "0"})
    window = reverse("sharing:with_organization")
    page = learner_client.get(window, {"documents": zoe_transcript.pk}).content.decode()
    token = re.search(r'name="submission_token" value="([^"]+)"', page).group(1)

    response = learner_client.post(
        window,
        {
            "documents": [zoe_transcript.pk],
            "recipient": ecole.slug,
            "confirm_credit_use": "on",
            "submission_token": token,
            "field_application_number": "smuggled",
        },
    )

    assert response.status_code == 302
    share = zoe.shares.get()
    assert share.field_values == {}
