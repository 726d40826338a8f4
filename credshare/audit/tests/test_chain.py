"""The chain: every entry holds its predecessor's hash, `audit_verify` checks it end to end
and names the first entry that was tampered with, and the database refuses to change or
delete an entry."""

import pytest
from django.db import DatabaseError, connection, transaction

from credshare.api.services import api_key_create, api_key_revoke
from credshare.audit.models import AuditEntry, AuditEntryOrganization, Event
from credshare.audit.tests.conftest import audit_verify, entries, tamper
from credshare.billing.services import purchase_refund
from credshare.core import testing
from credshare.documents.services import document_correct, document_withdraw
from credshare.sharing.models import Share, ShareAccess
from credshare.sharing.services import ShareError, share_access_record, share_revoke


@pytest.fixture
def mixed_history(client, zoe, zoe_transcript, university, ecole, camille, uni_admin):
    """A realistic run of events of every kind: issuing, sharing, opening, revoking, a
    correction, a withdrawal, a payment and its refund, keys, sign-ins."""
    share = testing.share_with(zoe, [zoe_transcript], ecole, reference="A-1")
    share_access_record(
        share=share, action=ShareAccess.Action.OPENED, user=camille, organization=ecole
    )
    share_revoke(share=share)
    document_correct(document=zoe_transcript, pdf=testing.sample_pdf("v2"), by=uni_admin)
    purchase = testing.make_paid_purchase(zoe, testing.make_bundle(university))
    purchase_refund(purchase=purchase, by=uni_admin)
    key, _text = api_key_create(organization=ecole, name="SIS", scopes=["shares:read"], by=None)
    api_key_revoke(key=key, by=None)
    other = testing.make_document(zoe, university, "Certificate")
    document_withdraw(document=other, reason="Issued in error", by=uni_admin)
    client.login(email=zoe.email, password=testing.PASSWORD)
    client.login(email=zoe.email, password="not her password")
    return entries()


def test_the_chain_of_a_realistic_history_verifies(mixed_history):
    kinds = {entry.event for entry in mixed_history}
    assert kinds >= {
        Event.DOCUMENT_ISSUED,
        Event.SHARE_CREATED,
        Event.SHARE_OPENED,
        Event.SHARE_REVOKED,
        Event.DOCUMENT_VERSIONED,
        Event.PAYMENT_COMPLETED,
        Event.PAYMENT_REFUNDED,
        Event.API_KEY_CREATED,
        Event.API_KEY_REVOKED,
        Event.DOCUMENT_WITHDRAWN,
        Event.SIGNED_IN,
        Event.SIGN_IN_FAILED,
    }
    assert [entry.sequence for entry in mixed_history] == list(range(1, len(mixed_history) + 1))
    assert mixed_history[0].prev_hash == "0" * 64
    for previous, entry in zip(mixed_history, mixed_history[1:], strict=False):
        assert entry.prev_hash == previous.hash
        assert entry.at >= previous.at

    intact, output = audit_verify()

    assert intact, output
    assert f"{len(mixed_history)} entries, chain intact" in output
    assert f"Last entry's hash: {mixed_history[-1].hash}" in output


def test_changing_an_entry_is_found_at_that_entry(mixed_history):
    changed = mixed_history[4]
    tamper(
        "UPDATE audit_auditentry SET actor_label = %s WHERE sequence = %s",
        ["someone.else@example.org", changed.sequence],
    )

    intact, output = audit_verify()

    assert not intact
    assert f"broken at entry {changed.sequence}: its content does not match its hash" in output
    assert f"{changed.sequence - 1} entries before it hold" in output


def test_an_entry_changed_and_rehashed_is_found_at_the_next_one(mixed_history):
    from credshare.audit.chain import entry_hash

    changed = AuditEntry.objects.get(sequence=3)
    changed.details = {"channel": "link"}
    if connection.vendor == "postgresql":
        sql = "UPDATE audit_auditentry SET details = %s::jsonb, hash = %s WHERE sequence = 3"
    else:
        sql = "UPDATE audit_auditentry SET details = %s, hash = %s WHERE sequence = 3"
    tamper(sql, ['{"channel": "link"}', entry_hash(changed)])

    intact, output = audit_verify()

    assert not intact
    assert "broken at entry 4: its previous hash is not the previous entry's hash" in output


def test_a_removed_entry_is_found_where_it_was(mixed_history):
    removed = mixed_history[5]
    tamper("DELETE FROM audit_auditentryorganization WHERE entry_id = %s", [removed.pk])
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [removed.pk])

    intact, output = audit_verify()

    assert not intact
    assert (
        f"broken at entry {removed.sequence + 1}: sequence {removed.sequence + 1} where "
        f"{removed.sequence} was expected" in output
    )


def test_an_entry_shown_to_another_organization_is_found(mixed_history, acme):
    shared = next(entry for entry in mixed_history if entry.event == Event.SHARE_CREATED)
    tamper(
        "INSERT INTO audit_auditentryorganization (entry_id, organization_id) VALUES (%s, %s)",
        [shared.pk, acme.pk],
    )

    intact, output = audit_verify()

    assert not intact
    assert f"broken at entry {shared.sequence}: its organization links differ" in output


def test_an_empty_log_verifies(db):
    assert audit_verify() == (True, "The audit log holds: 0 entries, chain intact.\n")


def refused(action) -> str:
    """The database's refusal of ACTION, in a savepoint so the test can go on."""
    with pytest.raises(DatabaseError) as refusal, transaction.atomic():
        action()
    return str(refusal.value)


def raw(sql: str):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql)

    return run


def test_the_database_refuses_to_change_or_delete_an_entry(mixed_history):
    first = AuditEntry.objects.get(sequence=1)

    messages = [
        refused(raw("UPDATE audit_auditentry SET event = 'share.created'")),
        refused(raw("DELETE FROM audit_auditentry WHERE sequence = 1")),
        refused(raw("UPDATE audit_auditentryorganization SET organization_id = 0")),
        refused(raw("DELETE FROM audit_auditentryorganization")),
        refused(lambda: AuditEntry.objects.filter(pk=first.pk).update(ip="10.0.0.1")),
        refused(lambda: AuditEntryOrganization.objects.all().delete()),
    ]

    assert all("the audit log is append-only" in message for message in messages), messages
    assert entries() == mixed_history
    assert [entry.hash for entry in entries()] == [entry.hash for entry in mixed_history]
    assert audit_verify()[0]


def test_a_share_rolled_back_leaves_no_entry(zoe, zoe_transcript, ecole):
    before = entries()

    with pytest.raises(RuntimeError), transaction.atomic():
        testing.share_with(zoe, [zoe_transcript], ecole, reference="A-1")
        assert entries(Event.SHARE_CREATED)  # written with the share, in its transaction
        raise RuntimeError("the request failed after the share was made")

    assert not Share.objects.exists()
    assert entries() == before


def test_a_refused_share_leaves_no_entry(bob, bob_transcript, ecole):
    # Bob has no credit left with the university: the share is refused.
    with pytest.raises(ShareError):
        testing.share_with(bob, [bob_transcript], ecole)

    assert entries(Event.SHARE_CREATED) == []
