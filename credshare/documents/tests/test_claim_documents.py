"""Documents issued to an address with no account (issue 5): kept against the address, seen
by the issuer only, one invitation a address; once the address is verified on an account
(sign-up from the invitation, a confirmed added address, an invitation accepted signed in
with the address), every such document, from every issuer, is the learner's."""

import base64
import datetime
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from credshare.accounts.models import Invitation, User
from credshare.accounts.services import email_address_verified
from credshare.api.models import ApiKey
from credshare.api.tests.conftest import ApiClient, make_key
from credshare.audit.models import AuditEntry
from credshare.audit.models import Event as AuditEvent
from credshare.core import testing
from credshare.core.tests.test_query_counts import DOCUMENTS_PAGE_QUERIES
from credshare.documents import bulk
from credshare.documents.models import Document, IssuanceRow
from credshare.documents.services import CLAIM_INVITATION_INTERVAL, document_issue
from credshare.notifications.models import OutgoingEmail

NEW = "new.learner@home.example"
SECOND = "new.learner@school.example"
PASSWORD = "a long passphrase of mine"
AWAITING = "Awaiting the learner's account"


@pytest.fixture(autouse=True)
def _emails(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CREDSHARE_BASE_URL = "https://credshare.example"


@pytest.fixture
def registrar(university):
    return testing.make_issuer_staff(university, "registrar@university.example")


@pytest.fixture
def staff_client(registrar):
    client = Client()
    client.force_login(registrar)
    return client


def invitations_to(address: str) -> list[OutgoingEmail]:
    """The outbox's emails to ADDRESS: before it has an account, only invitations go there."""
    return list(OutgoingEmail.objects.filter(to=address))


def link_in(email) -> str:
    """The one link of an email (an outbox row not yet sent, or a message sent)."""
    body = email.text_body if isinstance(email, OutgoingEmail) else email.body
    [link] = re.findall(r"https://credshare\.example/\S+", body)
    return link.removeprefix("https://credshare.example")


def issue(issuer, address: str = NEW, title: str = "Certificate", **values) -> Document:
    return document_issue(
        issuer=issuer,
        learner_email=address,
        learner_name=values.pop("learner_name", "Nadia Nouvelle"),
        document_type=Document.Type.CERTIFICATE,
        title=title,
        issue_date=datetime.date(2026, 5, 1),
        pdf=testing.sample_pdf(title),
        **values,
    )


def sign_up_from_invitation(address=NEW) -> tuple[Client, User]:
    """A signed-out person follows the invitation to ADDRESS (or the invitation message
    sent) and opens an account through allauth's sign-up form, as a browser would."""
    if isinstance(address, str):
        [invitation] = invitations_to(address)
    else:
        invitation, address = address, address.to[0]
    client = Client()
    link = link_in(invitation)
    assert client.get(link).status_code == 200
    signup_url = f"{link}signup/"  # the invitation's own sign-up, with its address
    signup = client.get(signup_url).content.decode()
    assert f'value="{address}"' in signup
    response = client.post(
        signup_url,
        {
            "full_name": "Nadia Nouvelle",
            "email": address,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    return client, User.objects.get(email=address)


def titles_on_documents_page(client: Client) -> list[str]:
    page = client.get(reverse("documents:list"))
    assert page.status_code == 200
    return sorted(
        document.title
        for document in Document.objects.all()
        if document.title in page.content.decode()
    )


# Issuing to a new address, from the portal, bulk and the API


def test_the_portal_issues_to_a_new_address_invites_once_and_the_sign_up_brings_them(
    staff_client, university, django_capture_on_commit_callbacks
):
    new = reverse("issuer_documents:new", args=[university.slug])
    for title in ("Diploma", "Transcript"):
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.post(
                new,
                {
                    "email": " New.Learner@Home.example ",
                    "full_name": "Nadia Nouvelle",
                    "student_number": "S42",
                    "document_type": Document.Type.DIPLOMA,
                    "title": title,
                    "issue_date": "2026-05-30",
                    "source": "upload",
                    "pdf": testing.pdf_upload(),
                },
                follow=True,
            )
        assert response.status_code == 200
        assert "which has no account yet" in response.content.decode()

    documents = Document.objects.filter(issuer=university)
    assert [(d.learner, d.learner_email, d.learner_name) for d in documents] == [
        (None, NEW, "Nadia Nouvelle")
    ] * 2
    assert documents[0].student_number == "S42"
    # One invitation for the two documents, sent through the outbox once committed.
    [invitation] = invitations_to(NEW)
    assert invitation.status == OutgoingEmail.Status.SENT
    [message] = mail.outbox
    assert message.to == [NEW] and "Example University" in message.subject
    assert link_in(message).startswith("/accounts/invitations/")
    listing = staff_client.get(reverse("issuer_documents:list", args=[university.slug]))
    assert listing.content.decode().count(AWAITING) == 2 and NEW in listing.content.decode()
    found = staff_client.get(
        reverse("issuer_documents:list", args=[university.slug]), {"learner": "nadia"}
    )
    assert found.content.decode().count(AWAITING) == 2

    client, learner = sign_up_from_invitation(message)

    assert titles_on_documents_page(client) == ["Diploma", "Transcript"]
    assert set(Document.objects.values_list("learner", flat=True)) == {learner.pk}
    claimed = AuditEntry.objects.filter(event=AuditEvent.DOCUMENT_CLAIMED)
    assert sorted(claimed.values_list("object_id", flat=True)) == sorted(
        str(document.public_id) for document in documents
    )
    assert {entry.actor_user_id for entry in claimed} == {learner.pk}
    detail = staff_client.get(
        reverse("issuer_documents:detail", args=[university.slug, documents[0].pk])
    ).content.decode()
    assert AWAITING not in detail and "Nadia Nouvelle" in detail and NEW in detail


def test_a_new_address_needs_the_learners_name_on_the_portal(staff_client, university):
    response = staff_client.post(
        reverse("issuer_documents:new", args=[university.slug]),
        {
            "email": NEW,
            "document_type": Document.Type.DIPLOMA,
            "title": "Diploma",
            "issue_date": "2026-05-30",
            "source": "upload",
            "pdf": testing.pdf_upload(),
        },
    )
    assert response.status_code == 400
    assert "give the learner&#x27;s name" in response.content.decode()
    assert not Document.objects.exists() and not Invitation.objects.exists()


def test_a_bulk_csv_of_50_rows_for_a_new_address_sends_one_invitation_and_reruns_idempotently(
    university, registrar
):
    rows = [
        testing.bulk_row(number, NEW, first_name="Nadia", last_name="Nouvelle")
        for number in range(50)
    ]

    job = testing.run_bulk_csv(university, registrar, rows)
    assert job.rows.filter(status=IssuanceRow.Status.ISSUED).count() == 50
    assert Document.objects.filter(learner=None, learner_email=NEW).count() == 50
    assert Document.objects.first().learner_name == "Nadia Nouvelle"
    assert len(invitations_to(NEW)) == 1

    again = testing.run_bulk_csv(university, registrar, rows)
    assert again.rows.filter(status=IssuanceRow.Status.ISSUED).count() == 50
    assert Document.objects.count() == 50
    assert len(invitations_to(NEW)) == 1


def test_bulk_json_lines_invite_in_the_rows_language_and_the_sign_up_brings_them(
    university, registrar
):
    rows = [
        {
            **testing.bulk_row(number, NEW.upper(), first_name="Nadia", last_name="Nouvelle"),
            "language": "fr",
            "program": "Bachelor of Testing",
            "courses": [["TST101", "Testing", "3", "A"]],
        }
        for number in range(3)
    ]
    for row in rows:
        row.pop("file")
    job = bulk.issuance_job_create(
        issuer=university, created_by=registrar, rows_file=testing.bulk_jsonl(rows)
    )
    bulk.issuance_job_process(job_id=job.pk)

    assert Document.objects.filter(learner=None, learner_email=NEW).count() == 3
    [invitation] = invitations_to(NEW)
    assert invitation.language == "fr"
    assert "a émis" in invitation.text_body or "documents officiels" in invitation.text_body

    client, learner = sign_up_from_invitation()
    assert titles_on_documents_page(client) == ["Transcript 0", "Transcript 1", "Transcript 2"]


def test_the_api_issues_to_a_new_address_and_says_it_waits_for_an_account(university):
    api = ApiClient(make_key(university, list(ApiKey.ISSUING_SCOPES)).text)
    body = {
        "learner_email": NEW,
        "learner_name": "Nadia Nouvelle",
        "language": "fr",
        "type": "certificate",
        "title": "First-aid certificate",
        "issue_date": "2026-05-04",
        "pdf_base64": base64.b64encode(testing.sample_pdf()).decode(),
    }
    first = api.post("/documents", {**body, "external_id": "SIS-1"})
    second = api.post("/documents", {**body, "external_id": "SIS-2"})
    repeated = api.post("/documents", {**body, "external_id": "SIS-1"})

    assert (first.status_code, second.status_code, repeated.status_code) == (201, 201, 200)
    out = first.json()
    assert out["learner_has_account"] is False
    assert out["learner"] == {"name": "Nadia Nouvelle", "email": NEW}
    assert Document.objects.filter(learner=None).count() == 2
    [invitation] = invitations_to(NEW)
    assert invitation.language == "fr"

    client, learner = sign_up_from_invitation()
    assert titles_on_documents_page(client) == ["First-aid certificate"] * 2
    assert Document.objects.filter(learner=learner).count() == 2
    later = api.get(f"/documents/{out['id']}").json()
    assert later["learner_has_account"] is True
    assert later["learner"]["email"] == NEW


def test_the_credential_of_a_waiting_document_names_the_learner_as_issued(university):
    document = issue(university)
    credential = document.versions.get().credential.credential
    assert credential["credentialSubject"]["name"] == "Nadia Nouvelle"


# One invitation an address, not one a document


def test_a_reissue_within_the_interval_sends_no_invitation_and_after_it_one(
    university, free_college
):
    issue(university, title="One")
    issue(free_college, title="Two")
    assert len(invitations_to(NEW)) == 1

    Invitation.objects.update(created=timezone.now() - CLAIM_INVITATION_INTERVAL)
    issue(free_college, title="Three")
    assert len(invitations_to(NEW)) == 2


def test_a_document_for_an_address_with_an_account_goes_there_without_an_invitation(
    university, zoe
):
    document = issue(university, "ZOE@example.org")
    assert document.learner == zoe and document.learner_email == "zoe@example.org"
    assert not Invitation.objects.exists()


# Claiming


def test_two_issuers_and_two_addresses_of_one_person_end_in_one_account(university, free_college):
    for issuer in (university, free_college):
        issue(issuer, NEW, f"{issuer.slug} to home")
        issue(issuer, SECOND, f"{issuer.slug} to school")
    client, learner = sign_up_from_invitation(NEW)
    assert titles_on_documents_page(client) == [
        "example-university to home",
        "free-college to home",
    ]

    # The second address, added on the account page and confirmed from its email.
    client.post(reverse("account_email"), {"action_add": "", "email": SECOND})
    assert Document.objects.filter(learner=None).count() == 2  # not until it is confirmed
    confirmation = OutgoingEmail.objects.filter(to=SECOND).latest("pk")
    confirm = link_in(confirmation)
    assert confirm.startswith("/accounts/confirm-email/")
    client.post(confirm)

    assert EmailAddress.objects.get(email=SECOND).verified
    assert len(titles_on_documents_page(client)) == 4
    assert Document.objects.filter(learner=learner).count() == 4
    # They are the learner's to share.
    testing.give_credits(learner, university, 1)  # its documents cost a share credit
    share, _token = testing.share_by_link(learner, list(Document.objects.all()))
    assert share.documents.count() == 4
    # Verifying again claims nothing more, and changes nothing.
    email_address_verified(address=EmailAddress.objects.get(email=SECOND))
    assert Document.objects.filter(learner=learner).count() == 4


def test_an_invitation_followed_signed_in_with_another_account_brings_nothing(university, zoe):
    # Only the invited address takes an invitation up (issue 14): a forwarded link does not
    # move the documents into whoever follows it; the address is added and confirmed instead.
    issue(university, SECOND)
    [invitation] = invitations_to(SECOND)
    client = Client()
    client.force_login(zoe)
    response = client.post(link_in(invitation), {"action": "accept"})

    assert response.status_code == 403
    assert Document.objects.get(learner_email=SECOND).learner is None
    assert not EmailAddress.objects.filter(email=SECOND).exists()
    assert "Certificate" not in client.get(reverse("documents:list")).content.decode()


def test_an_unverified_address_claims_nothing(university, zoe):
    issue(university, SECOND)
    client = Client()
    client.force_login(zoe)
    client.post(reverse("account_email"), {"action_add": "", "email": SECOND})
    address = EmailAddress.objects.get(email=SECOND)
    assert address.user == zoe and not address.verified

    email_address_verified(address=address)  # even if the hook were called too early

    assert Document.objects.get(learner_email=SECOND).learner is None
    assert "Certificate" not in client.get(reverse("documents:list")).content.decode()


def test_an_address_held_by_another_account_claims_nothing(university, zoe):
    # allauth keeps a verified address on one account (its table says so); the claim checks
    # again itself, here against an account signing in with the address with no allauth row.
    issue(university, SECOND)
    User.objects.create_user(SECOND, testing.PASSWORD, full_name="Someone Else")
    zoes = EmailAddress.objects.create(user=zoe, email=SECOND, verified=True)

    email_address_verified(address=zoes)

    assert Document.objects.get(learner_email=SECOND).learner is None


def test_no_one_else_sees_a_waiting_or_a_claimed_document(university, zoe):
    waiting = issue(university, SECOND, "Waiting")
    claimed = issue(university, NEW, "Claimed")
    _client, learner = sign_up_from_invitation(NEW)
    zoe_client = Client()
    zoe_client.force_login(zoe)

    for document in (waiting, claimed):
        detail = reverse("documents:detail", args=[document.pk])
        assert zoe_client.get(detail).status_code == 404
        assert zoe_client.get(reverse("documents:view", args=[document.pk])).status_code == 404
    page = zoe_client.get(reverse("documents:list")).content.decode()
    assert "Waiting" not in page and "Claimed" not in page
    assert Document.objects.get(pk=claimed.pk).learner == learner


def test_the_documents_page_makes_as_many_queries_for_claimed_documents(university, zoe):
    for number in range(3):
        testing.make_document(zoe, university, f"Direct {number}")
        issue(university, NEW, f"Claimed {number}")
        issue(university, SECOND, f"Still waiting {number}")
    client, learner = sign_up_from_invitation(NEW)
    zoe_client = Client()
    zoe_client.force_login(zoe)

    def queries_of(c: Client) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert c.get(reverse("documents:list")).status_code == 200
        return len(queries)

    # The number the page is pinned to (core/tests/test_query_counts.py), claimed or not.
    assert queries_of(client) == queries_of(zoe_client) == DOCUMENTS_PAGE_QUERIES
