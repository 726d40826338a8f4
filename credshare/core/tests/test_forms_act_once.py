"""Every issuer and admin form that creates or changes something acts once: the same form
posted twice (a double click, a reload, two tabs) does it once, and the second post is sent
to the first one's result, saying so. The token comes from the page as served; a form whose
action fails can be corrected and sent again with the same token."""

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credshare.billing.models import CreditEntry, Purchase
from credshare.core import testing
from credshare.core.models import FormSubmission
from credshare.core.submissions import form_submissions_purge
from credshare.documents.models import Document, DocumentVersion, IssuanceJob
from credshare.network.models import ShareField
from credshare.webhooks.models import WebhookEndpoint

ALREADY = "This form was already sent: it was done once, here is the result."


def token_in(page: str, form_id: str | None = None) -> str:
    """The one-time token of the form FORM_ID (the first form with one when None) in PAGE."""
    if form_id is not None:
        page = page[page.index(f'id="{form_id}"') :]
    match = re.search(r'name="submission_token" value="([0-9a-f-]{36})"', page)
    assert match, "the form carries no one-time token"
    return match.group(1)


@dataclass
class Case:
    """One form: the page that serves it (and which form on it), where it posts, what it
    posts besides the token, and what to count to see whether it acted."""

    page: Callable[[dict], str]
    form_id: str | None
    action: Callable[[dict], str]
    data: Callable[[dict], dict]
    count: Callable[[dict], object]
    client: str = "client"  # the university's administrator; "ecole_client" for École's


def _doc(w, *args):
    return reverse(args[0], args=[w["university"].slug, *args[1:]])


CASES = {
    "issue a document": Case(
        page=lambda w: _doc(w, "issuer_documents:new"),
        form_id="issue",
        action=lambda w: _doc(w, "issuer_documents:new"),
        data=lambda w: {
            "email": "zoe@example.org",
            "document_type": Document.Type.DIPLOMA,
            "title": "Bachelor of Testing",
            "issue_date": "2026-05-30",
            "source": "upload",
            "pdf": testing.pdf_upload(),
        },
        count=lambda w: Document.objects.filter(title="Bachelor of Testing").count(),
    ),
    "grant credits": Case(
        page=lambda w: _doc(w, "issuer_billing:grant"),
        form_id="grant",
        action=lambda w: _doc(w, "issuer_billing:grant"),
        data=lambda w: {"email": "zoe@example.org", "shares": "2", "note": "From the form"},
        count=lambda w: sum(
            CreditEntry.objects.filter(
                kind=CreditEntry.Kind.GRANT, note="From the form"
            ).values_list("amount", flat=True)
        ),
    ),
    "add a new version": Case(
        page=lambda w: _doc(w, "issuer_documents:detail", w["document"].pk),
        form_id="version-add",
        action=lambda w: _doc(w, "issuer_documents:version_add", w["document"].pk),
        data=lambda w: {"pdf": testing.pdf_upload(testing.sample_pdf("corrected"))},
        count=lambda w: DocumentVersion.objects.filter(document=w["document"]).count(),
    ),
    "withdraw": Case(
        page=lambda w: _doc(w, "issuer_documents:detail", w["document"].pk),
        form_id="withdraw",
        action=lambda w: _doc(w, "issuer_documents:withdraw", w["document"].pk),
        data=lambda w: {"action": "withdraw", "reason": "Issued in error"},
        count=lambda w: Document.objects.filter(status=Document.Status.WITHDRAWN).count(),
    ),
    "revoke": Case(
        page=lambda w: _doc(w, "issuer_documents:detail", w["document"].pk),
        form_id="withdraw",
        action=lambda w: _doc(w, "issuer_documents:withdraw", w["document"].pk),
        data=lambda w: {"action": "revoke", "reason": "Fraud"},
        count=lambda w: Document.objects.filter(status=Document.Status.REVOKED).count(),
    ),
    "refund": Case(
        page=lambda w: _doc(w, "issuer_billing:payments"),
        form_id=None,
        action=lambda w: _doc(w, "issuer_billing:refund", w["purchase"].pk),
        data=lambda w: {},
        count=lambda w: Purchase.objects.filter(status=Purchase.Status.REFUNDED).count(),
    ),
    "start a bulk job": Case(
        page=lambda w: _doc(w, "issuer_documents:bulk_new"),
        form_id="bulk-upload",
        action=lambda w: _doc(w, "issuer_documents:bulk_new"),
        data=lambda w: {
            "rows": testing.bulk_csv([testing.bulk_row(1, "zoe@example.org")]),
            "pdfs": testing.bulk_zip(),
        },
        count=lambda w: IssuanceJob.objects.count(),
    ),
    "add a webhook endpoint": Case(
        page=lambda w: reverse("network:webhook_new", args=[w["ecole"].slug]),
        form_id=None,
        action=lambda w: reverse("network:webhook_new", args=[w["ecole"].slug]),
        data=lambda w: {"url": "https://sis.ecole.example/hooks", "events": ["share.received"]},
        count=lambda w: WebhookEndpoint.objects.count(),
        client="ecole_client",
    ),
    "add an extra field": Case(
        page=lambda w: reverse("network:field_new", args=[w["ecole"].slug]),
        form_id=None,
        action=lambda w: reverse("network:field_new", args=[w["ecole"].slug]),
        data=lambda w: {
            "label_en": "Program code",
            "label_fr": "Code du programme",
            "field_type": "text",
        },
        count=lambda w: ShareField.objects.filter(label_en="Program code").count(),
        client="ecole_client",
    ),
}


