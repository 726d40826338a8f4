"""Each security event leaves its entry, made through the pages and services people use:
who acted (an account, an API key, a visitor, the system), on what, for which
organizations, from which address, and never a secret."""

import json
import time

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from credshare.api.models import ApiKey
from credshare.api.services import api_key_create
from credshare.audit.chain import entry_fields
from credshare.audit.models import AuditEntry, Event
from credshare.audit.tests.conftest import audit_verify, entries, last
from credshare.billing.models import Purchase
from credshare.billing.services import purchase_start
from credshare.core import testing
from credshare.documents.services import document_correct, document_withdraw
from credshare.sharing.services import share_url

LOOPBACK = "127.0.0.1"  # the test client's REMOTE_ADDR


def everything_logged() -> str:
    """Every field of every entry, as one text to search for what must never be there."""
    return json.dumps([entry_fields(entry) for entry in AuditEntry.objects.all()])


def sign_in(client, email: str, password: str):
    # allauth's form calls the address "login"; Django's, "username".
    return client.post(reverse("login"), {"login": email, "username": email, "password": password})


# Sign-in -------------------------------------------------------------------------------------


def test_signing_in_through_the_page_records_who_and_from_where(client, zoe):
    sign_in(client, zoe.email, testing.PASSWORD)

    entry = last(Event.SIGNED_IN)
    assert (entry.actor_kind, entry.actor_user, entry.actor_label) == ("user", zoe, zoe.email)
    assert (entry.object_type, entry.object_id) == ("user", str(zoe.pk))
    assert entry.ip == LOOPBACK
    assert entry.organization_ids == []  # a learner's sign-in concerns no organization


def test_a_failed_sign_in_names_the_account_tried_but_never_the_password(client, zoe):
    sign_in(client, zoe.email, "Tr0ub4dor&3-wrong")

    entry = last(Event.SIGN_IN_FAILED)
    assert entry.actor_kind == "visitor"
    assert (entry.object_type, entry.object_id) == ("user", str(zoe.pk))
    assert entry.details == {"step": "password", "account_known": True}
    assert entry.ip == LOOPBACK
    assert entries(Event.SIGNED_IN) == []
    assert "Tr0ub4dor" not in everything_logged()


def test_a_failed_sign_in_for_no_account_keeps_nothing_of_what_was_typed(client, db):
    sign_in(client, "hunter2-typed-in-the-email-box@example.org", "hunter2")

    entry = last(Event.SIGN_IN_FAILED)
    assert (entry.object_type, entry.object_id) == ("", "")
    assert entry.details == {"step": "password", "account_known": False}
    assert "hunter2" not in everything_logged()


def test_a_staff_members_sign_in_concerns_their_organization(client, camille, ecole):
    client.force_login(camille)

    assert last(Event.SIGNED_IN).organization_ids == [ecole.pk]


# Two-factor authentication -------------------------------------------------------------------


def totp_code(secret: str) -> str:
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))


