"""A document issued to an address at the very moment the address is verified on an account,
on PostgreSQL where the two really run at once: whichever takes the address first, the
document ends in the account (never left waiting for an address that is already verified)."""

import threading

import pytest
from allauth.account.models import EmailAddress
from django.db import connection, transaction

from credshare.accounts.models import Invitation
from credshare.accounts.services import email_address_verified
from credshare.core import testing
from credshare.documents.models import Document
from credshare.documents.tests.test_claim_documents import NEW, issue

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrency"
    ),
    pytest.mark.django_db(transaction=True),
]


def in_thread(work, errors: list) -> threading.Thread:
    def run():
        try:
            work()
        except Exception as error:  # reported by the test, never swallowed
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_claim_waits_for_an_issue_in_progress_and_takes_its_document(university):
    issued, commit = threading.Event(), threading.Event()
    errors: list = []

    def issue_and_hold():
        with transaction.atomic():
            issue(university, NEW)
            issued.set()
            commit.wait(timeout=20)

    issuing = in_thread(issue_and_hold, errors)
    assert issued.wait(timeout=20)
    learner = testing.make_user(NEW, "Nadia Nouvelle")  # verified, committed
    claiming = in_thread(
        lambda: email_address_verified(address=EmailAddress.objects.get(email=NEW)), errors
    )
    blocked = testing.another_connection_waits_for_a_lock(wait_event="advisory")
    commit.set()
    issuing.join(timeout=30)
    claiming.join(timeout=30)

    assert errors == []
    assert blocked
    assert Document.objects.get(learner_email=NEW).learner == learner


def test_an_issue_waits_for_a_claim_in_progress_and_finds_the_account(university):
    claimed, commit = threading.Event(), threading.Event()
    errors: list = []

    def verify_and_hold():
        with transaction.atomic():
            learner = testing.make_user(NEW, "Nadia Nouvelle")
            email_address_verified(address=EmailAddress.objects.get(user=learner))
            claimed.set()
            commit.wait(timeout=20)

    claiming = in_thread(verify_and_hold, errors)
    assert claimed.wait(timeout=20)
    issuing = in_thread(lambda: issue(university, NEW), errors)
    blocked = testing.another_connection_waits_for_a_lock(wait_event="advisory")
    commit.set()
    claiming.join(timeout=30)
    issuing.join(timeout=30)

    assert errors == []
    assert blocked
    document = Document.objects.get(learner_email=NEW)
    assert document.learner is not None and document.learner.email == NEW
    assert not Invitation.objects.filter(email=NEW).exists()