@pytest.fixture
def world(settings, university, ecole, zoe, zoe_transcript) -> dict:
    settings.CREDSHARE_TASKS = "none"
    admin = testing.make_issuer_staff(university, "head@university.example", role="admin")
    purchase = testing.make_paid_purchase(zoe, testing.make_bundle(university, 3, 2500))
    client = Client()
    client.force_login(admin)
    ecole_client = Client()
    ecole_client.force_login(testing.make_issuer_staff(ecole, "head@ecole.example", role="admin"))
    return {
        "ecole": ecole,
        "ecole_client": ecole_client,
        "university": university,
        "document": zoe_transcript,
        "purchase": purchase,
        "client": client,
    }


def served_form(world: dict, case: Case) -> tuple[str, dict]:
    page = world[case.client].get(case.page(world))
    assert page.status_code == 200
    return token_in(page.content.decode(), case.form_id), case.data(world)


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_the_same_form_posted_twice_acts_once_and_shows_the_result(world, name):
    case = CASES[name]
    client = world[case.client]
    before = case.count(world)
    token, data = served_form(world, case)

    first = client.post(case.action(world), {**data, "submission_token": token})
    done_once = case.count(world)
    second = client.post(case.action(world), {**case.data(world), "submission_token": token})

    assert first.status_code == 302, first.content.decode()[:2000]
    assert done_once != before
    assert case.count(world) == done_once
    assert second.status_code == 302
    assert second["Location"] == first["Location"]
    assert ALREADY in client.get(second["Location"]).content.decode()


@pytest.mark.django_db
def test_granting_twice_with_two_forms_grants_twice(world):
    case = CASES["grant credits"]
    for _ in range(2):
        token, data = served_form(world, case)
        world["client"].post(case.action(world), {**data, "submission_token": token})

    assert case.count(world) == 4


@pytest.mark.django_db
def test_a_refused_form_can_be_corrected_and_sent_again_with_its_token(world):
    case = CASES["grant credits"]
    token, data = served_form(world, case)

    refused = world["client"].post(
        case.action(world), {**data, "email": "nobody@example.org", "submission_token": token}
    )
    accepted = world["client"].post(case.action(world), {**data, "submission_token": token})

    assert refused.status_code == 400
    assert accepted.status_code == 302
    assert case.count(world) == 2


@pytest.mark.django_db
def test_another_persons_token_does_nothing(world, university):
    case = CASES["grant credits"]
    token, data = served_form(world, case)
    world["client"].post(case.action(world), {**data, "submission_token": token})
    other = Client()
    other.force_login(
        testing.make_issuer_staff(university, "other@university.example", role="admin")
    )

    response = other.post(case.action(world), {**data, "submission_token": token})

    assert response.status_code == 302
    assert case.count(world) == 2


@pytest.mark.django_db
def test_tokens_are_forgotten_after_a_day(world):
    case = CASES["grant credits"]
    token, data = served_form(world, case)
    world["client"].post(case.action(world), {**data, "submission_token": token})

    assert form_submissions_purge(older_than=timezone.now()) == 1
    assert not FormSubmission.objects.exists()


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrency"
)
@pytest.mark.django_db(transaction=True)
def test_two_posts_of_one_form_at_the_same_moment_grant_once(world):
    case = CASES["grant credits"]
    token, data = served_form(world, case)
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    errors: list = []
    session = world["client"].cookies

    def post():
        try:
            client = Client()
            client.cookies = session
            barrier.wait(timeout=10)
            statuses.append(
                client.post(case.action(world), {**data, "submission_token": token}).status_code
            )
        except Exception as error:  # reported by the test, never swallowed
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert statuses == [302, 302]
    assert case.count(world) == 2