@pytest.mark.skipif(not apps.is_installed("allauth.mfa"), reason="two-factor comes with allauth")
def test_adding_and_removing_an_authenticator_app_is_recorded(
    client, zoe, django_capture_on_commit_callbacks
):
    sign_in(client, zoe.email, testing.PASSWORD)
    # Changing one's authenticators asks for the password again.
    client.post(reverse("account_reauthenticate"), {"password": testing.PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session["mfa.totp.secret"]

    # allauth announces a new authenticator once its transaction has committed.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302

    added = entries(Event.MFA_ADDED)
    assert {entry.details["method"] for entry in added} == {"totp", "recovery_codes"}
    assert all(entry.actor_user == zoe and entry.ip == LOOPBACK for entry in added)
    assert secret not in everything_logged()

    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    removed = entries(Event.MFA_REMOVED)
    assert "totp" in {entry.details["method"] for entry in removed}
    assert all(entry.object_id == str(zoe.pk) for entry in removed)


# Shares --------------------------------------------------------------------------------------


def test_a_share_made_opened_in_the_inbox_and_revoked_is_recorded(
    client, zoe, zoe_transcript, ecole, camille
):
    share = testing.share_with(zoe, [zoe_transcript], ecole, reference="A-1")
    made = last(Event.SHARE_CREATED)
    assert (made.object_type, made.object_id) == ("share", str(share.public_id))
    assert (made.actor_user, made.organization_ids) == (zoe, [ecole.pk])
    assert made.details == {"channel": "organization", "documents": [str(zoe_transcript.public_id)]}

    staff = Client()
    staff.force_login(camille)
    assert staff.get(reverse("inbox:share", args=[share.pk])).status_code == 200
    opened = last(Event.SHARE_OPENED)
    assert (opened.object_id, opened.actor_user, opened.ip) == (
        str(share.public_id),
        camille,
        LOOPBACK,
    )
    assert opened.organization_ids == [ecole.pk]

    client.force_login(zoe)
    client.post(reverse("sharing:revoke", args=[share.pk]))
    revoked = last(Event.SHARE_REVOKED)
    assert (revoked.object_id, revoked.actor_user, revoked.organization_ids) == (
        str(share.public_id),
        zoe,
        [ecole.pk],
    )

    # Revoking again changes nothing, and records nothing.
    client.post(reverse("sharing:revoke", args=[share.pk]))
    assert len(entries(Event.SHARE_REVOKED)) == 1


def test_a_link_share_opened_by_a_visitor_records_the_visitors_address(client, zoe, zoe_transcript):
    share, token = testing.share_by_link(zoe, [zoe_transcript])

    response = Client().get(share_url(token), follow=True)

    assert response.status_code == 200
    opened = last(Event.SHARE_OPENED)
    assert (opened.object_id, opened.actor_kind, opened.ip) == (
        str(share.public_id),
        "visitor",
        LOOPBACK,
    )
    assert opened.organization_ids == []
    assert token not in everything_logged()


def test_a_share_opened_through_the_api_names_the_key(zoe, zoe_transcript, ecole):
    share = testing.share_with(zoe, [zoe_transcript], ecole, reference="A-1")
    key, text = api_key_create(
        organization=ecole, name="Admissions system", scopes=["shares:read"], by=None
    )

    response = Client().get(
        f"/api/v1/shares/{share.public_id}", headers={"Authorization": f"Bearer {text}"}
    )

    assert response.status_code == 200
    opened = last(Event.SHARE_OPENED)
    assert opened.actor_kind == "api_key"
    assert opened.actor_api_key == key.public_id
    assert opened.actor_label == f"Admissions system (csk_{key.prefix}_…)"
    assert text.rsplit("_", 1)[1] not in everything_logged()


# Documents -----------------------------------------------------------------------------------


def test_a_document_issued_corrected_and_withdrawn_is_recorded(zoe, university, uni_admin):
    document = testing.make_document(zoe, university, "Transcript")
    issued = last(Event.DOCUMENT_ISSUED)
    assert (issued.object_type, issued.object_id) == ("document", str(document.public_id))
    # Issued outside a request (a job, a command): the system did it.
    assert (issued.actor_kind, issued.organization_ids) == ("system", [university.pk])

    document_correct(document=document, pdf=testing.sample_pdf("v2"), by=uni_admin)
    assert last(Event.DOCUMENT_VERSIONED).details == {"type": "transcript", "version": 2}

    document_withdraw(document=document, reason="Issued to the wrong learner", by=uni_admin)
    withdrawn = last(Event.DOCUMENT_WITHDRAWN)
    assert (withdrawn.actor_user, withdrawn.organization_ids) == (uni_admin, [university.pk])
    assert withdrawn.details == {"type": "transcript", "reason": "Issued to the wrong learner"}

    other = testing.make_document(zoe, university, "Diploma")
    document_withdraw(document=other, reason="Fraud", by=uni_admin, revoke=True)
    assert last(Event.DOCUMENT_REVOKED).object_id == str(other.public_id)


def test_a_document_issued_through_the_api_names_the_key(zoe, university):
    key, text = api_key_create(
        organization=university, name="Registrar system", scopes=["documents:issue"], by=None
    )
    body = {
        "learner_email": zoe.email,
        "type": "certificate",
        "title": "First aid",
        "issue_date": "2026-05-01",
        "pdf_base64": _pdf_base64(),
    }
    response = Client().post(
        "/api/v1/documents",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {text}"},
    )

    assert response.status_code == 201, response.content
    issued = last(Event.DOCUMENT_ISSUED)
    assert (issued.actor_kind, issued.actor_api_key) == ("api_key", key.public_id)


def _pdf_base64() -> str:
    import base64

    return base64.b64encode(testing.sample_pdf("api")).decode()


# Payments ------------------------------------------------------------------------------------


def test_a_payment_at_the_checkout_and_its_refund_are_recorded(client, zoe, university, uni_admin):
    bundle = testing.make_bundle(university, quantity=3, price_cents=2500)
    purchase = purchase_start(learner=zoe, provider="sandbox", bundle=bundle)
    client.force_login(zoe)

    client.post(reverse("payments:sandbox", args=[purchase.public_id]), {"action": "pay"})

    paid = last(Event.PAYMENT_COMPLETED)
    assert (paid.object_type, paid.object_id) == ("purchase", str(purchase.public_id))
    assert (paid.actor_user, paid.organization_ids, paid.ip) == (zoe, [university.pk], LOOPBACK)
    assert paid.details["total_cents"] == purchase.total_cents

    staff = Client()
    staff.force_login(uni_admin)
    staff.post(reverse("issuer_billing:refund", args=[university.slug, purchase.pk]))

    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.REFUNDED
    refunded = last(Event.PAYMENT_REFUNDED)
    assert (refunded.object_id, refunded.actor_user) == (str(purchase.public_id), uni_admin)


def test_a_declined_payment_records_nothing(client, zoe, university):
    purchase = purchase_start(
        learner=zoe, provider="sandbox", bundle=testing.make_bundle(university)
    )
    client.force_login(zoe)

    client.post(reverse("payments:sandbox", args=[purchase.public_id]), {"action": "decline"})

    assert entries(Event.PAYMENT_COMPLETED) == []


# API keys ------------------------------------------------------------------------------------


def test_an_api_key_made_and_revoked_in_the_settings_is_recorded_without_its_secret(
    admin_client, ecole, ecole_admin
):
    response = admin_client.post(
        reverse("network:key_new", args=[ecole.slug]),
        {"name": "Admissions system", "scopes": ["shares:read"]},
    )
    key = ApiKey.objects.get()
    full_text = response.context["full_text"]

    made = last(Event.API_KEY_CREATED)
    assert (made.object_type, made.object_id) == ("apikey", str(key.public_id))
    assert (made.actor_user, made.organization_ids, made.ip) == (ecole_admin, [ecole.pk], LOOPBACK)
    assert made.details == {
        "name": "Admissions system",
        "prefix": key.prefix,
        "scopes": ["shares:read"],
    }
    assert full_text.rsplit("_", 1)[1] not in everything_logged()
    assert key.secret_hash not in everything_logged()

    admin_client.post(reverse("network:key_revoke", args=[ecole.slug, key.public_id]))

    revoked = last(Event.API_KEY_REVOKED)
    assert (revoked.object_id, revoked.actor_user) == (str(key.public_id), ecole_admin)
    assert audit_verify()[0]
