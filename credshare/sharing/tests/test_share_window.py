"""The share window, through the test client as a browser would use it: the first step,
the form "with a participating organization", its extra-fields fragment and the done page.
Every refused submission is a 400 with the error next to its field, and changes nothing."""

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credshare.billing.models import CreditEntry
from credshare.billing.selectors import credit_balances
from credshare.core import testing
from credshare.sharing.models import Share

VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"}
VOID_ELEMENTS |= {"source", "track", "wbr"}


class _ElementText(HTMLParser):
    """The text of the first element whose attributes match, with its descendants'."""

    def __init__(self, matches):
        super().__init__()
        self.matches = matches
        self.depth = 0
        self.found = False
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID_ELEMENTS:
            return
        if self.depth:
            self.depth += 1
        elif not self.found and self.matches(dict(attrs)):
            self.found = True
            self.depth = 1

    def handle_endtag(self, tag):
        if tag not in VOID_ELEMENTS and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def element_text(response, *, element_id=None, css_class=None) -> str | None:
    """The whitespace-collapsed text of the element with that id (or class), None if absent."""

    def matches(attrs):
        if element_id is not None:
            return attrs.get("id") == element_id
        return css_class in (attrs.get("class") or "").split()

    parser = _ElementText(matches)
    parser.feed(response.content.decode())
    parser.close()
    if not parser.found:
        return None
    return " ".join("".join(parser.parts).split())


def page_text(response) -> str:
    return element_text(response, element_id="main") or ""


def submission_for(client, url: str, document, **fields) -> dict:
    """A valid submission of the share form at URL for DOCUMENT (its credit use confirmed),
    with the submission token of a form just served, and FIELDS."""
    token = submission_token_of(client.get(url, {"documents": document.pk}))
    return {
        "documents": [document.pk],
        "expires_on": "",
        "confirm_credit_use": "on",
        "submission_token": token,
        **fields,
    }


def submission_token_of(response) -> str:
    match = re.search(r'name="submission_token" value="([^"]+)"', response.content.decode())
    assert match, "the share form has no submission token"
    return match.group(1)


def balance(learner, issuer) -> int:
    return credit_balances(learner=learner, issuer_ids=[issuer.pk])[issuer.pk]


def assert_nothing_shared(learner, issuer, balance_before=1):
    assert not Share.objects.exists()
    assert not CreditEntry.objects.filter(kind=CreditEntry.Kind.SPEND).exists()
    assert balance(learner, issuer) == balance_before


@pytest.fixture
def zoe_client(client, zoe):
    client.force_login(zoe)
    return client


@pytest.fixture
def ecole_asks_email_and_date(ecole):
    """Two more optional extra fields at École Imaginaire, of the types email and date."""
    testing.make_share_field(ecole, "contact_email", field_type="email", position=3)
    testing.make_share_field(ecole, "start_date", field_type="date", position=4)
    return ecole


@pytest.fixture
def open_window(zoe_client):
    """GET the share form for the given documents, as the start page's Continue does."""

    def open_window(*documents):
        return zoe_client.get(
            reverse("sharing:with_organization"), {"documents": [d.pk for d in documents]}
        )

    return open_window


@pytest.fixture
def valid_submission(open_window, zoe_transcript, ecole):
    """What Zoé posts when she shares her transcript with École Imaginaire as the seed does,
    with the submission token of the form she was served."""
    token = submission_token_of(open_window(zoe_transcript))
    return {
        "documents": [zoe_transcript.pk],
        "name": "Partage001",
        "purpose": "Demande d'admission",
        "recipient": "ecole-imaginaire",
        "reference": "Réf1234",
        "field_application_number": "A-77",
        "field_intended_program": "science",
        "expires_on": "",
        "confirm_credit_use": "on",
        "submission_token": token,
    }


def post_share(client, data):
    return client.post(reverse("sharing:with_organization"), data)


# The first step


