"""The issuer staff's document pages: who may use them, issuing one document (uploaded or
made from transcript data), bad input, finding documents, a new version, withdrawal."""

import datetime
import io

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credshare.core import testing
from credshare.documents.issuer_forms import MAX_PDF_BYTES
from credshare.documents.models import Document, DocumentVersion
from credshare.documents.services import document_version_add
from credshare.sharing.models import Share
from credshare.sharing.services import share_revoke

PRIVATE_NAME = "My secret application"
PRIVATE_PURPOSE = "Moving to the other school"


@pytest.fixture
def registrar(university):
    return testing.make_issuer_staff(university, "registrar@university.example")


@pytest.fixture
def registrar_admin(university):
    return testing.make_issuer_staff(university, "head@university.example", role="admin")


@pytest.fixture
def staff_client(client, registrar):
    client.force_login(registrar)
    return client


@pytest.fixture
def link(zoe, zoe_transcript):
    return testing.share_by_link(zoe, [zoe_transcript], name=PRIVATE_NAME, purpose=PRIVATE_PURPOSE)


def url(name: str, organization, *args) -> str:
    return reverse(f"issuer_documents:{name}", args=[organization.slug, *args])


def issue_data(**values) -> dict:
    data = {
        "email": "zoe@example.org",
        "document_type": Document.Type.DIPLOMA,
        "title": "Bachelor of Testing",
        "issue_date": "2026-05-30",
        "source": "upload",
    }
    data.update(values)
    return data


def served_bytes(response) -> bytes:
    return b"".join(response.streaming_content)


