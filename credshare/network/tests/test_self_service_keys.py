"""API keys, as an organization's administrators manage them: made with the permissions the
organization can give, shown once in full, then only by prefix; revoked after a
confirmation, after which the key no longer authenticates."""

import re

import pytest
from django.urls import reverse

from credshare.api.models import ApiKey
from credshare.api.services import api_key_authenticate, api_key_create
from credshare.network.tests.conftest import errors_next_to, text_of


def url(name, organization, *args):
    return reverse(f"network:{name}", args=[organization.slug, *args])


def key_shown(response) -> str:
    match = re.search(r'id="new-key" value="([^"]+)"', response.content.decode())
    assert match, "the page shows no new key"
    return match.group(1)


def test_a_new_key_is_shown_once_then_only_by_its_prefix(admin_client, ecole, ecole_admin):
    response = admin_client.post(
        url("key_new", ecole),
        {"name": "Admissions system", "scopes": ["shares:read", "documents:download"]},
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    full_text = key_shown(response)
    assert "it is shown only this once" in text_of(response)
    key = ApiKey.objects.get(organization=ecole)
    assert full_text.startswith(f"csk_{key.prefix}_")
    assert key.name == "Admissions system"
    assert key.scopes == ["documents:download", "shares:read"]
    assert key.created_by == ecole_admin
    assert api_key_authenticate(full_text) == key

    secret = full_text.rsplit("_", 1)[1]
    for page in (
        admin_client.get(url("keys", ecole)),
        admin_client.get(url("key_new", ecole)),
        admin_client.get(url("key_revoke", ecole, key.public_id)),
    ):
        assert secret not in page.content.decode()
    listing = text_of(admin_client.get(url("keys", ecole)))
    assert f"csk_{key.prefix}_…" in listing
    assert "Admissions system" in listing
    assert "shares:read" in listing
    assert secret not in str(dict(admin_client.session))


def test_the_list_shows_when_a_key_was_last_used(admin_client, ecole, ecole_admin):
    _key, full_text = api_key_create(
        organization=ecole, name="SIS", scopes=["shares:read"], by=ecole_admin
    )
    assert "Never" in text_of(admin_client.get(url("keys", ecole)))
    api_key_authenticate(full_text)
    assert "Never" not in text_of(admin_client.get(url("keys", ecole)))


def test_the_form_offers_only_the_permissions_the_organization_can_give(
    admin_client, client, ecole, university, uni_admin
):
    receiver_form = admin_client.get(url("key_new", ecole)).content.decode()
    assert 'value="shares:read"' in receiver_form
    assert 'value="documents:issue"' not in receiver_form
    client.force_login(uni_admin)
    issuer_form = client.get(url("key_new", university)).content.decode()
    assert 'value="documents:issue"' in issuer_form
    assert 'value="jobs:run"' in issuer_form
    assert 'value="shares:read"' not in issuer_form


def test_an_organization_that_issues_and_receives_can_give_both(admin_client, ecole):
    ecole.is_issuer = True
    ecole.save()
    form = admin_client.get(url("key_new", ecole)).content.decode()
    assert 'value="shares:read"' in form
    assert 'value="documents:withdraw"' in form


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "SIS"}, "scopes", "Choose at least one permission."),
        (
            {"name": "SIS", "scopes": ["documents:issue"]},
            "scopes",
            "This organization cannot grant that permission.",
        ),
        ({"name": "", "scopes": ["shares:read"]}, "name", "This field is required."),
        ({"name": "k" * 101, "scopes": ["shares:read"]}, "name", "at most 100 characters"),
    ],
)
def test_a_bad_key_is_refused_next_to_its_field(admin_client, ecole, data, field, message):
    response = admin_client.post(url("key_new", ecole), data)

    assert response.status_code == 400
    assert message in errors_next_to(response, field)
    assert 'id="new-key"' not in response.content.decode()
    assert not ApiKey.objects.exists()


def test_the_keys_page_links_to_the_api_documentation(admin_client, ecole):
    assert 'href="/api/v1/docs"' in admin_client.get(url("keys", ecole)).content.decode()


def test_a_revoked_key_no_longer_authenticates(admin_client, ecole, ecole_admin):
    key, full_text = api_key_create(
        organization=ecole, name="Old SIS", scopes=["shares:read"], by=ecole_admin
    )
    confirm = admin_client.get(url("key_revoke", ecole, key.public_id))
    assert "Revoke the key “Old SIS”?" in text_of(confirm)
    assert api_key_authenticate(full_text) == key  # asking changes nothing

    response = admin_client.post(url("key_revoke", ecole, key.public_id))

    assert response.status_code == 302
    assert api_key_authenticate(full_text) is None
    listing = text_of(admin_client.get(response["Location"]))
    assert "The key “Old SIS” is revoked." in listing
    assert "Revoked" in listing
    assert (
        url("key_revoke", ecole, key.public_id)
        not in admin_client.get(url("keys", ecole)).content.decode()
    )


def test_hostile_key_names_are_shown_as_text(admin_client, ecole):
    response = admin_client.post(
        url("key_new", ecole), {"name": "<script>x()</script>", "scopes": ["shares:read"]}
    )
    for page in (response, admin_client.get(url("keys", ecole))):
        assert "<script>x()</script>" not in page.content.decode()
        assert "&lt;script&gt;x()&lt;/script&gt;" in page.content.decode()
