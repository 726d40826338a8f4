"""An issuer's first credential key, wanted by two processes at once, each inside the
transaction of the document it issues (two bulk workers starting a new issuer's job): one
key is made, and its file holds it. On PostgreSQL, where the two really run at once."""

import threading

import pytest
from django.db import connection, transaction

from credshare.core import testing
from credshare.credentials import keys
from credshare.credentials.models import CredentialKey

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrency"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_the_second_waits_for_the_first_key_and_uses_it():
    issuer = testing.make_organization("new-issuer", issuer=True)
    first_made, second_waits = threading.Event(), threading.Event()
    found: dict[str, CredentialKey] = {}
    errors: list = []

    def first():
        try:
            with transaction.atomic():
                found["first"] = keys.ensure_credential_key(issuer)
                first_made.set()
                # Keep the row's transaction open until the second is waiting (or has
                # gone ahead: the failure this test is about).
                if testing.another_connection_waits_for_a_lock(timeout=5):
                    second_waits.set()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    def second():
        try:
            first_made.wait(10)
            with transaction.atomic():
                found["second"] = keys.ensure_credential_key(issuer)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert second_waits.is_set(), "the second went ahead while the first key was uncommitted"
    assert found["first"].pk == found["second"].pk
    assert CredentialKey.objects.filter(issuer=issuer).count() == 1
    # The file holds the published key, for a process that has not loaded it yet.
    keys._private_keys.clear()
    assert keys.private_key_of(CredentialKey.objects.get(issuer=issuer)) is not None
