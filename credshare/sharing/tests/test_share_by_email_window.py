"""The share window's channel "by email", through the test client: the first step leads to
it, the form asks what the seed and issue 3 ask, sharing creates an email share, spends one
credit and emails the recipient, and every refused submission is a 400 with the error next to
its field, nothing created, no credit used, no email sent."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from credshare.billing.models import CreditEntry
from credshare.core import testing
from credshare.sharing.models import Share
from credshare.sharing.tests.test_share_window import (
    COMMON_BAD_SUBMISSIONS,
    REMOVED,
    apply_changes,
    assert_nothing_shared,
    balance,
    element_text,
    error_area_text,
    page_text,
    submission_for,
    submission_token_of,
)

# Django's test set-up sends email to the in-memory outbox (django.core.mail.outbox).
URL = reverse("sharing:by_email")


@pytest.fixture
def zoe_client(client, zoe):
    client.force_login(zoe)
    return client


@pytest.fixture
def valid_submission(zoe_client, zoe_transcript):
    """What Zoé posts to share her transcript by email."""
    return submission_for(
        zoe_client,
        URL,
        zoe_transcript,
        name="Pour le stage",
        purpose="Candidature",
        recipient_email="  RH@Stage.Example ",
        message="Bonjour,\nvoici mon relevé.",
        email_language="fr",
        reference="STAGE-7",
        notify_owner_on_first_open="on",
    )


def post(client, data, django_capture_on_commit_callbacks):
    """POST the form; the emails queued in its transaction go out (they do on commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(URL, data)


# The form


def test_the_email_form_asks_for_the_address_a_message_and_the_language(zoe_client, zoe_transcript):
    response = zoe_client.get(URL, {"documents": zoe_transcript.pk})

    assert response.status_code == 200
    page = response.content.decode()
    assert "By email" in page_text(response)
    address = element_text(response, element_id="field-recipient_email")
    assert "Recipient's email address *" in address
    assert 'type="email" name="recipient_email"' in page
    assert "Message" in element_text(response, element_id="field-message")
    assert '<textarea name="message"' in page
    assert 'maxlength="2000"' in page
    language = element_text(response, element_id="field-email_language")
    assert "Language of the email" in language
    assert "Français" in language and "English" in language
    assert '<option value="en" selected>English</option>' in page  # the interface's language
    assert 'name="recipient"' not in page  # no organization to choose


def test_the_email_language_defaults_to_the_interface_language(zoe_client, zoe_transcript):
    zoe_client.cookies["django_language"] = "fr"

    page = zoe_client.get(URL, {"documents": zoe_transcript.pk}).content.decode()

    assert '<option value="fr" selected>Français</option>' in page
    assert "Par courriel" in page


# Sharing


def test_sharing_by_email_makes_the_share_spends_a_credit_and_emails_the_recipient(
    zoe_client,
    zoe,
    university,
    zoe_transcript,
    valid_submission,
    django_capture_on_commit_callbacks,
):
    response = post(zoe_client, valid_submission, django_capture_on_commit_callbacks)

    share = Share.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("sharing:done", args=[share.pk])
    assert share.channel == Share.Channel.EMAIL
    assert share.owner == zoe
    assert share.recipient_organization is None
    assert share.recipient_email == "rh@stage.example"
    assert share.message == "Bonjour,\nvoici mon relevé."
    assert share.email_language == "fr"
    assert (share.name, share.purpose, share.reference) == (
        "Pour le stage",
        "Candidature",
        "STAGE-7",
    )
    assert share.notify_owner_on_first_open is True
    assert share.token_hash
    assert list(share.documents.all()) == [zoe_transcript]
    assert balance(zoe, university) == 0
    assert [email.to for email in mail.outbox] == [["rh@stage.example"]]


def test_the_done_page_says_the_recipient_was_emailed(
    zoe_client, valid_submission, django_capture_on_commit_callbacks
):
    response = post(zoe_client, valid_submission, django_capture_on_commit_callbacks)

    done = zoe_client.get(response.url)

    assert done.status_code == 200
    text = page_text(done)
    assert "Your share is done" in text
    assert "We emailed rh@stage.example a link to your share." in text
    assert "STAGE-7" in text
    assert f'href="{reverse("documents:list")}">Finish</a>' in done.content.decode()


def test_an_expiry_date_and_no_message_are_kept(
    zoe_client, valid_submission, django_capture_on_commit_callbacks
):
    in_a_week = timezone.localdate() + datetime.timedelta(days=7)
    valid_submission.update({"expires_on": in_a_week.isoformat(), "message": ""})
    del valid_submission["notify_owner_on_first_open"]

    response = post(zoe_client, valid_submission, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    share = Share.objects.get()
    assert share.expires_on == in_a_week
    assert share.message == ""
    assert share.notify_owner_on_first_open is False


def test_a_double_post_makes_one_share_spends_one_credit_and_sends_one_email(
    zoe_client, zoe, university, valid_submission, django_capture_on_commit_callbacks
):
    testing.give_credits(zoe, university, 1)  # enough for a second share, were one made

    first = post(zoe_client, valid_submission, django_capture_on_commit_callbacks)
    second = post(zoe_client, valid_submission, django_capture_on_commit_callbacks)

    share = Share.objects.get()
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == reverse("sharing:done", args=[share.pk])
    assert CreditEntry.objects.filter(kind=CreditEntry.Kind.SPEND).count() == 1
    assert balance(zoe, university) == 1
    assert len(mail.outbox) == 1


# Refused submissions


def refused(field: str, value, message: str, reason: str):
    """A submission whose FIELD is VALUE (or REMOVED), refused with MESSAGE next to FIELD."""
    return pytest.param({field: value}, f"field-{field}", message, id=reason)


INVALID_EMAIL = "Enter a valid email address."
NO_EMAIL = "Enter the recipient's email address."
BAD_SUBMISSIONS = [
    refused("recipient_email", "rh@@stage", INVALID_EMAIL, "malformed email"),
    refused("recipient_email", "rh@stage.example\nBcc: x@example.org", INVALID_EMAIL, "header"),
    refused("recipient_email", "", NO_EMAIL, "empty email"),
    refused("recipient_email", REMOVED, NO_EMAIL, "missing email"),
    refused("message", "x" * 2001, "at most 2000 characters (it has 2001)", "message too long"),
    refused("email_language", "de", "Choose the language of the email from", "unknown language"),
    refused("email_language", REMOVED, "This field is required.", "missing language"),
    *COMMON_BAD_SUBMISSIONS,
]


@pytest.mark.parametrize(("changes", "where", "message"), BAD_SUBMISSIONS)
def test_a_bad_submission_is_refused_with_the_error_next_to_its_field(
    zoe_client,
    zoe,
    university,
    bob_transcript,
    valid_submission,
    django_capture_on_commit_callbacks,
    changes,
    where,
    message,
):
    apply_changes(valid_submission, changes, bobs_document=bob_transcript)

    response = post(zoe_client, valid_submission, django_capture_on_commit_callbacks)

    assert response.status_code == 400
    area = error_area_text(response, where)
    assert area is not None, f"no {where} on the page"
    assert message in area
    assert "Bob's transcript" not in page_text(response)
    assert_nothing_shared(zoe, university)
    assert mail.outbox == []


def test_a_refused_submission_keeps_what_was_typed(
    zoe_client, zoe, university, valid_submission, django_capture_on_commit_callbacks
):
    valid_submission["confirm_credit_use"] = ""

    response = post(zoe_client, valid_submission, django_capture_on_commit_callbacks)

    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="  RH@Stage.Example "' in page
    assert "Bonjour,\nvoici mon relevé.</textarea>" in page
    assert '<option value="fr" selected>Français</option>' in page
    assert submission_token_of(response) == valid_submission["submission_token"]
    assert_nothing_shared(zoe, university)


def test_sharing_by_email_without_a_credit_left_is_refused_and_says_why(
    client, bob, university, bob_transcript, django_capture_on_commit_callbacks
):
    client.force_login(bob)
    submission = submission_for(
        client, URL, bob_transcript, recipient_email="rh@stage.example", email_language="en"
    )

    response = post(client, submission, django_capture_on_commit_callbacks)

    assert response.status_code == 400
    alert = element_text(response, css_class="form-errors")
    assert "You have no shares left for documents from Example University." in alert
    assert_nothing_shared(bob, university, balance_before=0)
    assert mail.outbox == []


def test_the_email_form_is_a_404_for_another_learners_document(zoe_client, bob_transcript):
    assert zoe_client.get(URL, {"documents": bob_transcript.pk}).status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_sign_in(client, zoe_transcript, method):
    response = getattr(client, method)(URL, {"documents": zoe_transcript.pk})

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not Share.objects.exists()
