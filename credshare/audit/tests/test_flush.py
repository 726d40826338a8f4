"""`flush` (which the test runner calls after every transactional test) empties the audit
tables on either database and leaves them append-only."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from credshare.audit.models import AuditEntry, Event
from credshare.audit.tests.conftest import audit_verify, entries
from credshare.core import testing

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_flush_empties_the_log_and_its_triggers_stay(zoe, zoe_transcript, ecole):
    testing.share_with(zoe, [zoe_transcript], ecole, reference="A-1")
    assert entries(Event.SHARE_CREATED)

    call_command("flush", interactive=False, verbosity=0)

    assert not AuditEntry.objects.exists()
    university = testing.make_organization("another-university", issuer=True)
    testing.make_document(testing.make_user("learner@example.org"), university)
    assert audit_verify()[0]
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry")
    assert len(entries()) == 1
