"""Appends at the same moment on PostgreSQL, where they really run in parallel: each waits
for the chain's head, so the chain never forks."""

import threading

import pytest
from django.db import connection

from credshare.api.services import api_key_create
from credshare.audit.models import AuditEntry, Event
from credshare.audit.tests.conftest import audit_verify

THREADS = 20

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrency"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_twenty_simultaneous_appends_make_one_unbroken_chain_of_twenty(ecole):
    barrier = threading.Barrier(THREADS)
    crashes = []

    def make_key(number):
        try:
            barrier.wait(timeout=30)
            api_key_create(
                organization=ecole, name=f"key {number}", scopes=["shares:read"], by=None
            )
        except Exception as error:  # reported by the test, never swallowed
            crashes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=make_key, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert crashes == []
    made = AuditEntry.objects.filter(event=Event.API_KEY_CREATED).order_by("sequence")
    assert sorted(entry.details["name"] for entry in made) == sorted(
        f"key {number}" for number in range(THREADS)
    )
    assert [entry.sequence for entry in AuditEntry.objects.order_by("sequence")] == list(
        range(1, THREADS + 1)
    )
    intact, output = audit_verify()
    assert intact, output
    assert f"{THREADS} entries, chain intact" in output
