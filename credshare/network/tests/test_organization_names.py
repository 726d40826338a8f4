"""Organization names are unique as people read them, and new organizations reach the
directory only once the platform approves them (issue 14: a receiving organization renamed
itself to another's name and the directory showed two)."""

import re
import unicodedata
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from credshare.accounts.models import User
from credshare.core import testing
from credshare.network.models import Organization
from credshare.network.names import name_key
from credshare.network.tests.conftest import errors_next_to, text_of
from credshare.sharing.forms import participating_organizations
from credshare.sharing.models import Share
from credshare.sharing.services import ShareError, share_create_with_organization

TAKEN = "Another organization already has this name"
ECOLE_EN = "École Imaginaire"
ECOLE_FR = "École Imaginaire (Québec)"

# How the reviewer (or an impersonator) may spell the name École Imaginaire already has.
VARIANTS = [
    pytest.param(unicodedata.normalize("NFC", ECOLE_EN), id="the same, composed (NFC)"),
    pytest.param(unicodedata.normalize("NFD", ECOLE_EN), id="decomposed accents (NFD)"),
    pytest.param("ecole imaginaire", id="no capitals, no accents"),
    pytest.param("ÉCOLE  IMAGINAIRE", id="capitals and two spaces"),
    pytest.param("  École\tImaginaire  ", id="a tab and outer spaces"),
    pytest.param("École\u00a0Imaginaire", id="no-break space"),
    pytest.param("École Imag\u200binaire", id="a zero-width space inside"),
    pytest.param("Ｅｃｏｌｅ Ｉｍａｇｉｎａｉｒｅ", id="full-width letters"),
    pytest.param("École-Imaginaire.", id="punctuation"),
    pytest.param(unicodedata.normalize("NFD", "ÉCOLE IMAGINAIRE (QUÉBEC)"), id="the French name"),
]


@pytest.fixture
def ecole_named(ecole):
    ecole.name_en, ecole.name_fr = ECOLE_EN, ECOLE_FR
    ecole.save()
    return ecole


