"""The reason an issuer gives for withdrawing or revoking a document is private: the issuer's
form says who sees it (the learner and the issuer's staff), they see it, and no public path
(the verification pages and JSON endpoints, for a PDF, a credential or the document's id)
shows it; those say only that the document no longer stands."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from credshare.core import testing
from credshare.verification.tests.test_api import (
    credential_of,
    stored_pdf,
    verify_credential,
    verify_pdf,
)
from credshare.verification.tests.test_pages import post_credential, post_pdf

pytestmark = pytest.mark.django_db

REASON = "Academic misconduct found by the committee"


@pytest.fixture(params=[False, True], ids=["withdrawn", "revoked"])
def ended(request, zoe_transcript):
    testing.withdraw_document(zoe_transcript, REASON, revoke=request.param)
    return zoe_transcript


PUBLIC_PATHS = {
    "verify page by id": lambda d: Client().get(
        reverse("verification:document", args=[d.public_id])
    ),
    "verify page, a PDF": lambda d: post_pdf(Client(), stored_pdf(d)),
    "verify page, a credential": lambda d: post_credential(
        Client(), text=json.dumps(credential_of(d))
    ),
    "POST /pdfs/verify": lambda d: verify_pdf(Client(), stored_pdf(d)),
    "POST /credentials/verify": lambda d: verify_credential(Client(), credential_of(d)),
}


# How each path says the document no longer stands: the verdict's sentence on the verify
# pages, the status notice on the page by id, the status in the JSON answers.
STATED = {
    "withdrawn": ("issuer has withdrawn it: it no longer stands", "issuer withdrew this document"),
    "revoked": ("issuer has revoked it: it no longer stands", "issuer revoked this document"),
}


def states(text: str, status: str) -> bool:
    return any(phrase in text for phrase in STATED[status]) or f'"{status}"' in text


@pytest.mark.parametrize("path", list(PUBLIC_PATHS), ids=list(PUBLIC_PATHS))
def test_no_public_path_shows_the_reason_but_each_says_it_no_longer_stands(ended, path):
    response = PUBLIC_PATHS[path](ended)

    text = response.content.decode()
    assert response.status_code == 200
    assert REASON not in text
    assert states(text, ended.status)
    other = "revoked" if ended.status == "withdrawn" else "withdrawn"
    assert not states(text, other)


def test_the_learner_sees_the_reason_on_the_document_page(client, zoe, ended):
    client.force_login(zoe)

    page = client.get(reverse("documents:detail", args=[ended.pk])).content.decode()

    assert REASON in page


def test_the_issuers_staff_see_the_reason_and_the_form_says_who_sees_it(
    client, university, ended, zoe
):
    other = testing.make_document(zoe, university, "Still active")
    client.force_login(testing.make_issuer_staff(university, "staff@university.example"))

    ended_page = client.get(
        reverse("issuer_documents:detail", args=[university.slug, ended.pk])
    ).content.decode()
    form_page = client.get(
        reverse("issuer_documents:detail", args=[university.slug, other.pk])
    ).content.decode()

    assert REASON in ended_page
    assert "Only the learner and your organization&#x27;s staff see this reason" in form_page
    assert "never why" in form_page
    assert "The learner sees this reason." not in form_page
