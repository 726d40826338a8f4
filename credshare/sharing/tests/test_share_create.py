"""The service that shares a learner's documents with a participating organization: what it
creates, what it spends, and what it refuses (nothing created, no credit used)."""

import datetime
import uuid

import pytest
from django.utils import timezone

from credshare.billing.models import CreditEntry
from credshare.billing.selectors import credit_balances
from credshare.core import testing
from credshare.documents.models import Document
from credshare.sharing.models import Share
from credshare.sharing.services import ShareError, share_create_with_organization


def balance(learner, issuer) -> int:
    return credit_balances(learner=learner, issuer_ids=[issuer.pk])[issuer.pk]


@pytest.fixture
def other_college(db):
    """A second issuer that charges one credit a share."""
    return testing.make_organization("other-college", issuer=True, sharing_is_free=False)


@pytest.fixture
def zoe_diploma(zoe, other_college):
    testing.give_credits(zoe, other_college, 1)
    return testing.make_document(zoe, other_college, "Diploma", document_type=Document.Type.DIPLOMA)


@pytest.fixture
def zoe_free_certificate(zoe, free_college):
    return testing.make_document(
        zoe, free_college, "Free certificate", document_type=Document.Type.CERTIFICATE
    )


@pytest.fixture
def share_for(ecole):
    """Call the service with the arguments of a valid share, overridden by the test's."""

    def share_for(owner, documents, **overrides):
        arguments = {
            "owner": owner,
            "document_ids": [document.pk for document in documents],
            "recipient": ecole,
            "submission_token": uuid.uuid4(),
            "confirmed_credit_use": True,
        }
        arguments.update(overrides)
        return share_create_with_organization(**arguments)

    return share_for


def assert_nothing_happened(learner, issuer, balance_before=1):
    assert not Share.objects.exists()
    assert not CreditEntry.objects.filter(kind=CreditEntry.Kind.SPEND).exists()
    assert balance(learner, issuer) == balance_before


# What a share holds


def test_it_creates_a_share_with_the_documents_reference_field_values_and_expiry(
    zoe, zoe_transcript, ecole
):
    expires_on = timezone.localdate() + datetime.timedelta(days=30)
    token = uuid.uuid4()

    share = share_create_with_organization(
        owner=zoe,
        document_ids=[zoe_transcript.pk],
        recipient=ecole,
        submission_token=token,
        name="Partage001",
        purpose="Demande d'admission",
        reference="Réf1234",
        field_values={"application_number": "A-77", "intended_program": "science"},
        expires_on=expires_on,
        confirmed_credit_use=True,
    )

    share = Share.objects.get(pk=share.pk)
    assert share.owner == zoe
    assert share.channel == Share.Channel.ORGANIZATION
    assert share.recipient_organization == ecole
    assert list(share.documents.all()) == [zoe_transcript]
    assert share.name == "Partage001"
    assert share.purpose == "Demande d'admission"
    assert share.reference == "Réf1234"
    assert share.field_values == {"application_number": "A-77", "intended_program": "science"}
    assert share.expires_on == expires_on
    assert share.submission_token == token
    assert share.revoked_at is None
    assert share.state == Share.State.ACTIVE


def test_a_share_without_an_expiry_date_never_expires(zoe, zoe_transcript, share_for):
    share = share_for(zoe, [zoe_transcript])

    assert share.expires_on is None
    assert share.state_at(timezone.now() + datetime.timedelta(days=3650)) == Share.State.ACTIVE


def test_it_accepts_today_as_the_expiry_date(zoe, zoe_transcript, share_for):
    share = share_for(zoe, [zoe_transcript], expires_on=timezone.localdate())

    assert share.expires_on == timezone.localdate()
    assert share.state == Share.State.ACTIVE


def test_a_share_can_hold_several_documents(
    zoe, university, zoe_transcript, zoe_diploma, share_for
):
    share = share_for(zoe, [zoe_transcript, zoe_diploma])

    assert set(share.documents.all()) == {zoe_transcript, zoe_diploma}


# What a share spends


def test_it_spends_exactly_one_credit_from_the_issuer(zoe, university, zoe_transcript, share_for):
    testing.give_credits(zoe, university, 2)

    share = share_for(zoe, [zoe_transcript])

    assert balance(zoe, university) == 2
    spend = CreditEntry.objects.get(kind=CreditEntry.Kind.SPEND)
    assert (spend.learner, spend.issuer, spend.amount, spend.share) == (zoe, university, -1, share)