def test_the_start_page_lists_the_documents_and_the_credits_left(zoe_client, zoe_transcript):
    response = zoe_client.get(reverse("sharing:start"), {"documents": zoe_transcript.pk})

    assert response.status_code == 200
    text = page_text(response)
    assert "You currently have 1 share. Sharing this document will use one share." in text
    assert "Official transcript — Example University" in text
    channels = element_text(response, element_id="field-channel")
    assert "With a participating organization" in channels
    assert "Share with a participating organization anywhere in our global network." in channels
    assert "By email" in channels
    assert "By link" in channels
    # "Continue" comes back to the first step with the channel, which leads to its form.
    form_action = reverse("sharing:start")
    assert f'<form method="get" action="{form_action}">' in response.content.decode()
    assert 'value="organization" id="channel-organization" checked' in response.content.decode()


CHANNEL_FORMS = [
    ("organization", "sharing:with_organization"),
    ("email", "sharing:by_email"),
    ("link", "sharing:by_link"),
]


@pytest.mark.parametrize(("channel", "url_name"), CHANNEL_FORMS)
def test_continue_leads_to_the_chosen_channels_form(zoe_client, zoe_transcript, channel, url_name):
    response = zoe_client.get(
        reverse("sharing:start"), {"documents": zoe_transcript.pk, "channel": channel}
    )

    assert response.status_code == 302
    assert response.url == f"{reverse(url_name)}?documents={zoe_transcript.pk}"


@pytest.mark.parametrize(("channel", "url_name"), CHANNEL_FORMS)
def test_every_channels_form_asks_the_common_fields(zoe_client, zoe_transcript, channel, url_name):
    response = zoe_client.get(reverse(url_name), {"documents": zoe_transcript.pk})

    assert response.status_code == 200
    page = response.content.decode()
    assert f'<form method="post" action="{reverse(url_name)}"' in page
    assert "Show the document (1)" in element_text(response, css_class="share-documents")
    assert "You currently have 1 share." in element_text(response, css_class="credits")
    for field in ("name", "purpose", "reference", "expires_on", "notify_owner_on_first_open"):
        assert element_text(response, element_id=f"field-{field}") is not None, field
    assert "Email me when it is first opened" in page_text(response)
    assert "I confirm the use of a share. Shares remaining: 1" in (
        element_text(response, element_id="field-confirm_credit_use")
    )
    actions = element_text(response, css_class="actions")
    assert actions == "Help Back Share"


def test_continue_with_an_unknown_channel_says_to_choose_one(zoe_client, zoe_transcript):
    response = zoe_client.get(
        reverse("sharing:start"), {"documents": zoe_transcript.pk, "channel": "pigeon"}
    )

    assert response.status_code == 400
    assert "Choose how you want to share." in element_text(response, element_id="field-channel")


def test_the_start_page_is_a_404_for_another_learners_document(zoe_client, bob_transcript):
    response = zoe_client.get(reverse("sharing:start"), {"documents": bob_transcript.pk})

    assert response.status_code == 404


def test_the_start_page_is_a_404_when_one_of_the_documents_is_another_learners(
    zoe_client, zoe_transcript, bob_transcript
):
    response = zoe_client.get(
        reverse("sharing:start"), {"documents": [zoe_transcript.pk, bob_transcript.pk]}
    )

    assert response.status_code == 404


@pytest.mark.parametrize("documents", ["abc", "1.5", "-1", ""])
def test_the_start_page_is_a_404_for_a_document_id_that_is_not_a_number(
    zoe_client, zoe_transcript, documents
):
    response = zoe_client.get(reverse("sharing:start"), {"documents": documents})

    assert response.status_code == 404


def test_sharing_with_no_document_ticked_goes_back_to_the_documents_with_a_message(
    zoe_client, zoe_transcript
):
    response = zoe_client.get(reverse("sharing:start"), follow=True)

    assert response.redirect_chain == [(reverse("documents:list"), 302)]
    assert "Tick at least one document to share." in response.content.decode()


def test_the_start_page_says_why_a_learner_without_credit_cannot_share(client, bob, bob_transcript):
    client.force_login(bob)

    response = client.get(reverse("sharing:start"), {"documents": bob_transcript.pk})

    assert response.status_code == 200
    alert = element_text(response, css_class="form-errors")
    assert "You have no shares left for documents from Example University." in alert
    assert "Ask Example University for more shares." in alert
    assert reverse("sharing:with_organization") not in response.content.decode()


# The form "with a participating organization"


