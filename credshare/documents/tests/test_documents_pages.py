"""The learner's documents page, document page and PDF: what the learner sees and gets."""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from credshare.core import testing
from credshare.documents.models import Document
from credshare.documents.services import document_version_add


def served_bytes(response) -> bytes:
    """The body of a file response. Reading it to the end closes the response (and its
    file) as a WSGI server would."""
    return b"".join(response.streaming_content)


def stored_bytes(document: Document) -> bytes:
    """The PDF of the document's newest version, as stored."""
    version = document.versions.order_by("-number").first()
    with version.file.open("rb") as handle:
        return handle.read()


def spend_the_only_credit(zoe, zoe_transcript, recipient) -> None:
    testing.share_with(zoe, [zoe_transcript], recipient)


@pytest.fixture
def zoe_client(client, zoe):
    client.force_login(zoe)
    return client


# The documents page


def test_documents_page_lists_the_learners_own_documents_only(
    zoe_client, zoe_transcript, bob_transcript
):
    response = zoe_client.get(reverse("documents:list"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Official transcript" in page
    assert "Bob&#x27;s transcript" not in page
    assert reverse("documents:detail", args=[bob_transcript.pk]) not in page


def test_documents_page_lists_documents_newest_first(zoe_client, zoe, university):
    testing.make_document(zoe, university, "Diploma of 2024", issue_date=datetime.date(2024, 6, 1))
    testing.make_document(zoe, university, "Letter of 2026", issue_date=datetime.date(2026, 3, 1))
    testing.make_document(
        zoe, university, "Transcript of 2025", issue_date=datetime.date(2025, 1, 9)
    )

    page = zoe_client.get(reverse("documents:list")).content.decode()

    titles = ["Letter of 2026", "Transcript of 2025", "Diploma of 2024"]
    positions = [page.index(title) for title in titles]
    assert positions == sorted(positions)


def test_documents_page_shows_each_documents_issuer_type_and_date(zoe_client, zoe, free_college):
    testing.make_document(
        zoe,
        free_college,
        "Certificate in welding",
        issue_date=datetime.date(2025, 11, 20),
        document_type=Document.Type.CERTIFICATE,
    )

    page = zoe_client.get(reverse("documents:list")).content.decode()

    row = page[page.index("Certificate in welding") :].split("</tr>")[0]
    assert "Free College" in row
    assert "Certificate" in row
    with translation.override("en"):
        assert date_format(datetime.date(2025, 11, 20)) in row
    assert 'datetime="2025-11-20"' in row


def test_documents_page_for_a_learner_without_documents_says_so(client, bob):
    client.force_login(bob)

    response = client.get(reverse("documents:list"))

    assert response.status_code == 200
    assert "You have no documents yet" in response.content.decode()


# The document page and its PDF


def test_document_page_shows_the_pdf_inline_and_offers_a_download(zoe_client, zoe_transcript):
    response = zoe_client.get(reverse("documents:detail", args=[zoe_transcript.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert (
        f'<iframe class="pdf-viewer" src="{reverse("documents:view", args=[zoe_transcript.pk])}"'
        in page
    )
    assert f'href="{reverse("documents:download", args=[zoe_transcript.pk])}"' in page
    assert "Example University" in page


def test_pdf_view_serves_the_pdf_inline(zoe_client, zoe_transcript):
    response = zoe_client.get(reverse("documents:view", args=[zoe_transcript.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert served_bytes(response) == stored_bytes(zoe_transcript)


def test_download_serves_the_pdf_as_an_attachment(zoe_client, zoe_transcript):
    response = zoe_client.get(reverse("documents:download", args=[zoe_transcript.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert 'filename="official-transcript-v1.pdf"' in response["Content-Disposition"]
    assert served_bytes(response) == stored_bytes(zoe_transcript)


def test_pdf_is_not_kept_by_shared_caches(zoe_client, zoe_transcript):
    response = zoe_client.get(reverse("documents:view", args=[zoe_transcript.pk]))
    served_bytes(response)

    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_pdf_and_download_serve_the_newest_version_once_the_issuer_adds_one(
    zoe_client, zoe_transcript
):
    first = served_bytes(zoe_client.get(reverse("documents:view", args=[zoe_transcript.pk])))
    corrected = testing.sample_pdf("Corrected by the registrar")
    # Stored as issued: signed (credshare/documents/signing.py).
    corrected = document_version_add(document=zoe_transcript, pdf=corrected).file.read()

    viewed = zoe_client.get(reverse("documents:view", args=[zoe_transcript.pk]))
    downloaded = zoe_client.get(reverse("documents:download", args=[zoe_transcript.pk]))

    assert served_bytes(viewed) == corrected != first
    assert served_bytes(downloaded) == corrected
    assert "-v2.pdf" in downloaded["Content-Disposition"]


@pytest.mark.parametrize("url_name", ["documents:detail", "documents:view", "documents:download"])
def test_another_learners_document_is_not_found(client, bob, zoe_transcript, url_name):
    client.force_login(bob)

    response = client.get(reverse(url_name, args=[zoe_transcript.pk]))

    assert response.status_code == 404


@pytest.mark.parametrize("url_name", ["documents:detail", "documents:view", "documents:download"])
def test_a_document_that_does_not_exist_is_not_found(zoe_client, zoe_transcript, url_name):
    response = zoe_client.get(reverse(url_name, args=[zoe_transcript.pk + 1000]))

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("url_name", "args"),
    [
        ("documents:list", []),
        ("documents:detail", ["pk"]),
        ("documents:view", ["pk"]),
        ("documents:download", ["pk"]),
    ],
)
def test_anonymous_visitor_is_sent_to_sign_in(client, zoe_transcript, url_name, args):
    url = reverse(url_name, args=[zoe_transcript.pk for _ in args])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_documents_pages_refuse_a_post(zoe_client, zoe_transcript):
    assert zoe_client.post(reverse("documents:list")).status_code == 405
    assert zoe_client.post(reverse("documents:detail", args=[zoe_transcript.pk])).status_code == 405


# The "Share" button and credits


def test_document_page_offers_share_while_a_credit_is_left(zoe_client, zoe_transcript):
    page = zoe_client.get(reverse("documents:detail", args=[zoe_transcript.pk])).content.decode()

    share_url = f"{reverse('sharing:start')}?documents={zoe_transcript.pk}"
    assert f'<a class="button primary" href="{share_url}">Share</a>' in page
    assert "You currently have 1 share. Sharing this document will use one share." in page


def test_share_is_disabled_and_explained_when_no_credit_is_left(
    zoe_client, zoe, zoe_transcript, ecole
):
    spend_the_only_credit(zoe, zoe_transcript, ecole)

    page = zoe_client.get(reverse("documents:detail", args=[zoe_transcript.pk])).content.decode()

    assert (
        '<button type="button" class="primary" disabled aria-describedby="share-blocked">' in page
    )
    assert f"{reverse('sharing:start')}?documents={zoe_transcript.pk}" not in page
    assert (
        "You have no shares left for documents from Example University. "
        "Ask Example University for more shares."
    ) in page


def test_share_is_disabled_for_a_learner_who_never_had_credits(client, bob, bob_transcript):
    client.force_login(bob)

    page = client.get(reverse("documents:detail", args=[bob_transcript.pk])).content.decode()

    assert "disabled" in page
    assert "You have no shares left for documents from Example University." in page


def test_documents_page_offers_no_tick_box_for_a_document_that_cannot_be_shared(
    zoe_client, zoe, zoe_transcript, ecole
):
    spend_the_only_credit(zoe, zoe_transcript, ecole)

    page = zoe_client.get(reverse("documents:list")).content.decode()

    assert f'id="select-{zoe_transcript.pk}"' not in page
    assert "You have no shares left for documents from Example University." in page


def test_a_free_issuers_document_stays_shareable_without_credits(client, bob, free_college):
    document = testing.make_document(bob, free_college, "Free diploma")
    client.force_login(bob)

    detail = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    listing = client.get(reverse("documents:list")).content.decode()

    assert f'href="{reverse("sharing:start")}?documents={document.pk}">Share</a>' in detail
    assert "disabled" not in detail
    assert "no shares left" not in detail
    assert f'id="select-{document.pk}"' in listing


def test_a_withdrawn_document_cannot_be_shared(zoe_client, zoe_transcript):
    Document.objects.filter(pk=zoe_transcript.pk).update(status=Document.Status.WITHDRAWN)

    page = zoe_client.get(reverse("documents:detail", args=[zoe_transcript.pk])).content.decode()

    assert "disabled" in page
    assert "The issuer withdrew this document: it cannot be shared." in page
