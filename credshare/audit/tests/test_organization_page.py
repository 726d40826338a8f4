"""An organization's administrators read its audit log under its settings: its own
entries only, newest first, a page at a time, in a fixed number of queries."""

import re

from django.urls import reverse

from credshare.api.services import api_key_create
from credshare.audit.models import Event
from credshare.audit.views import PAGE_SIZE
from credshare.core import testing

# The session, the user, the membership with its organization, the count, the header's
# organizations (its links), the page of entries with their users.
AUDIT_PAGE_QUERIES = 6


def audit_url(organization) -> str:
    return reverse("audit:organization", args=[organization.slug])


def listed_sequences(response) -> list[int]:
    return [int(number) for number in re.findall(r'id="entry-(\d+)"', response.content.decode())]


def make_keys(organization, count: int, by=None) -> None:
    for number in range(count):
        api_key_create(
            organization=organization, name=f"key {number}", scopes=["shares:read"], by=by
        )


def test_the_page_lists_only_the_organizations_own_entries_newest_first(
    admin_client, ecole, ecole_admin, acme, zoe, zoe_transcript
):
    share = testing.share_with(zoe, [zoe_transcript], ecole, reference="A-1")
    make_keys(ecole, 1, by=ecole_admin)
    admin_client.post(
        reverse("network:key_new", args=[ecole.slug]), {"name": "key 1", "scopes": ["shares:read"]}
    )
    make_keys(acme, 2)

    response = admin_client.get(audit_url(ecole))

    assert response.status_code == 200
    page = response.context["page"]
    shown = list(page.object_list)
    assert all(ecole.pk in entry.organization_ids for entry in shown)
    assert [entry.event for entry in shown] == [
        Event.API_KEY_CREATED,
        Event.API_KEY_CREATED,
        Event.SHARE_CREATED,
        Event.SIGNED_IN,  # the administrator's own sign-in (force_login)
    ]
    assert listed_sequences(response) == sorted(listed_sequences(response), reverse=True)
    text = response.content.decode()
    assert str(share.public_id) in text
    assert "API key created" in text and ecole_admin.email in text
    assert "127.0.0.1" in text
    assert "key 0" in text and "key 1" in text


def test_another_organizations_administrator_gets_404(client, ecole, acme_admin):
    client.force_login(acme_admin)

    assert client.get(audit_url(ecole)).status_code == 404


def test_the_organizations_staff_get_a_page_saying_why_not(client, ecole, camille):
    client.force_login(camille)

    response = client.get(audit_url(ecole))

    assert response.status_code == 403
    assert "Audit log" not in response.content.decode()


def test_a_visitor_is_sent_to_sign_in(client, ecole):
    response = client.get(audit_url(ecole))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_settings_navigation_leads_to_the_audit_log(admin_client, ecole):
    response = admin_client.get(reverse("network:profile", args=[ecole.slug]))

    assert f'href="{audit_url(ecole)}"' in response.content.decode()


def test_a_page_of_entries_takes_a_fixed_number_of_queries(
    admin_client, ecole, ecole_admin, django_assert_num_queries
):
    url = audit_url(ecole)
    with django_assert_num_queries(AUDIT_PAGE_QUERIES):
        one = admin_client.get(url)
    make_keys(ecole, PAGE_SIZE + 5, by=ecole_admin)

    with django_assert_num_queries(AUDIT_PAGE_QUERIES):
        first = admin_client.get(url)
    with django_assert_num_queries(AUDIT_PAGE_QUERIES):
        second = admin_client.get(url, {"page": 2})

    assert len(listed_sequences(one)) == 1  # the administrator's sign-in
    assert len(listed_sequences(first)) == PAGE_SIZE
    assert len(listed_sequences(second)) == 1 + PAGE_SIZE + 5 - PAGE_SIZE
    assert min(listed_sequences(first)) > max(listed_sequences(second))
    assert "Page 2 of 2" in second.content.decode()