def test_the_window_says_how_many_shares_are_left(open_window, zoe_transcript):
    response = open_window(zoe_transcript)

    assert response.status_code == 200
    assert "You currently have 1 share. Sharing this document will use one share." in (
        element_text(response, css_class="credits")
    )
    confirmation = element_text(response, element_id="field-confirm_credit_use")
    assert "I confirm the use of a share. Shares remaining: 1" in confirmation


def test_the_window_lists_the_documents_in_the_share(open_window, zoe, zoe_transcript):
    other = testing.make_document(zoe, zoe_transcript.issuer, "Older transcript")

    response = open_window(zoe_transcript, other)

    documents = element_text(response, css_class="share-documents")
    assert "Show the documents (2)" in documents
    assert "Official transcript — Example University" in documents
    assert "Older transcript — Example University" in documents


def test_the_window_lists_the_directory_with_descriptions_and_not_unlisted_organizations(
    open_window, zoe_transcript, ecole, acme, unlisted, university
):
    response = open_window(zoe_transcript)

    directory = element_text(response, element_id="recipient-list")
    assert "Ecole Imaginaire" in directory
    assert "École Imaginaire est une école de test à des fins de démonstration." in directory
    assert "Acme" in directory
    assert "Acme description" in directory
    assert "Unlisted Registry" not in directory
    assert "Example University" not in directory  # an issuer only, not a receiver


def test_the_window_marks_the_recipient_as_required(open_window, zoe_transcript, ecole):
    response = open_window(zoe_transcript)

    assert "* indicates a required field" in page_text(response)
    assert "Recipient *" in element_text(response, element_id="field-recipient")


def test_the_window_asks_no_confirmation_for_a_free_issuers_document(
    open_window, zoe, free_college
):
    certificate = testing.make_document(zoe, free_college, "Free certificate")

    response = open_window(certificate)

    assert response.status_code == 200
    assert element_text(response, element_id="field-confirm_credit_use") is None
    assert element_text(response, css_class="credits") is None


def test_the_window_serves_a_new_submission_token_each_time(open_window, zoe_transcript):
    first = submission_token_of(open_window(zoe_transcript))
    second = submission_token_of(open_window(zoe_transcript))

    assert first != second


def test_the_window_is_a_404_for_another_learners_document(open_window, bob_transcript):
    assert open_window(bob_transcript).status_code == 404


@pytest.mark.parametrize("documents", ["abc", "1 OR 1=1", ""])
def test_the_window_is_a_404_for_a_document_id_that_is_not_a_number(
    zoe_client, zoe_transcript, documents
):
    response = zoe_client.get(reverse("sharing:with_organization"), {"documents": documents})

    assert response.status_code == 404


# Sharing


def test_sharing_redirects_to_the_done_page_and_makes_the_share(
    zoe_client, zoe, university, zoe_transcript, ecole, valid_submission
):
    response = post_share(zoe_client, valid_submission)

    share = Share.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("sharing:done", args=[share.pk])
    assert share.owner == zoe
    assert share.recipient_organization == ecole
    assert list(share.documents.all()) == [zoe_transcript]
    assert (share.name, share.purpose, share.reference) == (
        "Partage001",
        "Demande d'admission",
        "Réf1234",
    )
    assert share.field_values == {"application_number": "A-77", "intended_program": "science"}
    assert share.expires_on is None
    assert str(share.submission_token) == valid_submission["submission_token"]
    assert balance(zoe, university) == 0


def test_the_done_page_says_who_has_access_and_finish_leads_to_the_documents(
    zoe_client, valid_submission
):
    response = zoe_client.post(reverse("sharing:with_organization"), valid_submission, follow=True)

    assert response.status_code == 200
    text = page_text(response)
    assert "Your share is done" in text
    assert "Ecole Imaginaire now has access to your document." in text
    assert "Réf1234" in text
    finish = re.search(r'<a [^>]*href="([^"]+)"[^>]*>Finish</a>', response.content.decode())
    assert finish, "the done page has no Finish link"
    assert finish.group(1) == reverse("documents:list")


