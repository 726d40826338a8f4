"""Who may use an organization's self-service pages: its administrators. Its staff get a page
saying so (403), anyone else a 404 (the pages do not confirm what exists), and anonymous
visitors are sent to sign in. The header links administrators to the pages."""

import pytest
from django.urls import reverse

from credshare.accounts.models import Invitation
from credshare.api.models import ApiKey
from credshare.api.services import api_key_create
from credshare.network.models import Membership, Organization, ShareField
from credshare.network.services import staff_invitation_send
from credshare.network.tests.conftest import text_of
from credshare.webhooks.models import WebhookDelivery, WebhookEndpoint
from credshare.webhooks.services import endpoint_create


@pytest.fixture
def things(ecole, camille, ecole_admin):
    """One of each thing the pages show, for École Imaginaire."""
    key, _full = api_key_create(
        organization=ecole, name="Admissions system", scopes=["shares:read"], by=ecole_admin
    )
    endpoint = endpoint_create(
        organization=ecole,
        url="https://hooks.ecole.example/credshare",
        events=["share.received"],
        by=ecole_admin,
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="share.received", payload={"id": "x"}
    )
    return {
        "slug": ecole.slug,
        "field": ecole.share_fields.get(key="application_number"),
        "key": key,
        "endpoint": endpoint,
        "delivery": delivery,
        "membership": Membership.objects.get(user=camille, organization=ecole),
        "invitation": staff_invitation_send(
            organization=ecole, email="invited@example.org", role="staff", by=ecole_admin
        ),
    }


def page_urls(t) -> list[str]:
    slug = t["slug"]
    endpoint = t["endpoint"].public_id
    return [
        reverse("network:profile", args=[slug]),
        reverse("network:fields", args=[slug]),
        reverse("network:field_new", args=[slug]),
        reverse("network:field_edit", args=[slug, t["field"].pk]),
        reverse("network:staff", args=[slug]),
        reverse("network:member_remove", args=[slug, t["membership"].pk]),
        reverse("network:keys", args=[slug]),
        reverse("network:key_new", args=[slug]),
        reverse("network:key_revoke", args=[slug, t["key"].public_id]),
        reverse("network:webhooks", args=[slug]),
        reverse("network:webhook_new", args=[slug]),
        reverse("network:webhook", args=[slug, endpoint]),
        reverse("network:webhook_edit", args=[slug, endpoint]),
        reverse("network:webhook_delete", args=[slug, endpoint]),
    ]


def changes(t) -> list[tuple[str, dict]]:
    """A valid post to every page that changes something."""
    slug = t["slug"]
    field, endpoint = t["field"].pk, t["endpoint"].public_id
    return [
        (reverse("network:profile", args=[slug]), {"name_en": "Taken", "name_fr": "Pris"}),
        (
            reverse("network:field_new", args=[slug]),
            {"label_en": "Taken", "label_fr": "Pris", "field_type": "text"},
        ),
        (
            reverse("network:field_edit", args=[slug, field]),
            {"label_en": "Taken", "label_fr": "Pris"},
        ),
        (reverse("network:field_move", args=[slug, field]), {"direction": "down"}),
        (reverse("network:field_required", args=[slug, field]), {"value": "0"}),
        (reverse("network:field_active", args=[slug, field]), {"value": "0"}),
        (
            reverse("network:member_invite", args=[slug]),
            {"email": "zoe@example.org", "role": "admin", "language": "en"},
        ),
        (reverse("network:invitation_revoke", args=[slug, t["invitation"].pk]), {}),
        (reverse("network:member_role", args=[slug, t["membership"].pk]), {"role": "admin"}),
        (reverse("network:member_remove", args=[slug, t["membership"].pk]), {}),
        (
            reverse("network:key_new", args=[slug]),
            {"name": "Taken", "scopes": ["shares:read"]},
        ),
        (reverse("network:key_revoke", args=[slug, t["key"].public_id]), {}),
        (
            reverse("network:webhook_new", args=[slug]),
            {"url": "https://taken.example/hook", "events": ["share.received"]},
        ),
        (
            reverse("network:webhook_edit", args=[slug, endpoint]),
            {"url": "https://taken.example/hook", "events": ["share.revoked"], "is_active": "on"},
        ),
        (reverse("network:webhook_rotate", args=[slug, endpoint]), {}),
        (reverse("network:webhook_delete", args=[slug, endpoint]), {}),
        (reverse("network:delivery_redeliver", args=[slug, t["delivery"].public_id]), {}),
    ]


def snapshot(t) -> dict:
    """What the posts above would change."""
    endpoint = WebhookEndpoint.objects.filter(pk=t["endpoint"].pk).values().first()
    return {
        "organization": Organization.objects.filter(slug=t["slug"]).values().get(),
        "fields": list(ShareField.objects.order_by("pk").values()),
        "members": list(Membership.objects.order_by("pk").values("user", "role")),
        "invitations": list(Invitation.objects.order_by("pk").values("email", "revoked_at")),
        "keys": list(ApiKey.objects.order_by("pk").values("name", "revoked_at")),
        "endpoint": endpoint,
        "endpoints": WebhookEndpoint.objects.count(),
        "deliveries": WebhookDelivery.objects.count(),
    }


def test_every_page_opens_for_an_administrator(client, ecole_admin, things):
    client.force_login(ecole_admin)
    for url in page_urls(things):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Ecole Imaginaire" in text_of(response)


