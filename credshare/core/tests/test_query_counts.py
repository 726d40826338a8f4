"""The documents page, "My shares" and the inbox make as many queries for ten rows as for
one: no query per row. The exact counts are pinned so that a regression shows."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credshare.core import testing
from credshare.documents.models import Document
from credshare.documents.selectors import current_version
from credshare.sharing.services import share_access_record

# Every page: the session, the user, and the header's "Inbox" link (a receiving organization's
# member?). Change a count only with a reason: a count that grows with the rows is what these
# catch. Documents: count, documents with issuers, the issuers' sharing policies (who charges,
# their free shares), the ledger, which issuers ask a collection fee (and, only when some do,
# which of those documents are paid).
DOCUMENTS_PAGE_QUERIES = 8
# My shares: count, shares with recipients and times opened, their documents with issuers.
MY_SHARES_QUERIES = 6
# Inbox: the user's organizations (shared with the header's link), the shares with owners and
# recipients (one more row than a page, in place of counting them all), the recipients' extra
# fields, the documents with issuers.
INBOX_QUERIES = 6


def add_documents(learner, issuers, count: int) -> None:
    for i in range(count):
        testing.make_document(
            learner,
            issuers[i % len(issuers)],
            f"Document {uuid.uuid4().hex[:8]}",
            document_type=Document.Type.CERTIFICATE,
        )


def add_shares(owners, issuer, recipient, staff, count: int) -> None:
    """COUNT shares to RECIPIENT, each with two documents, extra field values, and an
    opening, a view and a download by STAFF."""
    for i in range(count):
        owner = owners[i % len(owners)]
        testing.give_credits(owner, issuer, 1)
        documents = [
            testing.make_document(owner, issuer, f"Transcript {uuid.uuid4().hex[:8]}"),
            testing.make_document(owner, issuer, f"Diploma {uuid.uuid4().hex[:8]}"),
        ]
        share = testing.share_with(
            owner,
            documents,
            recipient,
            name=f"Share {i}",
            purpose="Admission",
            reference=f"REF-{uuid.uuid4().hex[:8]}",
            field_values={"application_number": f"A-{i}", "intended_program": "science"},
        )
        share_access_record(share=share, action="opened", user=staff, organization=recipient)
        for action, document in (("viewed", documents[0]), ("downloaded", documents[1])):
            share_access_record(
                share=share,
                action=action,
                user=staff,
                organization=recipient,
                document=document,
                version=current_version(document),
            )


def queries_for(client, url: str, expected_rows: int, row_marker: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count(row_marker) == expected_rows
    return len(queries)


@pytest.fixture
def zoe_client(client, zoe):
    client.force_login(zoe)
    return client


@pytest.fixture
def camille_client(client, camille):
    client.force_login(camille)
    return client


def test_documents_page_queries_do_not_grow_with_the_documents(
    zoe_client, zoe, university, free_college
):
    url = reverse("documents:list")
    add_documents(zoe, [university, free_college], 1)
    for_one = queries_for(zoe_client, url, 1, 'name="documents"')
    add_documents(zoe, [free_college, university], 9)
    for_ten = queries_for(zoe_client, url, 10, 'name="documents"')

    assert for_one == for_ten


def test_documents_page_with_ten_documents_makes_a_fixed_number_of_queries(
    zoe_client, zoe, university, free_college, django_assert_num_queries
):
    add_documents(zoe, [university, free_college], 10)

    with django_assert_num_queries(DOCUMENTS_PAGE_QUERIES):
        response = zoe_client.get(reverse("documents:list"))

    assert response.status_code == 200


def test_my_shares_queries_do_not_grow_with_the_shares(zoe_client, zoe, university, ecole, camille):
    url = reverse("sharing:list")
    add_shares([zoe], university, ecole, camille, 1)
    for_one = queries_for(zoe_client, url, 1, "1 time<")
    add_shares([zoe], university, ecole, camille, 9)
    for_ten = queries_for(zoe_client, url, 10, "1 time<")

    assert for_one == for_ten


def test_my_shares_with_ten_shares_makes_a_fixed_number_of_queries(
    zoe_client, zoe, university, ecole, camille, django_assert_num_queries
):
    add_shares([zoe], university, ecole, camille, 10)

    with django_assert_num_queries(MY_SHARES_QUERIES):
        response = zoe_client.get(reverse("sharing:list"))

    assert response.status_code == 200


def test_inbox_queries_do_not_grow_with_the_shares(
    camille_client, zoe, bob, university, ecole, camille
):
    url = reverse("inbox:list")
    add_shares([zoe, bob], university, ecole, camille, 1)
    for_one = queries_for(camille_client, url, 1, "<dt><bdi>Application number</bdi></dt>")
    add_shares([bob, zoe], university, ecole, camille, 9)
    for_ten = queries_for(camille_client, url, 10, "<dt><bdi>Application number</bdi></dt>")

    assert for_one == for_ten


def test_inbox_with_ten_shares_makes_a_fixed_number_of_queries(
    camille_client, zoe, bob, university, ecole, camille, django_assert_num_queries
):
    add_shares([zoe, bob], university, ecole, camille, 10)

    with django_assert_num_queries(INBOX_QUERIES):
        response = camille_client.get(reverse("inbox:list"))

    assert response.status_code == 200