def test_it_spends_the_last_credit(zoe, university, zoe_transcript, share_for):
    share_for(zoe, [zoe_transcript])

    assert balance(zoe, university) == 0


def test_two_documents_from_the_same_issuer_spend_a_single_credit(
    zoe, university, zoe_transcript, share_for
):
    testing.give_credits(zoe, university, 1)
    second = testing.make_document(zoe, university, "Second transcript")

    share_for(zoe, [zoe_transcript, second])

    assert balance(zoe, university) == 1


def test_documents_from_two_charging_issuers_spend_one_credit_from_each(
    zoe, university, other_college, zoe_transcript, zoe_diploma, share_for
):
    testing.give_credits(zoe, university, 1)
    testing.give_credits(zoe, other_college, 1)

    share = share_for(zoe, [zoe_transcript, zoe_diploma])

    assert balance(zoe, university) == 1
    assert balance(zoe, other_college) == 1
    spends = CreditEntry.objects.filter(share=share, kind=CreditEntry.Kind.SPEND)
    assert sorted((s.issuer.slug, s.amount) for s in spends) == [
        ("example-university", -1),
        ("other-college", -1),
    ]


def test_a_free_issuers_document_is_shared_without_a_credit_or_a_confirmation(
    zoe, free_college, zoe_free_certificate, share_for
):
    share = share_for(zoe, [zoe_free_certificate], confirmed_credit_use=False)

    assert list(share.documents.all()) == [zoe_free_certificate]
    assert not CreditEntry.objects.filter(kind=CreditEntry.Kind.SPEND).exists()
    assert balance(zoe, free_college) == 0


def test_a_free_and_a_charging_issuer_spend_only_from_the_charging_one(
    zoe, university, free_college, zoe_transcript, zoe_free_certificate, share_for
):
    share_for(zoe, [zoe_transcript, zoe_free_certificate])

    assert balance(zoe, university) == 0
    assert balance(zoe, free_college) == 0
    assert CreditEntry.objects.filter(kind=CreditEntry.Kind.SPEND).count() == 1


def test_an_issuer_without_a_fee_policy_charges_for_sharing(zoe, share_for):
    no_policy = testing.make_organization("no-policy-institute", issuer=True)
    document = testing.make_document(zoe, no_policy, "Attestation")

    with pytest.raises(ShareError) as refused:
        share_for(zoe, [document])

    assert refused.value.code == "no_credit"
    assert not Share.objects.exists()


# What it refuses: nothing created, no credit used


def test_it_refuses_when_the_learner_has_no_credit_left(bob, university, bob_transcript, share_for):
    with pytest.raises(ShareError) as refused:
        share_for(bob, [bob_transcript])

    assert refused.value.code == "no_credit"
    assert "Example University" in refused.value.message
    assert_nothing_happened(bob, university, balance_before=0)


def test_it_refuses_when_one_of_two_issuers_has_no_credit_left(
    zoe, university, other_college, zoe_transcript, share_for
):
    diploma = testing.make_document(zoe, other_college, "Diploma")

    with pytest.raises(ShareError) as refused:
        share_for(zoe, [zoe_transcript, diploma])

    assert refused.value.code == "no_credit"
    assert "Other College" in refused.value.message
    assert_nothing_happened(zoe, university)


def test_it_refuses_an_unconfirmed_credit_use(zoe, university, zoe_transcript, share_for):
    with pytest.raises(ShareError) as refused:
        share_for(zoe, [zoe_transcript], confirmed_credit_use=False)

    assert refused.value.code == "credit_use_not_confirmed"
    assert refused.value.field == "confirm_credit_use"
    assert_nothing_happened(zoe, university)


def test_it_refuses_another_learners_document(zoe, university, bob_transcript, share_for):
    with pytest.raises(ShareError) as refused:
        share_for(zoe, [bob_transcript])

    assert refused.value.code == "no_documents"
    assert_nothing_happened(zoe, university)


def test_it_refuses_a_mix_of_the_learners_own_and_another_learners_document(
    zoe, university, zoe_transcript, bob_transcript, share_for
):
    with pytest.raises(ShareError) as refused:
        share_for(zoe, [zoe_transcript, bob_transcript])

    assert refused.value.code == "no_documents"
    assert_nothing_happened(zoe, university)