def test_sharing_keeps_the_extra_fields_and_the_expiry_date(
    zoe_client, ecole_asks_email_and_date, valid_submission
):
    in_a_month = timezone.localdate() + datetime.timedelta(days=30)
    valid_submission.update(
        {
            "field_contact_email": "zoe@example.org",
            "field_start_date": "2026-09-01",
            "expires_on": in_a_month.isoformat(),
        }
    )

    response = post_share(zoe_client, valid_submission)

    assert response.status_code == 302
    share = Share.objects.get()
    assert share.field_values == {
        "application_number": "A-77",
        "intended_program": "science",
        "contact_email": "zoe@example.org",
        "start_date": "2026-09-01",
    }
    assert share.expires_on == in_a_month


def test_today_is_a_valid_expiry_date(zoe_client, valid_submission):
    valid_submission["expires_on"] = timezone.localdate().isoformat()

    response = post_share(zoe_client, valid_submission)

    assert response.status_code == 302
    assert Share.objects.get().expires_on == timezone.localdate()


def test_a_free_issuers_document_is_shared_without_a_confirmation_or_a_credit(
    zoe_client, zoe, free_college, ecole, valid_submission
):
    certificate = testing.make_document(zoe, free_college, "Free certificate")
    valid_submission["documents"] = [certificate.pk]
    del valid_submission["confirm_credit_use"]

    response = post_share(zoe_client, valid_submission)

    assert response.status_code == 302
    assert list(Share.objects.get().documents.all()) == [certificate]
    assert not CreditEntry.objects.filter(kind=CreditEntry.Kind.SPEND).exists()


def test_documents_from_two_charging_issuers_spend_one_credit_from_each(
    zoe_client, zoe, university, zoe_transcript, valid_submission
):
    other_college = testing.make_organization("other-college", issuer=True, sharing_is_free=False)
    testing.give_credits(zoe, other_college, 1)
    diploma = testing.make_document(zoe, other_college, "Diploma")
    valid_submission["documents"] = [zoe_transcript.pk, diploma.pk]

    response = post_share(zoe_client, valid_submission)

    assert response.status_code == 302
    assert set(Share.objects.get().documents.all()) == {zoe_transcript, diploma}
    assert balance(zoe, university) == 0
    assert balance(zoe, other_college) == 0


def test_a_double_post_with_the_same_token_makes_one_share_and_one_spend(
    zoe_client, zoe, university, valid_submission
):
    testing.give_credits(zoe, university, 1)  # enough for a second share, were one made

    first = post_share(zoe_client, valid_submission)
    second = post_share(zoe_client, valid_submission)

    share = Share.objects.get()
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == reverse("sharing:done", args=[share.pk])
    assert CreditEntry.objects.filter(kind=CreditEntry.Kind.SPEND).count() == 1
    assert balance(zoe, university) == 1


def test_a_retry_after_the_last_credit_is_spent_lands_on_the_same_share(
    zoe_client, zoe, university, valid_submission
):
    post_share(zoe_client, valid_submission)

    retry = post_share(zoe_client, valid_submission)

    assert retry.status_code == 302
    assert retry.url == reverse("sharing:done", args=[Share.objects.get().pk])
    assert balance(zoe, university) == 0


# Refused submissions: a 400, the error next to its field, nothing created, no credit used

YESTERDAY = "<yesterday>"
BOBS_DOCUMENT = "<bob's document>"
REMOVED = None

ORGANIZATION_BAD_SUBMISSIONS = [
    pytest.param(
        {"recipient": REMOVED},
        "field-recipient",
        "Choose the organization you are sharing with.",
        id="missing recipient",
    ),
    pytest.param(
        {"recipient": "nowhere-university"},
        "field-recipient",
        "Choose a participating organization from the list.",
        id="unknown recipient",
    ),
    pytest.param(
        {"recipient": "unlisted-registry"},
        "field-recipient",
        "Choose a participating organization from the list.",
        id="unlisted recipient",
    ),
    pytest.param(
        {"recipient": "example-university"},
        "field-recipient",
        "Choose a participating organization from the list.",
        id="recipient that only issues",
    ),
    pytest.param(
        {"field_application_number": ""},
        "field-field_application_number",
        "This field is required.",
        id="missing required extra field",
    ),
    pytest.param(
        {"field_application_number": REMOVED},
        "field-field_application_number",
        "This field is required.",
        id="required extra field left out of the post",
    ),
    pytest.param(
        {"field_intended_program": "medicine"},
        "field-field_intended_program",
        "Select a valid choice. medicine is not one of the available choices.",
        id="unknown choice in an extra field",
    ),
    pytest.param(
        {"field_contact_email": "not-an-email"},
        "field-field_contact_email",
        "Enter a valid email address.",
        id="invalid email in an extra field",
    ),
    pytest.param(
        {"field_start_date": "2026-13-45"},
        "field-field_start_date",
        "Enter a valid date.",
        id="invalid date in an extra field",
    ),
]

