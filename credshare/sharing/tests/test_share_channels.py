"""The services behind the email and link channels: what they create, what they spend, what
they send, and the rules on expiry changes and first-opening notices."""

import datetime
import uuid

import pytest
from django.core import mail
from django.utils import timezone

from credshare.billing.selectors import credit_balances
from credshare.core import testing
from credshare.sharing.models import Share, ShareAccess
from credshare.sharing.services import (
    ShareError,
    share_access_record,
    share_create_by_email,
    share_create_link,
    share_expiry_change,
    share_revoke,
    token_hash,
)


@pytest.fixture(autouse=True)
def _emails_in_memory(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def by_email(zoe, documents, **values):
    values.setdefault("recipient_email", "Admissions@Example.COM")
    values.setdefault("submission_token", uuid.uuid4())
    return share_create_by_email(
        owner=zoe,
        document_ids=[d.pk for d in documents],
        confirmed_credit_use=True,
        **values,
    )


def test_an_email_share_spends_a_credit_and_emails_the_recipient_a_link(
    zoe, zoe_transcript, university, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        share = by_email(zoe, [zoe_transcript], email_language="fr", message="Bonjour")

    assert share.channel == Share.Channel.EMAIL
    assert share.recipient_email == "admissions@example.com"
    assert credit_balances(learner=zoe, issuer_ids=[university.pk]) == {university.pk: 0}
    [email] = mail.outbox
    assert email.to == ["admissions@example.com"]
    assert "/s/" in email.body
    assert "Bonjour" in email.body


def test_the_email_link_opens_the_share_and_only_its_hash_is_stored(
    zoe, zoe_transcript, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        share = by_email(zoe, [zoe_transcript])

    token = mail.outbox[0].body.split("/s/")[1].split("/")[0]
    assert len(token) >= 22  # at least 128 random bits in URL-safe base64
    assert share.token_hash == token_hash(token)
    assert token not in str(Share.objects.filter(pk=share.pk).values().get())


def test_a_retried_email_share_sends_one_email_and_spends_once(
    zoe, zoe_transcript, university, django_capture_on_commit_callbacks
):
    submission = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        first = by_email(zoe, [zoe_transcript], submission_token=submission)
        again = by_email(zoe, [zoe_transcript], submission_token=submission)

    assert again.pk == first.pk
    assert len(mail.outbox) == 1
    assert credit_balances(learner=zoe, issuer_ids=[university.pk]) == {university.pk: 0}


def test_a_refused_email_share_sends_nothing(
    zoe, bob_transcript, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ShareError):
        by_email(zoe, [bob_transcript])

    assert mail.outbox == []
    assert not Share.objects.exists()


def test_an_unknown_email_language_is_refused(zoe, zoe_transcript):
    with pytest.raises(ShareError) as refused:
        by_email(zoe, [zoe_transcript], email_language="de")

    assert refused.value.code == "bad_language"
    assert not Share.objects.exists()


def test_a_link_share_returns_its_token_once(zoe, zoe_transcript, university):
    submission = uuid.uuid4()
    share, token = share_create_link(
        owner=zoe,
        document_ids=[zoe_transcript.pk],
        submission_token=submission,
        confirmed_credit_use=True,
    )
    again, no_token = share_create_link(
        owner=zoe,
        document_ids=[zoe_transcript.pk],
        submission_token=submission,
        confirmed_credit_use=True,
    )

    assert share.channel == Share.Channel.LINK
    assert share.token_hash == token_hash(token)
    assert (again.pk, no_token) == (share.pk, None)
    assert credit_balances(learner=zoe, issuer_ids=[university.pk]) == {university.pk: 0}


def test_a_link_share_without_credit_is_refused(bob, bob_transcript):
    with pytest.raises(ShareError) as refused:
        share_create_link(
            owner=bob,
            document_ids=[bob_transcript.pk],
            submission_token=uuid.uuid4(),
            confirmed_credit_use=True,
        )

    assert refused.value.code == "no_credit"
    assert not Share.objects.exists()


def test_the_expiry_date_can_be_moved_or_removed(zoe, zoe_transcript, ecole):
    share = testing.share_with(zoe, [zoe_transcript], ecole)
    later = timezone.localdate() + datetime.timedelta(days=30)

    share_expiry_change(share=share, expires_on=later)
    assert Share.objects.get(pk=share.pk).expires_on == later

    share_expiry_change(share=share, expires_on=None)
    assert Share.objects.get(pk=share.pk).expires_on is None


def test_the_expiry_date_cannot_move_into_the_past(zoe, zoe_transcript, ecole):
    share = testing.share_with(zoe, [zoe_transcript], ecole)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)

    with pytest.raises(ShareError) as refused:
        share_expiry_change(share=share, expires_on=yesterday)

    assert refused.value.code == "expiry_past"
    assert Share.objects.get(pk=share.pk).expires_on is None


def test_a_revoked_share_cannot_be_given_a_new_expiry(zoe, zoe_transcript, ecole):
    share = share_revoke(share=testing.share_with(zoe, [zoe_transcript], ecole))

    with pytest.raises(ShareError) as refused:
        share_expiry_change(share=share, expires_on=None)

    assert refused.value.code == "share_not_active"


def test_the_owner_is_told_once_of_the_first_opening_when_they_asked(
    zoe, zoe_transcript, ecole, camille, django_capture_on_commit_callbacks
):
    share = testing.share_with(zoe, [zoe_transcript], ecole, notify_owner_on_first_open=True)

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            share_access_record(
                share=share, action=ShareAccess.Action.OPENED, user=camille, organization=ecole
            )

    [notice] = mail.outbox
    assert notice.to == [zoe.email]
    assert ecole.name in notice.body


def test_the_owner_hears_nothing_when_they_did_not_ask(
    zoe, zoe_transcript, ecole, camille, django_capture_on_commit_callbacks
):
    share = testing.share_with(zoe, [zoe_transcript], ecole)

    with django_capture_on_commit_callbacks(execute=True):
        share_access_record(
            share=share, action=ShareAccess.Action.OPENED, user=camille, organization=ecole
        )

    assert mail.outbox == []
