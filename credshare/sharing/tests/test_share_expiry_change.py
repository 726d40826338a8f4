"""From a share's page the learner moves or removes its expiry date; a past date, another
learner's share and a share that no longer works are refused. "My shares" and the share's
page say, for shares of every channel, how each was shared and with whom, without a query
per row."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from credshare.core import testing
from credshare.sharing.models import Share
from credshare.sharing.services import share_access_record, share_revoke
from credshare.sharing.tests.test_my_shares import row_of
from credshare.sharing.tests.test_share_window import element_text

IN_A_MONTH = timezone.localdate() + datetime.timedelta(days=30)
IN_A_YEAR = testing.days_from_today(365)


@pytest.fixture
def zoe_client(client, zoe):
    client.force_login(zoe)
    return client


@pytest.fixture
def link_share(zoe, zoe_transcript):
    share, _token = testing.share_by_link(zoe, [zoe_transcript], name="Lien", expires_on=IN_A_YEAR)
    return share


def change_expiry(client, share, expires_on: str):
    return client.post(reverse("sharing:expiry", args=[share.pk]), {"expires_on": expires_on})


def expires_on(share) -> datetime.date | None:
    share.refresh_from_db()
    return share.expires_on


# The form on the share's page


def test_the_share_page_offers_to_change_and_to_remove_the_expiry_date(zoe_client, link_share):
    response = zoe_client.get(reverse("sharing:detail", args=[link_share.pk]))

    page = response.content.decode()
    action = reverse("sharing:expiry", args=[link_share.pk])
    assert page.count(f'action="{action}"') == 2
    field = element_text(response, element_id="field-expires_on")
    assert "Expiry date" in field
    assert f'value="{IN_A_YEAR.isoformat()}"' in page
    assert "Save the expiry date" in page
    assert "Remove the expiry date" in page


def test_a_share_without_an_expiry_date_has_nothing_to_remove(zoe_client, zoe, zoe_transcript):
    share, _token = testing.share_by_link(zoe, [zoe_transcript])

    page = zoe_client.get(reverse("sharing:detail", args=[share.pk])).content.decode()

    assert "Save the expiry date" in page
    assert "Remove the expiry date" not in page


def test_a_revoked_share_page_offers_no_expiry_change(zoe_client, link_share):
    share_revoke(share=link_share)

    page = zoe_client.get(reverse("sharing:detail", args=[link_share.pk])).content.decode()

    assert reverse("sharing:expiry", args=[link_share.pk]) not in page


# Changing


def test_the_learner_moves_the_expiry_date(zoe_client, link_share):
    response = change_expiry(zoe_client, link_share, IN_A_MONTH.isoformat())

    assert response.status_code == 302
    assert response.url == reverse("sharing:detail", args=[link_share.pk])
    assert expires_on(link_share) == IN_A_MONTH
    page = zoe_client.get(response.url).content.decode()
    assert "The expiry date is changed." in page


def test_today_is_a_valid_new_expiry_date(zoe_client, link_share):
    response = change_expiry(zoe_client, link_share, timezone.localdate().isoformat())

    assert response.status_code == 302
    assert expires_on(link_share) == timezone.localdate()


def test_the_learner_removes_the_expiry_date(zoe_client, link_share):
    response = change_expiry(zoe_client, link_share, "")

    assert response.status_code == 302
    assert expires_on(link_share) is None
    assert "The share no longer expires." in zoe_client.get(response.url).content.decode()


def test_an_organization_shares_expiry_date_changes_too(zoe_client, zoe, zoe_transcript, ecole):
    share = testing.share_with(zoe, [zoe_transcript], ecole)

    assert change_expiry(zoe_client, share, IN_A_MONTH.isoformat()).status_code == 302
    assert expires_on(share) == IN_A_MONTH


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ((timezone.localdate() - datetime.timedelta(days=1)).isoformat(), "cannot be in the past"),
        ("2026-02-30", "Enter a valid date."),
        ("soon", "Enter a valid date."),
    ],
)
def test_a_bad_date_is_refused_next_to_the_field(zoe_client, link_share, value, message):
    response = change_expiry(zoe_client, link_share, value)

    assert response.status_code == 400
    assert message in element_text(response, element_id="field-expires_on")
    assert expires_on(link_share) == IN_A_YEAR


def test_another_learners_share_is_a_404(client, bob, link_share):
    client.force_login(bob)

    response = change_expiry(client, link_share, IN_A_MONTH.isoformat())

    assert response.status_code == 404
    assert expires_on(link_share) == IN_A_YEAR


def test_a_revoked_share_keeps_its_date_and_the_page_says_why(zoe_client, link_share):
    share_revoke(share=link_share)

    response = change_expiry(zoe_client, link_share, IN_A_MONTH.isoformat())

    assert response.status_code == 410
    assert "Only an active share can be changed." in element_text(response, css_class="form-errors")
    assert expires_on(link_share) == IN_A_YEAR


def test_an_expired_share_cannot_be_brought_back(zoe_client, link_share):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Share.objects.filter(pk=link_share.pk).update(expires_on=yesterday)

    response = change_expiry(zoe_client, link_share, IN_A_MONTH.isoformat())

    assert response.status_code == 410
    assert expires_on(link_share) == yesterday


def test_changing_the_expiry_date_needs_a_post(zoe_client, link_share):
    response = zoe_client.get(reverse("sharing:expiry", args=[link_share.pk]))

    assert response.status_code == 405


def test_an_anonymous_visitor_is_sent_to_sign_in(client, link_share):
    response = change_expiry(client, link_share, IN_A_MONTH.isoformat())

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert expires_on(link_share) == IN_A_YEAR


# How each share was shared, and with whom


@pytest.fixture
def shares_of_every_channel(zoe, university, zoe_transcript, ecole):
    testing.give_credits(zoe, university, 2)
    testing.share_with(zoe, [zoe_transcript], ecole, name="To the school")
    testing.share_by_email(
        zoe, [zoe_transcript], "RH@Stage.Example", name="To the internship", message="Hi"
    )
    testing.share_by_link(zoe, [zoe_transcript], name="To anyone")


def test_my_shares_says_how_each_share_was_shared_and_with_whom(
    zoe_client, shares_of_every_channel
):
    page = zoe_client.get(reverse("sharing:list")).content.decode()

    school = row_of(page, "To the school")
    assert "<td>With a participating organization</td>" in school
    assert "<td><bdi>Ecole Imaginaire</bdi></td>" in school
    internship = row_of(page, "To the internship")
    assert "<td>By email</td>" in internship
    assert "<td><bdi>rh@stage.example</bdi></td>" in internship
    anyone = row_of(page, "To anyone")
    assert "<td>By link</td>" in anyone
    assert "<td><bdi>Anyone with the link</bdi></td>" in anyone


@pytest.mark.parametrize(
    ("channel", "facts"),
    [
        (
            "email",
            [
                "<dt>Channel</dt><dd>By email</dd>",
                "<dt>Recipient</dt><dd><bdi>rh@stage.example</bdi></dd>",
                '<dt>Message</dt><dd class="message-text" dir="auto">Hi</dd>',
                "<dt>Language of the email</dt><dd>English</dd>",
            ],
        ),
        (
            "link",
            [
                "<dt>Channel</dt><dd>By link</dd>",
                "<dt>Recipient</dt><dd><bdi>Anyone with the link</bdi></dd>",
                "The link was shown once, when you made the share",
            ],
        ),
    ],
)
def test_a_shares_page_says_how_it_was_shared_and_with_whom(
    zoe_client, shares_of_every_channel, channel, facts
):
    share = Share.objects.get(channel=channel)

    page = zoe_client.get(reverse("sharing:detail", args=[share.pk])).content.decode()

    for fact in facts:
        assert fact in page


def test_the_access_log_names_the_email_recipient_and_the_link_visitor(
    zoe_client, shares_of_every_channel
):
    for share in Share.objects.exclude(channel=Share.Channel.ORGANIZATION):
        share_access_record(share=share, action="opened")
    email = Share.objects.get(channel=Share.Channel.EMAIL)
    link = Share.objects.get(channel=Share.Channel.LINK)

    email_page = zoe_client.get(reverse("sharing:detail", args=[email.pk])).content.decode()
    link_page = zoe_client.get(reverse("sharing:detail", args=[link.pk])).content.decode()

    assert "<td><bdi>rh@stage.example</bdi></td>" in email_page[email_page.index("Accesses") :]
    assert "<td><bdi>Link visitor</bdi></td>" in link_page[link_page.index("Accesses") :]


def add_shares_of_every_channel(zoe, university, ecole, count: int) -> None:
    testing.give_credits(zoe, university, 3 * count)
    for i in range(count):
        document = testing.make_document(zoe, university, f"Transcript {i}")
        organization_share = testing.share_with(zoe, [document], ecole, name=f"Row {i}")
        email_share = testing.share_by_email(zoe, [document], f"r{i}@example.org", name=f"Row {i}")
        link_share, _token = testing.share_by_link(zoe, [document], name=f"Row {i}")
        for share in (organization_share, email_share, link_share):
            share_access_record(share=share, action="opened")


def my_shares_queries(client, expected_rows: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("sharing:list"))
    assert response.status_code == 200
    assert response.content.decode().count("1 time<") == expected_rows
    return len(queries)


def test_my_shares_queries_do_not_grow_with_email_and_link_shares(
    zoe_client, zoe, university, ecole
):
    add_shares_of_every_channel(zoe, university, ecole, 1)
    for_three = my_shares_queries(zoe_client, 3)
    add_shares_of_every_channel(zoe, university, ecole, 4)
    for_fifteen = my_shares_queries(zoe_client, 15)

    assert for_three == for_fifteen