# Refused in the window of every channel.
COMMON_BAD_SUBMISSIONS = [
    pytest.param(
        {"expires_on": YESTERDAY},
        "field-expires_on",
        "The expiry date cannot be in the past.",
        id="past expiry date",
    ),
    pytest.param(
        {"expires_on": "someday"},
        "field-expires_on",
        "Enter a valid date.",
        id="expiry date that is not a date",
    ),
    pytest.param(
        {"confirm_credit_use": REMOVED},
        "field-confirm_credit_use",
        "Please confirm the use of a share.",
        id="unticked confirmation",
    ),
    pytest.param(
        {"name": "x" * 201},
        "field-name",
        "Ensure this value has at most 200 characters (it has 201).",
        id="share name too long",
    ),
    pytest.param(
        {"documents": REMOVED},
        "documents",
        "Choose at least one document to share.",
        id="no document",
    ),
    pytest.param(
        {"documents": BOBS_DOCUMENT},
        "documents",
        "is not one of the available choices.",
        id="tampered documents value pointing at another learner's document",
    ),
    pytest.param(
        {"documents": "abc"},
        "documents",
        "“abc” is not a valid value.",
        id="document id that is not a number",
    ),
    pytest.param(
        {"submission_token": "not-a-uuid"},
        "form-errors",
        "Enter a valid UUID.",
        id="tampered submission token",
    ),
    pytest.param(
        {"submission_token": REMOVED},
        "form-errors",
        "This field is required.",
        id="missing submission token",
    ),
]
BAD_SUBMISSIONS = ORGANIZATION_BAD_SUBMISSIONS + COMMON_BAD_SUBMISSIONS


def apply_changes(submission: dict, changes: dict, *, bobs_document) -> None:
    """Change SUBMISSION as a bad submission's CHANGES say: REMOVED removes a key, YESTERDAY
    and BOBS_DOCUMENT stand for those values."""
    for key, value in changes.items():
        if value is REMOVED:
            del submission[key]
        elif value == YESTERDAY:
            submission[key] = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
        elif value == BOBS_DOCUMENT:
            submission[key] = [bobs_document.pk]
        else:
            submission[key] = value


def error_area_text(response, where: str) -> str | None:
    """The text of the place where an error shows: a field's block, the documents' list, or
    the alert at the top of the form for errors that belong to no visible field."""
    if where == "documents":
        return element_text(response, css_class="share-documents")
    if where == "form-errors":
        return element_text(response, css_class="form-errors")
    return element_text(response, element_id=where)


@pytest.mark.parametrize(("changes", "where", "message"), BAD_SUBMISSIONS)
def test_a_bad_submission_is_refused_with_the_error_next_to_its_field(
    zoe_client,
    zoe,
    university,
    bob_transcript,
    unlisted,
    ecole_asks_email_and_date,
    valid_submission,
    changes,
    where,
    message,
):
    apply_changes(valid_submission, changes, bobs_document=bob_transcript)

    response = post_share(zoe_client, valid_submission)

    assert response.status_code == 400
    area = error_area_text(response, where)
    assert area is not None, f"no {where} on the page"
    assert message in area
    assert_nothing_shared(zoe, university)


def test_a_refused_submission_does_not_show_another_learners_document(
    zoe_client, zoe, university, bob_transcript, valid_submission
):
    valid_submission["documents"] = [bob_transcript.pk]

    response = post_share(zoe_client, valid_submission)

    assert response.status_code == 400
    assert "Bob&#x27;s transcript" not in response.content.decode()
    assert "Bob's transcript" not in page_text(response)
    assert_nothing_shared(zoe, university)