def test_it_refuses_a_document_id_that_does_not_exist(zoe, university, share_for):
    with pytest.raises(ShareError) as refused:
        share_for(zoe, [], document_ids=[987654])

    assert refused.value.code == "no_documents"
    assert_nothing_happened(zoe, university)


def test_it_refuses_a_share_without_documents(zoe, university, share_for):
    with pytest.raises(ShareError) as refused:
        share_for(zoe, [])

    assert refused.value.code == "no_documents"
    assert_nothing_happened(zoe, university)


@pytest.mark.parametrize("status", [Document.Status.WITHDRAWN, Document.Status.REVOKED])
def test_it_refuses_a_document_the_issuer_withdrew_or_revoked(
    zoe, university, zoe_transcript, share_for, status
):
    Document.objects.filter(pk=zoe_transcript.pk).update(status=status)

    with pytest.raises(ShareError) as refused:
        share_for(zoe, [zoe_transcript])

    assert refused.value.code == "document_inactive"
    assert_nothing_happened(zoe, university)


def test_it_refuses_an_organization_that_does_not_receive_shares(
    zoe, university, zoe_transcript, share_for
):
    with pytest.raises(ShareError) as refused:
        share_for(zoe, [zoe_transcript], recipient=university)

    assert refused.value.code == "recipient_not_participating"
    assert refused.value.field == "recipient"
    assert_nothing_happened(zoe, university)


def test_it_refuses_an_organization_that_is_not_listed_in_the_directory(
    zoe, university, zoe_transcript, unlisted, share_for
):
    with pytest.raises(ShareError) as refused:
        share_for(zoe, [zoe_transcript], recipient=unlisted)

    assert refused.value.code == "recipient_not_participating"
    assert refused.value.field == "recipient"
    assert_nothing_happened(zoe, university)


def test_it_refuses_a_past_expiry_date(zoe, university, zoe_transcript, share_for):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)

    with pytest.raises(ShareError) as refused:
        share_for(zoe, [zoe_transcript], expires_on=yesterday)

    assert refused.value.code == "expiry_past"
    assert refused.value.field == "expires_on"
    assert_nothing_happened(zoe, university)


# A double click or a retry


def test_the_same_submission_token_twice_returns_the_same_share_and_spends_once(
    zoe, university, zoe_transcript, share_for
):
    testing.give_credits(zoe, university, 1)  # enough for a second share, were one made
    token = uuid.uuid4()

    first = share_for(zoe, [zoe_transcript], submission_token=token)
    second = share_for(zoe, [zoe_transcript], submission_token=token)

    assert second.pk == first.pk
    assert Share.objects.count() == 1
    assert balance(zoe, university) == 1


def test_a_retry_after_the_last_credit_is_spent_still_returns_the_share(
    zoe, university, zoe_transcript, share_for
):
    token = uuid.uuid4()
    first = share_for(zoe, [zoe_transcript], submission_token=token)

    second = share_for(zoe, [zoe_transcript], submission_token=token)

    assert second.pk == first.pk
    assert balance(zoe, university) == 0


def test_a_new_submission_token_makes_a_new_share(zoe, university, zoe_transcript, share_for):
    testing.give_credits(zoe, university, 1)

    first = share_for(zoe, [zoe_transcript])
    second = share_for(zoe, [zoe_transcript])

    assert second.pk != first.pk
    assert balance(zoe, university) == 0


def test_another_learners_share_is_never_returned_for_the_same_token(
    zoe, bob, university, zoe_transcript, bob_transcript, share_for
):
    testing.give_credits(bob, university, 1)
    token = uuid.uuid4()
    zoes = share_for(zoe, [zoe_transcript], submission_token=token)

    bobs = share_for(bob, [bob_transcript], submission_token=token)

    assert bobs.pk != zoes.pk
    assert bobs.owner == bob
    assert list(bobs.documents.all()) == [bob_transcript]
    assert balance(bob, university) == 0


def test_a_refused_submission_can_be_retried_with_the_same_token(
    zoe, university, zoe_transcript, share_for
):
    token = uuid.uuid4()
    with pytest.raises(ShareError):
        share_for(zoe, [zoe_transcript], submission_token=token, confirmed_credit_use=False)

    share = share_for(zoe, [zoe_transcript], submission_token=token)

    assert Share.objects.get() == share
    assert balance(zoe, university) == 0