def page_text(data: bytes) -> bytes:
    """The decoded content streams of the PDF's pages: what it draws, text included."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data))
    kids = reader.root["/Pages"]["/Kids"]
    return b"".join(kids[index]["/Contents"].data for index in range(len(kids)))


def stored_bytes(version: DocumentVersion) -> bytes:
    with version.file.open("rb") as handle:
        return handle.read()


# Who may use the pages


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_members_of_the_issuer_see_every_page(client, university, zoe_transcript, role):
    member = testing.make_issuer_staff(university, f"{role}@university.example", role=role)
    client.force_login(member)

    for page in (
        url("list", university),
        url("new", university),
        url("detail", university, zoe_transcript.pk),
        url("version_download", university, zoe_transcript.pk, 1),
    ):
        assert client.get(page).status_code == 200, page


def test_the_nav_leads_to_the_documents(staff_client, university):
    page = staff_client.get(reverse("issuer_billing:payments", args=[university.slug]))

    assert url("list", university) in page.content.decode()


def test_another_issuers_staff_gets_404_for_the_pages_and_the_documents(
    client, university, free_college, zoe_transcript
):
    other = testing.make_issuer_staff(free_college, "staff@college.example", role="admin")
    client.force_login(other)

    assert client.get(url("list", university)).status_code == 404
    assert client.get(url("new", university)).status_code == 404
    # Under their own issuer's address, another issuer's document does not exist either.
    assert client.get(url("detail", free_college, zoe_transcript.pk)).status_code == 404
    assert (
        client.get(url("version_download", free_college, zoe_transcript.pk, 1)).status_code == 404
    )
    response = client.post(
        url("withdraw", free_college, zoe_transcript.pk), {"action": "withdraw", "reason": "x"}
    )
    assert response.status_code == 404
    zoe_transcript.refresh_from_db()
    assert zoe_transcript.is_active


def test_a_learner_gets_404(client, zoe, university, zoe_transcript):
    client.force_login(zoe)

    assert client.get(url("list", university)).status_code == 404
    assert client.get(url("detail", university, zoe_transcript.pk)).status_code == 404


def test_a_receiving_organizations_staff_gets_404(client, camille, university):
    client.force_login(camille)

    assert client.get(url("list", university)).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, university, zoe_transcript):
    for page in (url("list", university), url("detail", university, zoe_transcript.pk)):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# Issuing one document


def test_issuing_an_uploaded_pdf_puts_it_in_the_learners_account(
    staff_client, client, university, zoe
):
    pdf = testing.sample_pdf("uploaded diploma")

    response = staff_client.post(url("new", university), issue_data(pdf=testing.pdf_upload(pdf)))

    document = Document.objects.get(title="Bachelor of Testing")
    assert response.status_code == 302
    assert response["Location"] == url("detail", university, document.pk)
    assert document.issuer == university
    assert document.learner == zoe
    assert document.document_type == Document.Type.DIPLOMA
    assert document.issue_date == datetime.date(2026, 5, 30)
    # What is stored is the uploaded PDF, possibly signed: it draws the same page.
    assert b"(uploaded diploma)" in page_text(stored_bytes(document.versions.get()))
    client.force_login(zoe)
    assert "Bachelor of Testing" in client.get(reverse("documents:list")).content.decode()


def test_the_learners_email_is_matched_whatever_its_case(staff_client, university, zoe):
    staff_client.post(
        url("new", university), issue_data(email="ZOE@Example.org", pdf=testing.pdf_upload())
    )

    assert Document.objects.get(title="Bachelor of Testing").learner == zoe


def test_issuing_from_transcript_data_renders_a_pdf(staff_client, client, university, zoe):
    response = staff_client.post(
        url("new", university),
        issue_data(
            source="transcript",
            document_type=Document.Type.TRANSCRIPT,
            title="Transcript 2026",
            program="Computer science",
            courses="INF101; Programming; 3; A\nMAT200; Linear algebra; 3; B+\n",
            gpa="3.7",
            credential="Bachelor of Science",
        ),
    )

    assert response.status_code == 302
    document = Document.objects.get(title="Transcript 2026")
    data = stored_bytes(document.versions.get())
    assert data.startswith(b"%PDF-")
    text = page_text(data)
    assert b"(Linear algebra)" in text
    assert b"Credential conferred : Bachelor of Science" in text
    assert b"GPA : 3.7" in text
    assert university.name_en.encode() in text
    client.force_login(zoe)
    assert "Transcript 2026" in client.get(reverse("documents:list")).content.decode()


def test_a_transcript_keeps_its_data_and_its_credential_carries_it(staff_client, university, zoe):
    response = staff_client.post(
        url("new", university),
        issue_data(
            source="transcript",
            document_type=Document.Type.TRANSCRIPT,
            title="Transcript 2026",
            program="Computer science",
            courses="INF101; Programming; 3; A\nMAT200; Linear algebra; 3; B+\n",
            gpa="3.7",
            credential="Bachelor of Science",
            valid_until="2027-05-30",
        ),
    )

    assert response.status_code == 302
    document = Document.objects.get(title="Transcript 2026")
    assert document.record["courses"] == [
        ["INF101", "Programming", "3", "A"],
        ["MAT200", "Linear algebra", "3", "B+"],
    ]
    assert document.valid_until == datetime.date(2027, 5, 30)
    credential = document.versions.get().credential.credential
    subject = credential["credentialSubject"]
    assert subject["achievement"]["fieldOfStudy"] == "Computer science"
    assert [result["value"] for result in subject["result"]] == ["A", "B+", "3.7"]
    assert subject["creditsEarned"] == 6
    # Valid through the whole of its last day.
    assert credential["validUntil"] == "2027-05-31T00:00:00Z"


def errors_of(response, field: str) -> str:
    """The errors shown next to FIELD."""
    page = response.content.decode()
    start = page.index(f'id="field-{field}"')
    block = page[start:].split("</div>")[0]
    assert 'class="errors"' in block, f"no error next to {field}"
    return block


@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"email": "nobody@example.org"}, "full_name", "No one has an account"),
        ({"pdf": "not a pdf"}, "pdf", "This file is not a PDF."),
        ({"pdf": "too big"}, "pdf", "too big"),
        ({"pdf": None}, "pdf", "Choose the PDF"),
        ({"title": ""}, "title", "This field is required."),
        ({"issue_date": ""}, "issue_date", "This field is required."),
        ({"issue_date": "30/30/2026"}, "issue_date", "Enter a valid date."),
        ({"source": "transcript"}, "program", "Give the program"),
        ({"source": "transcript", "program": "X", "courses": "only one part"}, "courses", "Line 1"),
        ({"valid_until": "2026-05-29"}, "valid_until", "cannot expire before it is issued"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_issues_nothing(
    staff_client, university, zoe, values, field, message
):
    pdf = values.pop("pdf", "good")
    if pdf == "good":
        values["pdf"] = testing.pdf_upload()
    elif pdf == "not a pdf":
        values["pdf"] = testing.pdf_upload(b"<html>hello</html>", "fake.pdf")
    elif pdf == "too big":
        values["pdf"] = testing.pdf_upload(b"%PDF-1.7\n" + b"0" * MAX_PDF_BYTES)

    response = staff_client.post(url("new", university), issue_data(**values))

    assert response.status_code == 400
    assert message in errors_of(response, field)
    assert not Document.objects.filter(title="Bachelor of Testing").exists()
    assert DocumentVersion.objects.count() == 0


# Finding documents


def test_the_list_shows_each_documents_facts_and_counts_never_private_share_details(
    staff_client, university, zoe, zoe_transcript, link
):
    testing.give_credits(zoe, university, 5)
    testing.share_by_link(zoe, [zoe_transcript])  # a second live share
    revoked, _ = testing.share_by_link(zoe, [zoe_transcript])
    share_revoke(share=revoked)
    expired, _ = testing.share_by_link(zoe, [zoe_transcript])
    Share.objects.filter(pk=expired.pk).update(
        expires_on=datetime.date.today() - datetime.timedelta(days=1)
    )
    testing.make_document(zoe, university, "Other document")
    document_version_add(document=zoe_transcript, pdf=testing.sample_pdf("v2"))

    response = staff_client.get(url("list", university))

    page = response.content.decode()
    row = page[page.index(f'id="document-{zoe_transcript.pk}"') :].split("</tr>")[0]
    cells = [cell.split("</td>")[0].strip() for cell in row.split("<td>")[1:]]
    assert "Official transcript" in cells[0]
    assert "zoe@example.org" in cells[1]
    assert cells[2] == "Transcript"
    assert cells[4].endswith("Active</span>")
    assert cells[5] == "2"  # versions
    assert cells[6] == "2"  # live shares: not the revoked one, not the expired one
    assert PRIVATE_NAME not in page
    assert PRIVATE_PURPOSE not in page


def test_the_list_does_not_query_per_row(staff_client, university, zoe, bob):
    testing.give_credits(bob, university, 5)
    for number in range(3):
        testing.make_document(zoe, university, f"Zoé {number}")
    staff_client.get(url("list", university))
    with CaptureQueriesContext(connection) as few:
        staff_client.get(url("list", university))
    for number in range(10):
        document = testing.make_document(bob, university, f"Bob {number}")
        if number == 0:
            testing.share_by_link(bob, [document])

    with CaptureQueriesContext(connection) as many:
        response = staff_client.get(url("list", university))

    assert response.status_code == 200
    assert "Bob 9" in response.content.decode()
    assert len(many) == len(few)


@pytest.fixture
def several(zoe, bob, university, free_college):
    return {
        "zoe_2024": testing.make_document(
            zoe,
            university,
            "Zoé diploma",
            issue_date=datetime.date(2024, 6, 1),
            document_type=Document.Type.DIPLOMA,
        ),
        "zoe_2026": testing.make_document(
            zoe, university, "Zoé transcript", issue_date=datetime.date(2026, 3, 1)
        ),
        "bob_2025": testing.make_document(
            bob, university, "Bob transcript", issue_date=datetime.date(2025, 1, 9)
        ),
        "elsewhere": testing.make_document(zoe, free_college, "College certificate"),
    }


@pytest.mark.parametrize(
    "query, titles",
    [
        ({}, {"Zoé diploma", "Zoé transcript", "Bob transcript"}),
        ({"learner": "citoy"}, {"Zoé diploma", "Zoé transcript"}),
        ({"learner": "BOB@example"}, {"Bob transcript"}),
        ({"learner": " 20261234 "}, {"Zoé transcript"}),
        ({"document_type": "diploma"}, {"Zoé diploma"}),
        ({"status": "withdrawn"}, {"Bob transcript"}),
        ({"status": "active"}, {"Zoé diploma", "Zoé transcript"}),
        ({"issued_from": "2025-01-01"}, {"Zoé transcript", "Bob transcript"}),
        ({"issued_to": "2025-01-09"}, {"Zoé diploma", "Bob transcript"}),
        ({"issued_from": "2025-01-01", "issued_to": "2025-12-31"}, {"Bob transcript"}),
    ],
)
def test_the_list_filters(staff_client, university, several, query, titles):
    testing.withdraw_document(several["bob_2025"])
    Document.objects.filter(pk=several["zoe_2026"].pk).update(student_number="20261234")
    all_titles = {"Zoé diploma", "Zoé transcript", "Bob transcript", "College certificate"}

    page = staff_client.get(url("list", university), query).content.decode()

    assert {title for title in all_titles if title in page} == titles


def test_the_list_is_paginated_keeping_the_filters(staff_client, university, zoe, monkeypatch):
    from credshare.documents import issuer_views

    monkeypatch.setattr(issuer_views, "PAGE_SIZE", 2)
    for number in range(3):
        testing.make_document(zoe, university, f"Doc {number}")

    page = staff_client.get(url("list", university), {"learner": "zoe"}).content.decode()

    assert "learner=zoe&amp;page=2" in page


# A document's page


def test_the_document_page_shows_the_versions_and_the_live_shares(
    staff_client, university, zoe_transcript, link
):
    version = document_version_add(document=zoe_transcript, pdf=testing.sample_pdf("v2"))

    page = staff_client.get(url("detail", university, zoe_transcript.pk)).content.decode()

    assert version.sha256 in page
    assert url("version_download", university, zoe_transcript.pk, 1) in page
    assert url("version_download", university, zoe_transcript.pk, 2) in page
    assert 'id="live-shares">1<' in page
    assert PRIVATE_NAME not in page
    assert PRIVATE_PURPOSE not in page


def test_staff_download_each_version(staff_client, university, zoe_transcript):
    first = zoe_transcript.versions.get()
    document_version_add(document=zoe_transcript, pdf=testing.sample_pdf("v2"))

    response = staff_client.get(url("version_download", university, zoe_transcript.pk, 1))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert served_bytes(response) == stored_bytes(first)
    missing = staff_client.get(url("version_download", university, zoe_transcript.pk, 3))
    assert missing.status_code == 404


# A new version


def test_a_new_version_is_served_to_live_shares_and_the_learner_is_told(
    staff_client,
    client,
    settings,
    university,
    zoe,
    zoe_transcript,
    link,
    django_capture_on_commit_callbacks,
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CREDSHARE_EMAIL_DELIVERY = "inline"
    corrected = testing.sample_pdf("corrected")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url("version_add", university, zoe_transcript.pk),
            {"pdf": testing.pdf_upload(corrected)},
        )

    assert response.status_code == 302
    assert zoe_transcript.versions.count() == 2
    share, token = link
    recipient = type(client)()
    recipient.get(reverse("recipient:open", args=[token]))
    served = recipient.get(reverse("recipient:download", args=[share.pk, zoe_transcript.pk]))
    assert served.status_code == 200
    newest = stored_bytes(zoe_transcript.versions.get(number=2))
    assert served_bytes(served) == newest
    assert b"(corrected)" in page_text(newest)
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["zoe@example.org"]
    assert "Official transcript" in email.subject
    assert reverse("documents:detail", args=[zoe_transcript.pk]) in email.body


def test_a_new_version_that_is_not_a_pdf_is_refused(
    staff_client, university, zoe_transcript, django_capture_on_commit_callbacks
):
    from credshare.notifications.models import OutgoingEmail

    response = staff_client.post(
        url("version_add", university, zoe_transcript.pk),
        {"pdf": testing.pdf_upload(b"GIF89a", "image.pdf")},
    )

    assert response.status_code == 400
    assert "This file is not a PDF." in errors_of(response, "pdf")
    assert zoe_transcript.versions.count() == 1
    assert not OutgoingEmail.objects.exists()


# Withdrawal


@pytest.mark.parametrize("action, status", [("withdraw", "withdrawn"), ("revoke", "revoked")])
def test_withdrawing_refuses_recipients_and_tells_the_learner(
    staff_client, client, university, zoe, zoe_transcript, link, action, status
):
    response = staff_client.post(
        url("withdraw", university, zoe_transcript.pk),
        {"action": action, "reason": "Grades recorded in error"},
    )

    assert response.status_code == 302
    zoe_transcript.refresh_from_db()
    assert zoe_transcript.status == status
    assert zoe_transcript.status_reason == "Grades recorded in error"
    assert zoe_transcript.status_changed_at is not None
    share, token = link
    recipient = type(client)()
    recipient.get(reverse("recipient:open", args=[token]))
    refused = recipient.get(reverse("recipient:download", args=[share.pk, zoe_transcript.pk]))
    assert refused.status_code == 410
    assert "The issuer withdrew this document." in refused.content.decode()
    learner = type(client)()
    learner.force_login(zoe)
    page = learner.get(reverse("documents:detail", args=[zoe_transcript.pk])).content.decode()
    assert str(Document.Status(status).label) in page
    assert "Grades recorded in error" in page


def test_withdrawing_needs_a_reason(staff_client, university, zoe_transcript):
    response = staff_client.post(
        url("withdraw", university, zoe_transcript.pk), {"action": "withdraw", "reason": "  "}
    )

    assert response.status_code == 400
    assert "This field is required." in errors_of(response, "reason")
    zoe_transcript.refresh_from_db()
    assert zoe_transcript.is_active


def test_a_withdrawn_document_gets_no_new_version(staff_client, university, zoe_transcript):
    testing.withdraw_document(zoe_transcript)

    response = staff_client.post(
        url("version_add", university, zoe_transcript.pk), {"pdf": testing.pdf_upload()}
    )

    assert response.status_code == 400
    assert zoe_transcript.versions.count() == 1
