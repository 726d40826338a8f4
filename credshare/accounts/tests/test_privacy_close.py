"""A learner closes their account: shares revoked, signed out everywhere, personal data gone,
the records that must be kept still there; a wrong password changes nothing."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from credshare.accounts.models import User
from credshare.audit.models import AuditEntry
from credshare.audit.models import Event as AuditEvent
from credshare.billing.models import CreditEntry, Purchase
from credshare.billing.selectors import credit_balances
from credshare.core import testing
from credshare.documents.models import Document, DocumentVersion
from credshare.notifications.models import OutgoingEmail
from credshare.notifications.services import email_queue
from credshare.sharing.models import AccessCode, Share
from credshare.sharing.services import access_code_send

pytestmark = pytest.mark.django_db

PAGE = reverse("account_privacy:page")
CLOSE = reverse("account_privacy:close")


@pytest.fixture(autouse=True)
def _emails_in_memory(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # allauth remembers used TOTP codes in the cache by user id, and ids repeat from one test
    # to the next: a code "used" by an earlier test would be refused here.
    cache.clear()


@pytest.fixture
def zoes_shares(zoe, zoe_transcript, university, ecole, free_college):
    certificate = testing.make_document(zoe, free_college, "First-aid certificate")
    organization_share = testing.share_with(
        zoe,
        [zoe_transcript],
        ecole,
        name="My application",
        purpose="Admission",
        field_values={"application_number": "A-77"},
    )
    email_share = testing.share_by_email(zoe, [certificate], "friend@example.net", message="Hi")
    access_code_send(share=email_share)
    link_share, token = testing.share_by_link(zoe, [certificate])
    email_queue(
        to=zoe.email,
        template="notifications/test_message",
        context={"topic": "t", "link": "https://credshare.example/x"},
        language="en",
    )
    return {"organization": organization_share, "email": email_share, "link": link_share}


@pytest.fixture
def signed_in(client, zoe):
    client.force_login(zoe)
    return client


def close(client, password=testing.PASSWORD, **extra):
    return client.post(CLOSE, {"password": password, **extra})


def test_the_page_says_what_closing_keeps_in_english_and_in_french(signed_in):
    english = signed_in.get(PAGE).content.decode()
    assert "Download my data (zip)" in english
    assert "tax law requires us to keep" in english
    assert "audit log" in english
    assert "issuers issued to you" in english

    signed_in.post(reverse("language_switch"), {"language": "fr", "next": PAGE})
    french = signed_in.get(PAGE, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Fermer mon compte" in french
    assert "journal d’audit" in french or "journal d'audit" in french


def test_closing_revokes_every_live_share_and_the_link_stops_working(signed_in, zoe, zoes_shares):
    link_share = zoes_shares["link"]
    response = close(signed_in)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_privacy:closed")
    assert not Share.objects.live().filter(owner=zoe).exists()
    assert Share.objects.filter(owner=zoe).count() == 3  # kept, revoked
    assert all(s.revoked_at is not None for s in Share.objects.filter(pk=link_share.pk))


def test_closing_signs_out_every_session_and_nobody_can_sign_in_again(signed_in, zoe, zoes_shares):
    other_device = Client()
    assert other_device.login(username="zoe@example.org", password=testing.PASSWORD)
    assert other_device.get(PAGE).status_code == 200

    close(signed_in)

    assert signed_in.get(PAGE).status_code == 302  # this browser: signed out
    assert other_device.get(PAGE).status_code == 302  # the other device too
    closed = User.objects.get(pk=zoe.pk)
    assert not closed.is_active
    assert not closed.has_usable_password()
    assert not Client().login(username="zoe@example.org", password=testing.PASSWORD)


def test_closing_removes_personal_data_and_keeps_documents_payments_and_the_ledger(
    signed_in, zoe, university, zoe_transcript, zoes_shares
):
    purchase = testing.make_paid_purchase(zoe, testing.make_bundle(university, 3, 2500))
    versions_before = list(DocumentVersion.objects.filter(document__learner=zoe).values("sha256"))
    ledger_before = list(CreditEntry.objects.filter(learner=zoe).values_list("kind", "amount"))

    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=zoe, email="zoe.work@example.org", verified=True)

    close(signed_in)

    closed = User.objects.get(pk=zoe.pk)
    assert not EmailAddress.objects.filter(user=zoe).exists()
    assert closed.full_name == ""
    assert closed.email.endswith("@account-closed.invalid")
    assert not User.objects.filter(email="zoe@example.org").exists()
    for share in Share.objects.filter(owner=zoe):
        assert (share.name, share.purpose, share.message, share.field_values) == ("", "", "", {})
    assert not AccessCode.objects.filter(share__owner=zoe).exists()
    assert not OutgoingEmail.objects.filter(to="zoe@example.org").exists()
    # Kept: the issuers' documents, the payment, the ledger.
    assert Document.objects.filter(learner=zoe).count() == 2
    assert list(DocumentVersion.objects.filter(document__learner=zoe).values("sha256")) == (
        versions_before
    )
    assert Purchase.objects.get(pk=purchase.pk).status == Purchase.Status.PAID
    assert list(CreditEntry.objects.filter(learner=zoe).values_list("kind", "amount")) == (
        ledger_before
    )
    # The audit log keeps the closing, naming the account by its id only.
    closing = AuditEntry.objects.get(event=AuditEvent.ACCOUNT_CLOSED)
    assert (closing.object_id, closing.actor_user_id) == (str(zoe.pk), zoe.pk)


def test_a_wrong_password_says_so_and_changes_nothing(signed_in, zoe, university, zoes_shares):
    response = close(signed_in, password="not-my-password")

    assert response.status_code == 400
    assert "The password is not right. Your account was not closed." in response.content.decode()
    zoe.refresh_from_db()
    assert zoe.is_active and zoe.email == "zoe@example.org" and zoe.full_name == "Zoé Citoyenne"
    assert Share.objects.live().filter(owner=zoe).count() == 3
    assert Share.objects.get(pk=zoes_shares["organization"].pk).name == "My application"
    assert AccessCode.objects.filter(share__owner=zoe).exists()
    assert credit_balances(learner=zoe, issuer_ids=[university.pk]) == {university.pk: 0}
    assert signed_in.get(PAGE).status_code == 200  # still signed in


def test_an_empty_password_is_a_form_error(signed_in, zoe):
    response = close(signed_in, password="")

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    zoe.refresh_from_db()
    assert zoe.is_active


def test_a_staff_member_of_an_organization_is_asked_to_be_removed_first(client, camille):
    client.force_login(camille)  # staff have an authenticator (make_member enrols one)
    response = close(client, code=testing.fresh_totp_code())

    assert response.status_code == 400
    assert "Ask its administrators to remove you first" in response.content.decode()
    camille.refresh_from_db()
    assert camille.is_active


def test_with_an_authenticator_the_code_is_asked_and_a_wrong_one_changes_nothing(
    signed_in, zoe, zoes_shares
):
    testing.enrol_totp(zoe)
    assert 'name="code"' in signed_in.get(PAGE).content.decode()

    wrong = {testing.totp_code(offset=offset) for offset in (-1, 0, 1)}
    response = close(signed_in, code=next(c for c in ("000000", "111111") if c not in wrong))

    assert response.status_code == 400
    assert "The code from your authenticator is not right." in response.content.decode()
    zoe.refresh_from_db()
    assert zoe.is_active
    assert Share.objects.live().filter(owner=zoe).count() == 3


def test_with_an_authenticator_the_right_code_closes_and_removes_the_authenticator(
    signed_in, zoe, zoes_shares
):
    from allauth.mfa.models import Authenticator

    testing.enrol_totp(zoe)
    response = close(signed_in, code=testing.fresh_totp_code())

    assert response.status_code == 302
    zoe.refresh_from_db()
    assert not zoe.is_active
    assert not Authenticator.objects.filter(user=zoe).exists()


def test_closing_needs_a_post(signed_in, zoe):
    assert signed_in.get(CLOSE).status_code == 405
    zoe.refresh_from_db()
    assert zoe.is_active


def test_the_closed_page_is_shown_after_closing(signed_in, zoes_shares):
    response = close(signed_in)
    page = Client().get(response["Location"])

    assert page.status_code == 200
    assert "Your account is closed" in page.content.decode()


def test_another_learner_is_untouched(signed_in, zoe, bob, bob_transcript, ecole, university):
    testing.give_credits(bob, university, 1)
    bobs_share = testing.share_with(bob, [bob_transcript], ecole, name="Bob's share")

    close(signed_in)

    bob.refresh_from_db()
    assert bob.is_active and bob.email == "bob@example.org"
    bobs_share.refresh_from_db()
    assert bobs_share.revoked_at is None and bobs_share.name == "Bob's share"
