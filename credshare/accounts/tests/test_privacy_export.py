"""A learner downloads everything held about them: one zip with data.json, every version's
PDF and every receipt; nothing of another learner's in it."""

import hashlib
import io
import json
import re
import zipfile

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credshare.core import testing
from credshare.documents.services import document_version_add
from credshare.notifications.services import email_queue
from credshare.sharing.models import ShareAccess
from credshare.sharing.services import share_access_record

pytestmark = pytest.mark.django_db

EXPORT = reverse("account_privacy:export")


@pytest.fixture(autouse=True)
def _emails_in_memory(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def queue_email_to(user, subject_topic: str):
    return email_queue(
        to=user.email,
        template="notifications/test_message",
        context={"topic": subject_topic, "link": "https://credshare.example/secret-link"},
        language="en",
    )


@pytest.fixture
def zoes_world(zoe, zoe_transcript, university, ecole, camille, free_college):
    """Zoé: a transcript in two versions shared with École Imaginaire (extra fields filled in,
    opened and downloaded by Camille), a free certificate shared by email, a paid bundle, an
    email sent to her."""
    document_version_add(document=zoe_transcript, pdf=testing.sample_pdf("corrected"))
    certificate = testing.make_document(
        zoe, free_college, "First-aid certificate", document_type="certificate"
    )
    share = testing.share_with(
        zoe,
        [zoe_transcript],
        ecole,
        name="My application",
        purpose="Admission 2027",
        reference="REF-1",
        field_values={"application_number": "A-77", "intended_program": "science"},
    )
    share_access_record(
        share=share, action=ShareAccess.Action.OPENED, user=camille, organization=ecole
    )
    version = zoe_transcript.versions.get(number=2)
    share_access_record(
        share=share,
        action=ShareAccess.Action.DOWNLOADED,
        user=camille,
        organization=ecole,
        document=zoe_transcript,
        version=version,
    )
    email_share = testing.share_by_email(zoe, [certificate], "friend@example.net", message="Hi")
    purchase = testing.make_paid_purchase(zoe, testing.make_bundle(university, 3, 2500))
    queue_email_to(zoe, "for Zoé")
    return {
        "transcript": zoe_transcript,
        "certificate": certificate,
        "share": share,
        "email_share": email_share,
        "purchase": purchase,
    }


@pytest.fixture
def bobs_world(bob, bob_transcript, university, ecole):
    testing.give_credits(bob, university, 1)
    testing.share_with(
        bob,
        [bob_transcript],
        ecole,
        name="Bob's secret share",
        field_values={"application_number": "B-99"},
    )
    queue_email_to(bob, "for Bob only")


def download(client, user) -> zipfile.ZipFile:
    if "_auth_user_id" not in client.session:
        client.force_login(user)
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert {"private", "no-store"} <= set(response["Cache-Control"].split(", "))
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_download_is_a_zip_named_by_the_date_only(client, zoe, zoes_world):
    client.force_login(zoe)
    response = client.get(EXPORT)

    disposition = response["Content-Disposition"]
    pattern = r'attachment; filename="credshare-data-\d{4}-\d{2}-\d{2}\.zip"'
    assert re.fullmatch(pattern, disposition)


def test_data_json_holds_the_account_documents_versions_and_their_issuer(
    client, zoe, zoes_world, bobs_world
):
    archive = download(client, zoe)
    data = json.loads(archive.read("data.json"))

    assert data["format"] == "credshare-export/1"
    assert data["account"]["email"] == "zoe@example.org"
    assert data["account"]["full_name"] == "Zoé Citoyenne"
    assert [a["email"] for a in data["emails"]] == ["zoe@example.org"]
    by_title = {d["title"]: d for d in data["documents"]}
    assert set(by_title) == {"Official transcript", "First-aid certificate"}
    transcript = by_title["Official transcript"]
    assert transcript["id"] == str(zoes_world["transcript"].public_id)
    assert transcript["issuer"] == {"slug": "example-university", "name": "Example University"}
    stored = {v.number: v.sha256 for v in zoes_world["transcript"].versions.all()}
    assert {v["number"]: v["sha256"] for v in transcript["versions"]} == stored


def test_every_version_pdf_is_in_the_zip_and_matches_its_recorded_sha256(client, zoe, zoes_world):
    archive = download(client, zoe)
    data = json.loads(archive.read("data.json"))

    versions = [v for d in data["documents"] for v in d["versions"]]
    assert len(versions) == 3
    for version in versions:
        assert version["file"].startswith("documents/")
        content = archive.read(version["file"])
        assert content.startswith(b"%PDF")
        assert hashlib.sha256(content).hexdigest() == version["sha256"]
        assert len(content) == version["size"]


def test_shares_carry_recipients_channels_expiry_status_fields_and_access_logs(
    client, zoe, zoes_world
):
    archive = download(client, zoe)
    data = json.loads(archive.read("data.json"))

    shares = {s["channel"]: s for s in data["shares"]}
    organization_share = shares["organization"]
    assert organization_share["recipient"]["organization"]["slug"] == "ecole-imaginaire"
    assert organization_share["name"] == "My application"
    assert organization_share["purpose"] == "Admission 2027"
    assert organization_share["status"] == "active"
    assert organization_share["expires_on"] is None
    assert organization_share["extra_fields"] == [
        {"label": "Application number", "value": "A-77"},
        {"label": "Intended program", "value": "Sciences"},
    ]
    assert organization_share["documents"] == [str(zoes_world["transcript"].public_id)]
    assert [(a["action"], a["by"], a["version"]) for a in organization_share["accesses"]] == [
        ("opened", "Ecole Imaginaire (Camille Tremblay)", None),
        ("downloaded", "Ecole Imaginaire (Camille Tremblay)", 2),
    ]
    email_share = shares["email"]
    assert email_share["recipient"] == {"organization": None, "email": "friend@example.net"}
    assert email_share["message"] == "Hi"


def test_the_ledger_purchases_receipts_and_notifications_are_in_it_without_email_bodies(
    client, zoe, zoes_world
):
    archive = download(client, zoe)
    data = json.loads(archive.read("data.json"))

    # Granted 1, spent 1 on the share, bought 3.
    assert [(e["kind"], e["amount"]) for e in data["credits"]["entries"]] == [
        ("grant", 1),
        ("spend", -1),
        ("purchase", 3),
    ]
    assert data["credits"]["balances"] == [{"issuer": "Example University", "balance": 3}]
    [purchase] = data["purchases"]
    assert purchase["receipt_number"] == zoes_world["purchase"].receipt_number
    assert (purchase["status"], purchase["total_cents"]) == ("paid", 2500)
    assert archive.read(purchase["receipt"]).startswith(b"%PDF")
    subjects = [n["subject"] for n in data["notifications"]]
    assert "Help: for Zoé" in subjects
    # Email bodies can hold secrets (links, codes): the export has subjects and dates only.
    assert b"secret-link" not in archive.read("data.json")


def test_another_learners_data_never_appears(client, zoe, bob, zoes_world, bobs_world):
    archive = download(client, zoe)

    everything = b"".join(archive.read(name) for name in archive.namelist())
    for trace in [b"bob@example.org", b"Bob's", b"B-99", b"for Bob only", b"Bob Other"]:
        assert trace not in everything
    assert not any("bob" in name.lower() for name in archive.namelist())


def test_bob_gets_only_his_own(client, bob, zoes_world, bobs_world):
    archive = download(client, bob)
    data = json.loads(archive.read("data.json"))

    assert [d["title"] for d in data["documents"]] == ["Bob's transcript"]
    assert [s["name"] for s in data["shares"]] == ["Bob's secret share"]
    assert data["purchases"] == []
    assert b"zoe@example.org" not in b"".join(archive.read(n) for n in archive.namelist())


def test_names_inside_the_zip_stay_in_their_folder_whatever_the_title(client, zoe, university):
    testing.make_document(zoe, university, "../../etc/passwd \\ ..\\evil")
    archive = download(client, zoe)

    for name in archive.namelist():
        assert ".." not in name and "\\" not in name and not name.startswith("/")


def test_the_export_makes_the_same_number_of_queries_however_much_there_is(
    client, zoe, zoes_world, ecole
):
    client.force_login(zoe)
    client.get(EXPORT)  # the first request of a session reads more (content types, ...)
    with CaptureQueriesContext(connection) as before:
        client.get(EXPORT)
    testing.give_credits(zoe, zoes_world["transcript"].issuer, 3)
    for _ in range(3):
        share = testing.share_with(zoe, [zoes_world["transcript"]], ecole)
        share_access_record(share=share, action=ShareAccess.Action.OPENED, organization=ecole)
    testing.make_document(zoe, zoes_world["transcript"].issuer, "Another transcript")

    with CaptureQueriesContext(connection) as after:
        client.get(EXPORT)
    assert len(after) == len(before)


@pytest.mark.skipif(not apps.is_installed("allauth.account"), reason="allauth's addresses")
def test_every_address_of_the_account_is_listed_with_whether_it_is_verified(client, zoe):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=zoe, email=zoe.email, defaults={"primary": True, "verified": True}
    )
    EmailAddress.objects.create(user=zoe, email="zoe.work@example.org", verified=False)
    archive = download(client, zoe)

    assert json.loads(archive.read("data.json"))["emails"] == [
        {"email": "zoe@example.org", "primary": True, "verified": True},
        {"email": "zoe.work@example.org", "primary": False, "verified": False},
    ]


@pytest.mark.skipif(not apps.is_installed("credshare.audit"), reason="the audit log")
def test_the_audit_log_of_the_learners_own_actions_is_in_it_and_nobody_elses(zoe, bob):
    Client().login(username="bob@example.org", password=testing.PASSWORD)
    zoes_browser = Client()
    assert zoes_browser.login(username="zoe@example.org", password=testing.PASSWORD)

    archive = download(zoes_browser, zoe)

    activity = json.loads(archive.read("data.json"))["activity"]
    assert [entry["event"] for entry in activity] == ["auth.signed_in"]
    assert activity[0]["object_id"] == str(zoe.pk)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(EXPORT)
    assert response.status_code == 302
    assert "/login/" in response["Location"]