def test_a_refused_submission_shows_the_chosen_organizations_fields_again_with_their_values(
    zoe_client, zoe, university, valid_submission
):
    valid_submission["confirm_credit_use"] = ""

    response = post_share(zoe_client, valid_submission)

    assert response.status_code == 400
    fields = element_text(response, element_id="extra-fields")
    assert "Asked by Ecole Imaginaire" in fields
    assert "Application number *" in fields
    assert 'value="A-77"' in response.content.decode()
    assert_nothing_shared(zoe, university)


def test_sharing_without_a_credit_left_is_refused_and_says_why(client, bob, university, ecole):
    document = testing.make_document(bob, university, "Bob's transcript")
    client.force_login(bob)
    token = submission_token_of(
        client.get(reverse("sharing:with_organization"), {"documents": document.pk})
    )

    response = post_share(
        client,
        {
            "documents": [document.pk],
            "recipient": "ecole-imaginaire",
            "field_application_number": "B-1",
            "confirm_credit_use": "on",
            "submission_token": token,
        },
    )

    assert response.status_code == 400
    alert = element_text(response, css_class="form-errors")
    assert "You have no shares left for documents from Example University." in alert
    assert_nothing_shared(bob, university, balance_before=0)


def test_a_refused_submission_can_be_corrected_and_shared_with_the_same_token(
    zoe_client, zoe, university, valid_submission
):
    refused = post_share(zoe_client, {**valid_submission, "confirm_credit_use": ""})
    assert refused.status_code == 400
    assert submission_token_of(refused) == valid_submission["submission_token"]

    response = post_share(zoe_client, valid_submission)

    assert response.status_code == 302
    assert Share.objects.count() == 1
    assert balance(zoe, university) == 0


# The extra-fields fragment


def test_the_fields_fragment_returns_the_chosen_organizations_fields(zoe_client, ecole):
    response = zoe_client.get(reverse("sharing:fields"), {"recipient": "ecole-imaginaire"})

    assert response.status_code == 200
    text = " ".join(response.content.decode().split())
    assert 'name="field_application_number"' in text
    assert 'name="field_intended_program"' in text
    fields = element_text(response, css_class="extra-fields")
    assert "Asked by Ecole Imaginaire" in fields
    assert "Application number *" in fields
    assert "Intended program" in fields
    assert "Intended program *" not in fields
    assert "Sciences" in fields


def test_the_fields_fragment_is_empty_for_an_organization_without_extra_fields(
    zoe_client, acme, ecole
):
    response = zoe_client.get(reverse("sharing:fields"), {"recipient": "acme"})

    assert response.status_code == 200
    assert "field_" not in response.content.decode()


@pytest.mark.parametrize("recipient", ["unlisted-registry", "nowhere-university", ""])
def test_the_fields_fragment_shows_nothing_for_an_organization_outside_the_directory(
    zoe_client, unlisted, recipient
):
    testing.make_share_field(unlisted, "case_number", required=True)

    response = zoe_client.get(reverse("sharing:fields"), {"recipient": recipient})

    assert response.status_code == 200
    assert "case_number" not in response.content.decode()


def test_the_fields_fragment_leaves_out_inactive_fields(zoe_client, ecole):
    testing.make_share_field(ecole, "retired_question", is_active=False)

    response = zoe_client.get(reverse("sharing:fields"), {"recipient": "ecole-imaginaire"})

    assert "retired_question" not in response.content.decode()


# Who may use the window


@pytest.mark.parametrize(
    ("method", "url_name"),
    [
        ("get", "sharing:start"),
        ("get", "sharing:with_organization"),
        ("post", "sharing:with_organization"),
        ("get", "sharing:fields"),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in(
    client, zoe, zoe_transcript, ecole, method, url_name
):
    url = reverse(url_name)

    response = getattr(client, method)(url, {"documents": zoe_transcript.pk})

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not Share.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in_from_the_done_page(zoe_client, valid_submission):
    post_share(zoe_client, valid_submission)

    response = Client().get(reverse("sharing:done", args=[Share.objects.get().pk]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_another_learners_done_page_is_a_404(bob, zoe_client, valid_submission):
    post_share(zoe_client, valid_submission)
    share = Share.objects.get()
    bobs_client = Client()
    bobs_client.force_login(bob)

    response = bobs_client.get(reverse("sharing:done", args=[share.pk]))

    assert response.status_code == 404
