"""The learner's "My shares": the list, a share's access log, and revoking; and what the
recipient gets once a share is revoked or expired."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from credshare.core import testing
from credshare.sharing.models import Share, ShareAccess
from credshare.sharing.services import share_access_record

REVOKED_MESSAGE = "The learner revoked this share."
EXPIRED_MESSAGE = "This share has expired"


def expire(share: Share) -> None:
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Share.objects.filter(pk=share.pk).update(expires_on=yesterday)


def served_bytes(response) -> bytes:
    """The body of a file response. Reading it to the end closes the response (and its
    file) as a WSGI server would."""
    return b"".join(response.streaming_content)


@pytest.fixture
def zoe_share(zoe, zoe_transcript, ecole):
    return testing.share_with(
        zoe,
        [zoe_transcript],
        ecole,
        name="Partage001",
        purpose="Demande d'admission",
        reference="Réf1234",
        field_values={"application_number": "A-77"},
        expires_on=testing.days_from_today(365),
    )


@pytest.fixture
def zoe_client(client, zoe):
    client.force_login(zoe)
    return client


def row_of(page: str, marker: str) -> str:
    """The table row of PAGE that contains MARKER."""
    start = page.rindex("<tr>", 0, page.index(marker))
    return page[start : page.index("</tr>", start)]


# The list


def test_my_shares_lists_name_purpose_recipient_reference_documents_and_expiry(
    zoe_client, zoe_share
):
    response = zoe_client.get(reverse("sharing:list"))

    assert response.status_code == 200
    row = row_of(response.content.decode(), "Partage001")
    assert "Demande d&#x27;admission" in row
    assert "Ecole Imaginaire" in row
    assert "Réf1234" in row
    assert "Official transcript" in row
    with translation.override("en"):
        assert date_format(testing.days_from_today(365)) in row
    assert "Active" in row
    assert reverse("sharing:detail", args=[zoe_share.pk]) in row


def test_my_shares_lists_every_document_of_a_share(zoe_client, zoe, university, ecole):
    transcript = testing.make_document(zoe, university, "Official transcript")
    diploma = testing.make_document(zoe, university, "Bachelor diploma")
    testing.share_with(zoe, [transcript, diploma], ecole, name="Two documents")

    row = row_of(zoe_client.get(reverse("sharing:list")).content.decode(), "Two documents")

    assert "Official transcript" in row
    assert "Bachelor diploma" in row


def test_my_shares_says_never_for_a_share_without_expiry(zoe_client, zoe, zoe_transcript, ecole):
    testing.share_with(zoe, [zoe_transcript], ecole, name="Open-ended")

    row = row_of(zoe_client.get(reverse("sharing:list")).content.decode(), "Open-ended")

    assert "Never" in row


def test_my_shares_shows_expired_and_revoked_shares_as_such(
    zoe_client, zoe, zoe_transcript, ecole, university
):
    testing.give_credits(zoe, university, 2)
    testing.share_with(zoe, [zoe_transcript], ecole, name="Still active")
    expired = testing.share_with(zoe, [zoe_transcript], ecole, name="Past its date")
    revoked = testing.share_with(zoe, [zoe_transcript], ecole, name="Taken back")
    expire(expired)
    zoe_client.post(reverse("sharing:revoke", args=[revoked.pk]))

    page = zoe_client.get(reverse("sharing:list")).content.decode()

    assert 'class="status status-active">Active<' in row_of(page, "Still active")
    assert 'class="status status-expired">Expired<' in row_of(page, "Past its date")
    assert 'class="status status-revoked">Revoked<' in row_of(page, "Taken back")


def test_my_shares_counts_the_times_a_share_was_opened_and_not_the_other_accesses(
    zoe_client, zoe_share, ecole, camille, zoe_transcript
):
    for action in ("opened", "opened", "viewed", "downloaded", "opened"):
        share_access_record(
            share=zoe_share,
            action=action,
            user=camille,
            organization=ecole,
            document=None if action == "opened" else zoe_transcript,
        )

    row = row_of(zoe_client.get(reverse("sharing:list")).content.decode(), "Partage001")

    assert "3 times" in row


def test_my_shares_counts_a_share_opened_by_its_recipient(client, zoe, zoe_share, camille):
    client.force_login(camille)
    client.get(reverse("inbox:share", args=[zoe_share.pk]))
    client.force_login(zoe)

    row = row_of(client.get(reverse("sharing:list")).content.decode(), "Partage001")

    assert "1 time<" in row


def test_my_shares_shows_only_the_learners_own_shares(client, zoe_share, bob):
    client.force_login(bob)

    response = client.get(reverse("sharing:list"))

    assert response.status_code == 200
    assert "Partage001" not in response.content.decode()
    assert "You have not shared any document yet." in response.content.decode()


def test_my_shares_sends_an_anonymous_visitor_to_sign_in(client, zoe_share):
    response = client.get(reverse("sharing:list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# A share's page and its access log


def test_share_page_shows_who_opened_viewed_and_downloaded_it(
    client, zoe, zoe_share, zoe_transcript, camille
):
    client.force_login(camille)
    client.get(reverse("inbox:share", args=[zoe_share.pk]))
    served_bytes(client.get(reverse("inbox:view", args=[zoe_share.pk, zoe_transcript.pk])))
    served_bytes(client.get(reverse("inbox:download", args=[zoe_share.pk, zoe_transcript.pk])))
    client.force_login(zoe)

    response = client.get(reverse("sharing:detail", args=[zoe_share.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    log = page[page.index("Accesses") :]
    assert log.count("Ecole Imaginaire (Camille Tremblay)") == 3
    assert "Opened" in log
    assert "Viewed — <bdi>Official transcript</bdi>" in log
    assert "Downloaded — <bdi>Official transcript</bdi>" in log


def test_share_page_shows_the_share_details_to_its_owner(zoe_client, zoe_share):
    page = zoe_client.get(reverse("sharing:detail", args=[zoe_share.pk])).content.decode()

    assert "Partage001" in page
    assert "Demande d&#x27;admission" in page
    assert "Réf1234" in page
    assert "A-77" in page
    assert "Nobody has opened this share yet." in page


def test_another_learners_share_page_is_not_found(client, zoe_share, bob):
    client.force_login(bob)

    assert client.get(reverse("sharing:detail", args=[zoe_share.pk])).status_code == 404


# Revoking


def test_revoke_is_refused_on_get(zoe_client, zoe_share):
    response = zoe_client.get(reverse("sharing:revoke", args=[zoe_share.pk]))

    assert response.status_code == 405
    zoe_share.refresh_from_db()
    assert zoe_share.revoked_at is None


def test_another_learner_cannot_revoke_a_share(client, zoe_share, bob):
    client.force_login(bob)

    response = client.post(reverse("sharing:revoke", args=[zoe_share.pk]))

    assert response.status_code == 404
    zoe_share.refresh_from_db()
    assert zoe_share.revoked_at is None


def test_owner_revokes_a_share_and_sees_it_revoked(zoe_client, zoe_share):
    response = zoe_client.post(reverse("sharing:revoke", args=[zoe_share.pk]), follow=True)

    assert response.redirect_chain == [(reverse("sharing:detail", args=[zoe_share.pk]), 302)]
    page = response.content.decode()
    assert "The share is revoked: its recipient no longer has access." in page
    assert 'class="status status-revoked">Revoked<' in page
    assert "Revoke this share" not in page
    zoe_share.refresh_from_db()
    assert zoe_share.revoked_at is not None


def test_revoking_twice_keeps_the_first_revocation_time(zoe_client, zoe_share):
    zoe_client.post(reverse("sharing:revoke", args=[zoe_share.pk]))
    zoe_share.refresh_from_db()
    first = zoe_share.revoked_at

    zoe_client.post(reverse("sharing:revoke", args=[zoe_share.pk]))

    zoe_share.refresh_from_db()
    assert zoe_share.revoked_at == first


@pytest.mark.parametrize("url_name", ["inbox:share", "inbox:view", "inbox:download"])
def test_recipient_gets_gone_after_the_share_is_revoked_and_nothing_is_recorded(
    client, zoe, zoe_share, zoe_transcript, camille, url_name
):
    client.force_login(zoe)
    client.post(reverse("sharing:revoke", args=[zoe_share.pk]))
    client.force_login(camille)
    args = [zoe_share.pk] if url_name == "inbox:share" else [zoe_share.pk, zoe_transcript.pk]

    response = client.get(reverse(url_name, args=args))

    assert response.status_code == 410
    assert response["Content-Type"].startswith("text/html")
    assert REVOKED_MESSAGE in response.content.decode()
    assert EXPIRED_MESSAGE not in response.content.decode()
    assert not ShareAccess.objects.filter(share=zoe_share).exists()


@pytest.mark.parametrize("url_name", ["inbox:share", "inbox:view", "inbox:download"])
def test_recipient_gets_gone_once_the_share_expired_and_nothing_is_recorded(
    client, zoe_share, zoe_transcript, camille, url_name
):
    expire(zoe_share)
    client.force_login(camille)
    args = [zoe_share.pk] if url_name == "inbox:share" else [zoe_share.pk, zoe_transcript.pk]

    response = client.get(reverse(url_name, args=args))

    assert response.status_code == 410
    assert response["Content-Type"].startswith("text/html")
    assert EXPIRED_MESSAGE in response.content.decode()
    assert REVOKED_MESSAGE not in response.content.decode()
    assert not ShareAccess.objects.filter(share=zoe_share).exists()


def test_a_share_expiring_today_still_works_for_the_recipient(client, zoe_share, camille):
    Share.objects.filter(pk=zoe_share.pk).update(expires_on=timezone.localdate())
    client.force_login(camille)

    response = client.get(reverse("inbox:share", args=[zoe_share.pk]))

    assert response.status_code == 200


def test_recipient_keeps_access_until_the_share_is_revoked(client, zoe, zoe_share, camille):
    client.force_login(camille)
    before = client.get(reverse("inbox:share", args=[zoe_share.pk]))
    client.force_login(zoe)
    client.post(reverse("sharing:revoke", args=[zoe_share.pk]))
    client.force_login(camille)

    after = client.get(reverse("inbox:share", args=[zoe_share.pk]))

    assert (before.status_code, after.status_code) == (200, 410)
    assert ShareAccess.objects.filter(share=zoe_share).count() == 1
