"""The receiving organization's inbox: who sees which shares, what they see, what is logged
and what is served."""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from credshare.billing.models import CreditEntry
from credshare.core import testing
from credshare.documents.models import Document
from credshare.documents.services import document_version_add
from credshare.inbox import views as inbox_views
from credshare.sharing.models import Share, ShareAccess


def served_bytes(response) -> bytes:
    """The body of a file response. Reading it to the end closes the response (and its
    file) as a WSGI server would."""
    return b"".join(response.streaming_content)


@pytest.fixture
def zoe_diploma(zoe, university):
    return testing.make_document(
        zoe, university, "Bachelor diploma", document_type=Document.Type.DIPLOMA
    )


@pytest.fixture
def share_to_ecole(zoe, zoe_transcript, zoe_diploma, ecole):
    return testing.share_with(
        zoe,
        [zoe_transcript, zoe_diploma],
        ecole,
        name="Private name",
        purpose="Private purpose",
        reference="Réf1234",
        field_values={"application_number": "A-77", "intended_program": "science"},
        expires_on=testing.days_from_today(365),
    )


@pytest.fixture
def share_to_acme(bob, bob_transcript, university, acme):
    testing.give_credits(bob, university, 1)
    return testing.share_with(bob, [bob_transcript], acme, reference="ACME-REF-9")


@pytest.fixture
def camille_client(client, camille):
    client.force_login(camille)
    return client


def document_url(url_name: str, share: Share, document: Document) -> str:
    return reverse(url_name, args=[share.pk, document.pk])


# Who sees what


def test_staff_see_only_the_shares_addressed_to_their_organization(
    client, camille, dave, share_to_ecole, share_to_acme
):
    client.force_login(camille)
    ecole_inbox = client.get(reverse("inbox:list")).content.decode()
    client.force_login(dave)
    acme_inbox = client.get(reverse("inbox:list")).content.decode()

    assert "Réf1234" in ecole_inbox
    assert "ACME-REF-9" not in ecole_inbox
    assert "ACME-REF-9" in acme_inbox
    assert "Réf1234" not in acme_inbox


@pytest.mark.parametrize("url_name", ["inbox:view", "inbox:download"])
def test_staff_of_another_organization_cannot_get_a_shares_documents(
    client, dave, share_to_ecole, zoe_transcript, url_name
):
    client.force_login(dave)

    response = client.get(document_url(url_name, share_to_ecole, zoe_transcript))

    assert response.status_code == 404
    assert not ShareAccess.objects.exists()


def test_staff_of_another_organization_cannot_open_a_share(client, dave, share_to_ecole):
    client.force_login(dave)

    response = client.get(reverse("inbox:share", args=[share_to_ecole.pk]))

    assert response.status_code == 404
    assert not ShareAccess.objects.exists()


def test_a_learner_without_membership_has_no_inbox(client, zoe, share_to_ecole):
    client.force_login(zoe)

    assert client.get(reverse("inbox:list")).status_code == 404
    assert client.get(reverse("inbox:share", args=[share_to_ecole.pk])).status_code == 404


def test_staff_of_an_organization_that_receives_no_shares_have_no_inbox(client, university):
    registrar = testing.make_user("registrar@university.example", "Rita Registrar")
    testing.make_member(registrar, university)
    client.force_login(registrar)

    assert client.get(reverse("inbox:list")).status_code == 404


def test_the_owner_cannot_use_the_inbox_urls_of_their_own_share(
    client, zoe, share_to_ecole, zoe_transcript
):
    client.force_login(zoe)

    response = client.get(document_url("inbox:download", share_to_ecole, zoe_transcript))

    assert response.status_code == 404


def test_a_document_outside_the_share_is_not_found(
    camille_client, zoe, university, share_to_ecole, bob_transcript
):
    not_shared = testing.make_document(zoe, university, "Not shared")

    for document in (not_shared, bob_transcript):
        response = camille_client.get(document_url("inbox:download", share_to_ecole, document))
        assert response.status_code == 404
    assert not ShareAccess.objects.exists()


@pytest.mark.parametrize("url_name", ["inbox:list", "inbox:share"])
def test_anonymous_visitor_is_sent_to_sign_in(client, share_to_ecole, url_name):
    url = reverse(url_name, args=[share_to_ecole.pk] if url_name == "inbox:share" else [])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


# What the inbox shows