def platform_admin_client() -> Client:
    client = Client()
    admin = User.objects.create_superuser("root@credshare.example", testing.PASSWORD)
    testing.enrol_totp(admin)  # the admin needs a session with its second factor
    client.force_login(admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def acme_client(acme_admin):
    client = Client()
    client.force_login(acme_admin)
    return client


def profile(organization, **changes) -> dict:
    values = {
        "name_en": organization.name_en,
        "name_fr": organization.name_fr,
        "description_en": organization.description_en,
        "description_fr": organization.description_fr,
        "website": "",
        "contact_email": "",
    }
    return {**values, **changes}


def directory_names(client, document) -> list[str]:
    """The organizations the share window offers, as the learner reads them."""
    response = client.get(reverse("sharing:with_organization"), {"documents": [document.pk]})
    return re.findall(
        r'<label for="id_recipient_\d+"><strong>(?:<bdi>)?([^<]+)(?:</bdi>)?</strong>',
        response.content.decode(),
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_spelling_of_a_name_has_its_key(variant):
    assert name_key(variant) in (name_key(ECOLE_EN), name_key(ECOLE_FR))


@pytest.mark.parametrize("other", ["École Imaginaire du Nord", "Ecole Imaginaria", "Imaginaire"])
def test_other_names_have_other_keys(other):
    assert name_key(other) != name_key(ECOLE_EN)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("field", ["name_en", "name_fr"])
def test_a_rename_into_another_organizations_name_is_refused(
    acme_client, acme, ecole_named, variant, field
):
    before = Organization.objects.values_list("name_en", "name_fr", "approved_at").get(pk=acme.pk)

    response = acme_client.post(
        reverse("network:profile", args=[acme.slug]),
        profile(acme, description_en=ecole_named.description_en, **{field: variant}),
    )

    assert response.status_code == 400
    assert TAKEN in errors_next_to(response, field)
    after = Organization.objects.values_list("name_en", "name_fr", "approved_at").get(pk=acme.pk)
    assert after == before


def test_a_name_of_only_punctuation_is_refused(acme_client, acme):
    response = acme_client.post(
        reverse("network:profile", args=[acme.slug]), profile(acme, name_en=" -- . ")
    )

    assert response.status_code == 400
    assert "Enter the name in English." in errors_next_to(response, "name_en")


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_database_refuses_a_second_organization_with_the_name(ecole_named, variant):
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.create(slug="impostor", name_en=variant, name_fr=variant)


def test_the_platform_admin_is_refused_a_taken_name_too(ecole_named, db):
    client = platform_admin_client()

    response = client.post(
        reverse("admin:network_organization_add"),
        {
            "slug": "impostor",
            "name_en": "ECOLE IMAGINAIRE",
            "name_fr": "Autre nom",
            "primary_color": "#000000",
            "accent_color": "#000000",
            "share_fields-TOTAL_FORMS": "0",
            "share_fields-INITIAL_FORMS": "0",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert TAKEN in text_of(response)
    assert not Organization.objects.filter(slug="impostor").exists()


def test_a_new_name_leaves_the_directory_until_the_platform_approves_it(
    acme_client, acme, ecole_named, zoe, zoe_transcript
):
    learner = Client()
    learner.force_login(zoe)
    assert "Acme" in directory_names(learner, zoe_transcript)

    response = acme_client.post(
        reverse("network:profile", args=[acme.slug]),
        profile(acme, name_en="Acme Hiring", name_fr="Acme Embauche"),
        follow=True,
    )

    assert "until it is approved, the organization is not in the directory" in text_of(response)
    assert "Acme Hiring" not in directory_names(learner, zoe_transcript)
    acme.refresh_from_db()
    assert not acme.is_approved
    Organization.objects.filter(pk=acme.pk).update(approved_at=ecole_named.approved_at)
    assert "Acme Hiring" in directory_names(learner, zoe_transcript)


def test_a_new_spelling_of_the_same_name_keeps_the_approval(acme_client, acme):
    acme_client.post(
        reverse("network:profile", args=[acme.slug]),
        profile(acme, name_en=acme.name_en.upper(), description_en="New words"),
    )

    acme.refresh_from_db()
    assert acme.description_en == "New words"
    assert acme.is_approved


def test_a_new_organization_is_not_offered_until_approved(zoe, zoe_transcript, ecole, db):
    waiting = testing.make_organization("new-receiver", receiver=True, approved=False)
    learner = Client()
    learner.force_login(zoe)

    assert "New Receiver" not in directory_names(learner, zoe_transcript)
    assert waiting not in participating_organizations()
    with pytest.raises(ShareError) as refused:
        share_create_with_organization(
            owner=zoe,
            document_ids=[zoe_transcript.pk],
            recipient=waiting,
            submission_token=uuid.uuid4(),
            confirmed_credit_use=True,
        )
    assert refused.value.code == "recipient_not_participating"
    assert not Share.objects.exists()


def test_the_platform_admin_approves_from_the_list(zoe, zoe_transcript, ecole, db):
    waiting = testing.make_organization("new-receiver", receiver=True, approved=False)
    client = platform_admin_client()
    pending = client.get(reverse("admin:network_organization_changelist"), {"approved": "no"})
    assert "New Receiver" in text_of(pending)
    assert "Ecole Imaginaire" not in text_of(pending)

    response = client.post(
        reverse("admin:network_organization_changelist"),
        {"action": "approve", "_selected_action": [waiting.pk, ecole.pk]},
        follow=True,
    )

    assert "1 organization approved." in text_of(response)
    learner = Client()
    learner.force_login(zoe)
    assert "New Receiver" in directory_names(learner, zoe_transcript)


def test_the_demo_network_is_approved_and_listed(db):
    call_command("seed_demo", verbosity=0)

    listed = set(participating_organizations().values_list("slug", flat=True))
    assert "ecole-imaginaire" in listed
    assert "hidden-registry" not in listed  # the demo's unlisted one stays out
    assert not Organization.objects.filter(approved_at=None).exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_approves_existing_organizations_but_not_a_copy_of_a_name():
    before, after = (
        [("network", "0002_organization_branding")],
        [("network", "0004_organization_name_keys_unique")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps.get_model("network", "Organization")
        old.objects.create(slug="ecole", name_en="École Imaginaire", name_fr="École Imaginaire")
        old.objects.create(slug="copy", name_en="ECOLE  IMAGINAIRE", name_fr="Autre")
        old.objects.create(slug="other", name_en="Other School", name_fr="Autre école")

        executor.loader.build_graph()
        executor.migrate(after)
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    rows = Organization.objects.order_by("slug").values_list("slug", "name_key_en", "approved_at")
    keys = {slug: key for slug, key, _approved in rows}
    approved = {slug for slug, _key, approved_at in rows if approved_at is not None}
    assert approved == {"ecole", "other"}
    assert keys["ecole"] == "ecole imaginaire"
    assert keys["copy"].startswith("ecole imaginaire #")
