"""A document whose collection fee is unpaid: its title shows, its contents and sharing stay
locked; a learner without shares left sees "Share" greyed and "More shares"."""

import uuid

import pytest
from django.urls import reverse

from credshare.billing.providers import SandboxProvider
from credshare.billing.services import payment_event_apply, purchase_start
from credshare.core import testing
from credshare.sharing.models import Share
from credshare.sharing.services import ShareError, share_create_with_organization


@pytest.fixture
def zoe_client(client, zoe):
    client.force_login(zoe)
    return client


@pytest.fixture
def locked(zoe, university):
    testing.set_fee_policy(university, collection_fee_cents=1500)
    return testing.make_document(zoe, university, "Diploma of arts")


def pay(zoe, document):
    purchase = purchase_start(learner=zoe, provider="sandbox", document=document)
    event = SandboxProvider.button_event(purchase=purchase, kind="completed")
    payment_event_apply(provider="sandbox", event=event)


def test_a_locked_document_shows_its_title_but_no_pdf_and_pay_instead_of_share(zoe_client, locked):
    response = zoe_client.get(reverse("documents:detail", args=[locked.pk]))

    page = response.content.decode()
    assert "Diploma of arts" in page and "Example University" in page
    assert reverse("documents:view", args=[locked.pk]) not in page
    assert reverse("documents:download", args=[locked.pk]) not in page
    assert reverse("billing:pay_collection", args=[locked.pk]) in page
    assert ">Pay<" in page
    assert reverse("sharing:start") not in page


@pytest.mark.parametrize("url_name", ["documents:view", "documents:download"])
def test_a_locked_documents_pdf_is_refused_with_a_clear_page(zoe_client, locked, url_name):
    response = zoe_client.get(reverse(url_name, args=[locked.pk]))

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "This document is locked" in page
    assert reverse("billing:pay_collection", args=[locked.pk]) in page


def test_the_documents_list_offers_pay_and_no_checkbox_for_a_locked_document(
    zoe, zoe_client, locked, free_college
):
    free = testing.make_document(zoe, free_college, "First aid")

    page = zoe_client.get(reverse("documents:list")).content.decode()

    assert reverse("billing:pay_collection", args=[locked.pk]) in page
    assert f'value="{locked.pk}"' not in page
    assert f'value="{free.pk}"' in page
    assert reverse("billing:pay_collection", args=[free.pk]) not in page


def test_the_share_window_refuses_a_locked_document(zoe_client, locked):
    start = zoe_client.get(f"{reverse('sharing:start')}?documents={locked.pk}")
    assert "pay it to view and share" in start.content.decode()
    assert 'name="channel"' not in start.content.decode()

    window = zoe_client.get(f"{reverse('sharing:with_organization')}?documents={locked.pk}")
    assert window.status_code == 302
    assert window["Location"].startswith(reverse("sharing:start"))


def test_the_share_service_refuses_a_locked_document(zoe, ecole, locked):
    with pytest.raises(ShareError) as caught:
        share_create_with_organization(
            owner=zoe,
            document_ids=[locked.pk],
            recipient=ecole,
            submission_token=uuid.uuid4(),
            confirmed_credit_use=True,
            field_values={"application_number": "A-1"},
        )
    assert caught.value.code == "document_locked"
    assert not Share.objects.exists()


def test_after_paying_the_document_shows_its_pdf_and_can_be_shared(zoe, zoe_client, ecole, locked):
    pay(zoe, locked)

    page = zoe_client.get(reverse("documents:detail", args=[locked.pk])).content.decode()
    assert reverse("documents:view", args=[locked.pk]) in page
    assert f"{reverse('sharing:start')}?documents={locked.pk}" in page
    assert zoe_client.get(reverse("documents:download", args=[locked.pk])).status_code == 200
    share = testing.share_with(zoe, [locked], ecole, field_values={"application_number": "A-1"})
    assert share.pk


def test_no_share_left_greys_share_and_offers_more_shares(zoe, zoe_client, ecole, university):
    document = testing.make_document(zoe, university, "Transcript")
    testing.share_with(zoe, [document], ecole, field_values={"application_number": "A-1"})

    detail = zoe_client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    more_shares = reverse("billing:buy_shares", args=[university.slug])
    assert 'disabled aria-describedby="share-blocked"' in detail
    assert "You have no shares left" in detail
    assert more_shares in detail and "More shares" in detail

    listing = zoe_client.get(reverse("documents:list")).content.decode()
    assert more_shares in listing
    assert "0 shares left" in listing


def test_with_a_share_left_share_is_a_link_and_more_shares_is_offered(
    zoe_client, zoe_transcript, university
):
    detail = zoe_client.get(reverse("documents:detail", args=[zoe_transcript.pk])).content.decode()

    assert f"{reverse('sharing:start')}?documents={zoe_transcript.pk}" in detail
    assert reverse("billing:buy_shares", args=[university.slug]) in detail


def test_a_free_issuers_document_offers_no_more_shares(zoe, zoe_client, free_college):
    document = testing.make_document(zoe, free_college, "First aid")

    detail = zoe_client.get(reverse("documents:detail", args=[document.pk])).content.decode()

    assert "More shares" not in detail


def test_the_documents_page_makes_no_query_per_locked_document(zoe, zoe_client, locked):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert zoe_client.get(reverse("documents:list")).status_code == 200
        return len(queries)

    for_one = count()
    for i in range(9):
        testing.make_document(zoe, locked.issuer, f"Locked {i}")
    pay(zoe, locked)

    assert count() == for_one