def test_inbox_shows_learner_reference_field_values_documents_date_and_expiry(
    camille_client, share_to_ecole
):
    response = camille_client.get(reverse("inbox:list"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Zoé Citoyenne" in page
    assert "Réf1234" in page
    assert "<dt><bdi>Application number</bdi></dt><dd><bdi>A-77</bdi></dd>" in page
    assert "<dt><bdi>Intended program</bdi></dt><dd><bdi>Sciences</bdi></dd>" in page
    assert "Official transcript" in page
    assert "Bachelor diploma" in page
    with translation.override("en"):
        shared_on = date_format(timezone.localtime(share_to_ecole.created), "SHORT_DATE_FORMAT")
        expiry = date_format(testing.days_from_today(365))
    assert shared_on in page
    assert expiry in page
    assert reverse("inbox:share", args=[share_to_ecole.pk]) in page


def test_staff_of_two_receivers_see_each_share_under_its_own_organizations_labels(
    client, camille, ecole, acme, share_to_ecole, bob, bob_transcript, university
):
    # The inbox attaches each row's recipient from the organizations it already read.
    testing.make_member(camille, acme)
    testing.make_share_field(acme, "badge_number", label_fr="Numéro de badge")
    testing.give_credits(bob, university, 1)
    testing.share_with(bob, [bob_transcript], acme, field_values={"badge_number": "B-12"})
    client.force_login(camille)

    english = client.get(reverse("inbox:list")).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    french = client.get(reverse("inbox:list")).content.decode()

    rows = re.findall(r"<tr>.*?</tr>", english, re.S)
    ecole_row = next(row for row in rows if "Réf1234" in row)
    acme_row = next(row for row in rows if "B-12" in row)
    assert "<dt><bdi>Application number</bdi></dt><dd><bdi>A-77</bdi></dd>" in ecole_row
    assert "Badge number" not in ecole_row
    assert "<dt><bdi>Badge number</bdi></dt><dd><bdi>B-12</bdi></dd>" in acme_row
    assert "Application number" not in acme_row
    assert "<dt><bdi>Numéro de badge</bdi></dt><dd><bdi>B-12</bdi></dd>" in french
    assert "<dt><bdi>Application number (fr)</bdi></dt><dd><bdi>A-77</bdi></dd>" in french


def test_inbox_never_shows_the_learners_private_name_and_purpose(camille_client, share_to_ecole):
    listing = camille_client.get(reverse("inbox:list")).content.decode()
    opened = camille_client.get(reverse("inbox:share", args=[share_to_ecole.pk])).content.decode()

    for page in (listing, opened):
        assert "Private name" not in page
        assert "Private purpose" not in page


def test_share_page_shows_the_share_and_links_to_each_document(
    camille_client, share_to_ecole, zoe_transcript, zoe_diploma
):
    response = camille_client.get(reverse("inbox:share", args=[share_to_ecole.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    # The learner's name and answers isolated from the page's text (right-to-left names).
    assert "Share from <bdi>Zoé Citoyenne</bdi>" in page
    assert "Réf1234" in page
    assert "<dt><bdi>Application number</bdi></dt><dd><bdi>A-77</bdi></dd>" in page
    for document in (zoe_transcript, zoe_diploma):
        assert document.title in page
        assert document_url("inbox:view", share_to_ecole, document) in page
        assert document_url("inbox:download", share_to_ecole, document) in page


@pytest.fixture
def five_shares_to_ecole(zoe, free_college, ecole, monkeypatch):
    """Five shares, REF-1 (oldest) to REF-5, on pages of two."""
    monkeypatch.setattr(inbox_views, "PAGE_SIZE", 2)
    document = testing.make_document(zoe, free_college, "College certificate")
    for n in range(1, 6):
        testing.share_with(
            zoe, [document], ecole, reference=f"REF-{n}", field_values={"application_number": "1"}
        )


def references_on(page: str) -> list[str]:
    return re.findall(r"<td><bdi>(REF-\d)</bdi></td>", page)


@pytest.mark.parametrize(
    ("query", "references", "previous", "next_"),
    [
        ("", ["REF-5", "REF-4"], None, "?page=2"),
        ("?page=2", ["REF-3", "REF-2"], "?page=1", "?page=3"),
        ("?page=3", ["REF-1"], "?page=2", None),
    ],
)
def test_the_inbox_pages_newest_first_without_counting_its_shares(
    camille_client, five_shares_to_ecole, query, references, previous, next_
):
    page = camille_client.get(reverse("inbox:list") + query).content.decode()

    assert references_on(page) == references
    assert (f'href="{previous}" rel="prev"' in page) == (previous is not None)
    assert (f'href="{next_}" rel="next"' in page) == (next_ is not None)
    number = int(query.removeprefix("?page=") or 1)
    # No "of 3": knowing the number of pages would take counting every share.
    assert f"<span>Page {number}</span>" in page


@pytest.mark.parametrize("page_number", ["4", "0", "-1", "abc", "99999999999999999999"])
def test_a_page_past_the_end_or_not_a_page_shows_the_first_page(
    camille_client, five_shares_to_ecole, page_number
):
    response = camille_client.get(reverse("inbox:list"), {"page": page_number})

    assert response.status_code == 200
    assert references_on(response.content.decode()) == ["REF-5", "REF-4"]


def test_the_inbox_pages_in_french(camille_client, five_shares_to_ecole):
    camille_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    page = camille_client.get(reverse("inbox:list"), {"page": "2"}).content.decode()

    assert "<span>Page 2</span>" in page
    assert 'rel="prev">Précédent</a>' in page
    assert 'rel="next">Suivant</a>' in page


def test_a_revoked_share_is_listed_without_a_link(camille_client, share_to_ecole):
    Share.objects.filter(pk=share_to_ecole.pk).update(revoked_at=timezone.now())

    page = camille_client.get(reverse("inbox:list")).content.decode()

    assert "Réf1234" in page
    assert "Revoked" in page
    assert reverse("inbox:share", args=[share_to_ecole.pk]) not in page


# What is logged


def test_opening_a_share_records_who_opened_it(camille_client, camille, ecole, share_to_ecole):
    camille_client.get(reverse("inbox:share", args=[share_to_ecole.pk]))

    access = ShareAccess.objects.get()
    assert (access.share, access.action) == (share_to_ecole, ShareAccess.Action.OPENED)
    assert (access.organization, access.user) == (ecole, camille)
    assert access.document is None


@pytest.mark.parametrize(
    ("url_name", "action", "disposition"),
    [
        ("inbox:view", ShareAccess.Action.VIEWED, "inline"),
        ("inbox:download", ShareAccess.Action.DOWNLOADED, "attachment"),
    ],
)
def test_viewing_and_downloading_serve_the_pdf_and_record_the_access(
    camille_client, camille, ecole, share_to_ecole, zoe_transcript, url_name, action, disposition
):
    response = camille_client.get(document_url(url_name, share_to_ecole, zoe_transcript))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith(disposition)
    with zoe_transcript.versions.get().file.open("rb") as stored:
        assert served_bytes(response) == stored.read()
    access = ShareAccess.objects.get()
    assert (access.share, access.action) == (share_to_ecole, action)
    assert (access.organization, access.user) == (ecole, camille)
    assert (access.document, access.version.number) == (zoe_transcript, 1)


def test_serving_a_file_reads_the_share_and_that_version_and_writes_one_row(
    camille_client, share_to_ecole, zoe_transcript, django_assert_num_queries
):
    # The recipient's hottest path (bench/load.py): the session, the user, the share (with
    # the membership that authorizes it), the document's newest version, the access row.
    with django_assert_num_queries(5):
        response = camille_client.get(document_url("inbox:view", share_to_ecole, zoe_transcript))
        served_bytes(response)

    assert response.status_code == 200
    assert ShareAccess.objects.get().action == ShareAccess.Action.VIEWED


def test_each_request_is_recorded_separately(camille_client, share_to_ecole, zoe_transcript):
    camille_client.get(reverse("inbox:share", args=[share_to_ecole.pk]))
    camille_client.get(reverse("inbox:share", args=[share_to_ecole.pk]))
    served_bytes(camille_client.get(document_url("inbox:download", share_to_ecole, zoe_transcript)))

    actions = sorted(ShareAccess.objects.values_list("action", flat=True))

    assert actions == ["downloaded", "opened", "opened"]


# Seed step 12: the issuer's correction reaches the recipient


def test_recipient_gets_the_newest_version_without_a_new_share_or_credit(
    camille_client, zoe, university, share_to_ecole, zoe_transcript
):
    credit_entries = CreditEntry.objects.count()
    corrected = testing.sample_pdf("Corrected by the registrar")
    # Stored as issued: signed (credshare/documents/signing.py).
    corrected = document_version_add(document=zoe_transcript, pdf=corrected).file.read()

    downloaded = camille_client.get(document_url("inbox:download", share_to_ecole, zoe_transcript))
    viewed = camille_client.get(document_url("inbox:view", share_to_ecole, zoe_transcript))

    assert served_bytes(downloaded) == corrected
    assert served_bytes(viewed) == corrected
    assert "-v2.pdf" in downloaded["Content-Disposition"]
    assert Share.objects.count() == 1
    assert CreditEntry.objects.count() == credit_entries
    assert set(ShareAccess.objects.values_list("version__number", flat=True)) == {2}


def test_share_page_shows_the_newest_version_number(camille_client, share_to_ecole, zoe_transcript):
    corrected = document_version_add(document=zoe_transcript, pdf=testing.sample_pdf("v2"))

    page = camille_client.get(reverse("inbox:share", args=[share_to_ecole.pk])).content.decode()

    assert corrected.sha256[:12] in page


# A withdrawn document


@pytest.mark.parametrize("url_name", ["inbox:view", "inbox:download"])
def test_a_withdrawn_document_is_not_served(
    camille_client, share_to_ecole, zoe_transcript, url_name
):
    Document.objects.filter(pk=zoe_transcript.pk).update(status=Document.Status.WITHDRAWN)

    response = camille_client.get(document_url(url_name, share_to_ecole, zoe_transcript))

    assert response.status_code == 410
    assert response["Content-Type"].startswith("text/html")
    assert "The issuer withdrew this document." in response.content.decode()
    assert not ShareAccess.objects.exists()


def test_share_page_offers_no_link_to_a_withdrawn_document(
    camille_client, share_to_ecole, zoe_transcript, zoe_diploma
):
    Document.objects.filter(pk=zoe_transcript.pk).update(status=Document.Status.WITHDRAWN)

    page = camille_client.get(reverse("inbox:share", args=[share_to_ecole.pk])).content.decode()

    assert "Withdrawn by the issuer" in page
    assert document_url("inbox:download", share_to_ecole, zoe_transcript) not in page
    assert document_url("inbox:download", share_to_ecole, zoe_diploma) in page
