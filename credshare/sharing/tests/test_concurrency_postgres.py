"""Simultaneous share submissions on PostgreSQL, where requests really run in parallel:
against a balance of one credit, only one share is made and one credit spent."""

import threading
import uuid

import pytest
from django.db import connection
from django.db.models import Sum

from credshare.billing.models import CreditEntry
from credshare.billing.selectors import credit_balances
from credshare.sharing.models import Share
from credshare.sharing.services import ShareError, share_create_with_organization

THREADS = 20

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrency"
    ),
    pytest.mark.django_db(transaction=True),
]


def submit_at_once(tokens, *, owner, document, recipient):
    """Submit one share per token, every thread starting at the same moment. Returns what
    each submission gave: ("share", id), ("refused", code) or ("crashed", exception)."""
    barrier = threading.Barrier(len(tokens))
    outcomes = [None] * len(tokens)

    def submit(index, token):
        try:
            barrier.wait(timeout=30)
            share = share_create_with_organization(
                owner=owner,
                document_ids=[document.pk],
                recipient=recipient,
                submission_token=token,
                reference=f"attempt {index}",
                confirmed_credit_use=True,
            )
            outcomes[index] = ("share", share.pk)
        except ShareError as error:
            outcomes[index] = ("refused", error.code)
        except Exception as error:  # reported by the test as a crash, never swallowed
            outcomes[index] = ("crashed", repr(error))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=submit, args=(index, token)) for index, token in enumerate(tokens)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_twenty_simultaneous_shares_against_one_credit_make_exactly_one_share(
    zoe, university, zoe_transcript, ecole
):
    tokens = [uuid.uuid4() for _ in range(THREADS)]

    outcomes = submit_at_once(tokens, owner=zoe, document=zoe_transcript, recipient=ecole)

    assert [o for o in outcomes if o[0] == "crashed"] == []
    shares = [o for o in outcomes if o[0] == "share"]
    refusals = [o for o in outcomes if o[0] == "refused"]
    assert len(shares) == 1
    assert refusals == [("refused", "no_credit")] * (THREADS - 1)
    assert Share.objects.count() == 1
    assert Share.objects.get().pk == shares[0][1]
    assert credit_balances(learner=zoe, issuer_ids=[university.pk])[university.pk] == 0


def test_twenty_simultaneous_submissions_of_the_same_token_make_one_share(
    zoe, university, zoe_transcript, ecole
):
    token = uuid.uuid4()

    outcomes = submit_at_once(
        [token] * THREADS, owner=zoe, document=zoe_transcript, recipient=ecole
    )

    share = Share.objects.get()
    assert outcomes == [("share", share.pk)] * THREADS
    assert share.submission_token == token
    assert credit_balances(learner=zoe, issuer_ids=[university.pk])[university.pk] == 0


def test_fifty_simultaneous_shares_against_one_credit_leave_a_ledger_summing_to_zero(
    zoe, zoe_transcript, ecole, university
):
    outcomes = submit_at_once(
        [uuid.uuid4() for _ in range(50)], owner=zoe, document=zoe_transcript, recipient=ecole
    )

    assert [kind for kind, _ in outcomes].count("share") == 1
    assert {value for kind, value in outcomes if kind != "share"} == {"no_credit"}
    assert Share.objects.count() == 1
    ledger = CreditEntry.objects.filter(learner=zoe, issuer=university)
    assert sorted(ledger.values_list("kind", "amount")) == [("grant", 1), ("spend", -1)]
    assert ledger.aggregate(total=Sum("amount"))["total"] == 0