def test_anonymous_visitors_are_sent_to_sign_in(client, things):
    for url in page_urls(things):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))
    before = snapshot(things)
    for url, data in changes(things):
        response = client.post(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))
    assert snapshot(things) == before


def test_staff_get_a_page_saying_only_administrators_may(client, camille, things):
    client.force_login(camille)
    for url in page_urls(things):
        response = client.get(url)
        assert response.status_code == 403, url
        text = text_of(response)
        assert "Administrators only" in text
        assert "Only an administrator of Ecole Imaginaire can manage" in text
        assert "admin@ecole.example" in text  # whom to ask
    before = snapshot(things)
    for url, data in changes(things):
        assert client.post(url, data).status_code == 403, url
    assert snapshot(things) == before


@pytest.mark.parametrize("who", ["acme_admin", "zoe"])
def test_another_organizations_admin_and_a_learner_get_404(client, request, things, who):
    client.force_login(request.getfixturevalue(who))
    for url in page_urls(things):
        assert client.get(url).status_code == 404, url
    before = snapshot(things)
    for url, data in changes(things):
        assert client.post(url, data).status_code == 404, url
    assert snapshot(things) == before


def test_an_admin_cannot_reach_another_organizations_things_through_its_own_pages(
    client, acme, acme_admin, things
):
    """Acme's admin, on Acme's pages, naming École's field, member, key, endpoint or
    delivery: 404, and nothing changes."""
    client.force_login(acme_admin)
    slug, t = acme.slug, things
    urls = [
        reverse("network:field_edit", args=[slug, t["field"].pk]),
        reverse("network:member_remove", args=[slug, t["membership"].pk]),
        reverse("network:key_revoke", args=[slug, t["key"].public_id]),
        reverse("network:webhook", args=[slug, t["endpoint"].public_id]),
        reverse("network:webhook_edit", args=[slug, t["endpoint"].public_id]),
        reverse("network:webhook_delete", args=[slug, t["endpoint"].public_id]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    before = snapshot(things)
    posts = [
        (reverse("network:field_active", args=[slug, t["field"].pk]), {"value": "0"}),
        (reverse("network:member_role", args=[slug, t["membership"].pk]), {"role": "admin"}),
        (reverse("network:member_remove", args=[slug, t["membership"].pk]), {}),
        (reverse("network:invitation_revoke", args=[slug, t["invitation"].pk]), {}),
        (reverse("network:key_revoke", args=[slug, t["key"].public_id]), {}),
        (reverse("network:webhook_rotate", args=[slug, t["endpoint"].public_id]), {}),
        (reverse("network:webhook_delete", args=[slug, t["endpoint"].public_id]), {}),
        (reverse("network:delivery_redeliver", args=[slug, t["delivery"].public_id]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert snapshot(things) == before


def test_an_unknown_organization_is_a_404(client, ecole_admin):
    client.force_login(ecole_admin)
    assert client.get(reverse("network:profile", args=["nowhere"])).status_code == 404


def test_the_share_fields_pages_are_for_receiving_organizations_only(client, university, uni_admin):
    client.force_login(uni_admin)
    assert client.get(reverse("network:profile", args=[university.slug])).status_code == 200
    page = client.get(reverse("network:profile", args=[university.slug])).content.decode()
    assert reverse("network:fields", args=[university.slug]) not in page
    assert client.get(reverse("network:fields", args=[university.slug])).status_code == 404


def test_the_header_links_administrators_to_their_organizations_settings(
    client, ecole, ecole_admin, camille
):
    client.force_login(ecole_admin)
    page = client.get(reverse("documents:list")).content.decode()
    assert f'href="{reverse("network:profile", args=[ecole.slug])}"' in page
    assert ">Organization settings<" in page
    client.force_login(camille)
    page = client.get(reverse("documents:list")).content.decode()
    assert reverse("network:profile", args=[ecole.slug]) not in page


def test_an_admin_of_two_organizations_gets_a_link_for_each(client, ecole, acme, ecole_admin):
    Membership.objects.create(user=ecole_admin, organization=acme, role="admin")
    client.force_login(ecole_admin)
    page = client.get(reverse("documents:list")).content.decode()
    assert f'href="{reverse("network:profile", args=[ecole.slug])}"' in page
    assert f'href="{reverse("network:profile", args=[acme.slug])}"' in page
    assert ">Acme settings<" in page
    assert ">Ecole Imaginaire settings<" in page


def test_a_page_answers_only_its_methods(client, ecole, ecole_admin):
    client.force_login(ecole_admin)
    assert client.put(reverse("network:profile", args=[ecole.slug])).status_code == 405
    assert client.get(reverse("network:member_invite", args=[ecole.slug])).status_code == 405
    assert client.get(reverse("network:invitation_revoke", args=[ecole.slug, 1])).status_code == 405


def test_the_staff_page_lists_members_with_their_roles_admins_first(
    client, ecole, ecole_admin, camille
):
    client.force_login(ecole_admin)
    response = client.get(reverse("network:staff", args=[ecole.slug]))
    text = text_of(response)
    assert text.index("admin@ecole.example") < text.index("camille@ecole.example")
    page = " ".join(response.content.decode().split())
    admin_row = page[page.index('id="member-') : page.index("camille@ecole.example")]
    assert '<option value="admin" selected>Administrator</option>' in admin_row
    camille_row = page[page.index("camille@ecole.example") :]
    assert '<option value="staff" selected>Staff</option>' in camille_row
