"""Each event published from its real trigger, to the right organization's subscribed
endpoints only, with the documented data; nothing for a rolled-back change."""

import datetime
import threading
import uuid

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from credshare.core import testing
from credshare.documents.services import document_correct, document_withdraw
from credshare.sharing.models import Share
from credshare.sharing.services import ShareError, share_revoke
from credshare.webhooks import services
from credshare.webhooks.models import Event, WebhookDelivery

FIELDS = {"application_number": "A-77"}


@pytest.fixture
def registrar(university):
    return testing.make_issuer_staff(university, "registrar@university.example")


def share_api_url(share) -> str:
    return f"http://testserver.example/api/v1/shares/{share.public_id}"


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.CREDSHARE_BASE_URL = "http://testserver.example/"


def deliver_all(receiver) -> list[dict]:
    """Send every pending delivery now; the events the receiver got, every one genuine."""
    services.deliver_due(now=timezone.now() + datetime.timedelta(seconds=1))
    assert all(request["genuine"] for request in receiver.requests)
    return receiver.events()


# share.received


def test_a_share_with_an_organization_tells_it_share_received(
    receiver, endpoint_for, zoe, zoe_transcript, ecole
):
    endpoint_for()

    share = testing.share_with(zoe, [zoe_transcript], ecole, field_values=FIELDS)

    [event] = deliver_all(receiver)
    assert event["type"] == "share.received"
    assert event["organization"] == "ecole-imaginaire"
    assert event["data"] == {"share": {"id": str(share.public_id), "url": share_api_url(share)}}
    assert receiver.requests[0]["headers"]["Credshare-Event"] == "share.received"


def test_the_same_submission_twice_tells_once(receiver, endpoint_for, zoe, zoe_transcript, ecole):
    endpoint_for()
    token = uuid.uuid4()
    from credshare.sharing.services import share_create_with_organization

    for _ in range(2):
        share_create_with_organization(
            owner=zoe,
            document_ids=[zoe_transcript.pk],
            recipient=ecole,
            submission_token=token,
            field_values=FIELDS,
            confirmed_credit_use=True,
        )

    assert len(deliver_all(receiver)) == 1


def test_an_endpoint_not_subscribed_to_the_event_gets_nothing(
    receiver, endpoint_for, zoe, zoe_transcript, ecole
):
    endpoint_for(events=[Event.SHARE_REVOKED, Event.DOCUMENT_UPDATED])

    testing.share_with(zoe, [zoe_transcript], ecole, field_values=FIELDS)

    assert not WebhookDelivery.objects.exists()
    assert deliver_all(receiver) == []


def test_another_organizations_endpoints_get_nothing(
    receiver, endpoint_for, zoe, zoe_transcript, ecole, acme
):
    endpoint_for(acme)
    endpoint_for(ecole)

    testing.share_with(zoe, [zoe_transcript], ecole, field_values=FIELDS)

    deliver_all(receiver)
    assert [request["path"] for request in receiver.requests] == ["/hooks/ecole-imaginaire"]


def test_every_active_subscribed_endpoint_gets_the_same_event_and_a_disabled_one_nothing(
    receiver, endpoint_for, zoe, zoe_transcript, ecole
):
    first = endpoint_for(path="/first")
    endpoint_for(path="/second")
    disabled = endpoint_for(path="/disabled")
    services.endpoint_update(
        endpoint=disabled,
        url=disabled.url,
        events=disabled.events,
        description="",
        is_active=False,
        by=None,
    )

    testing.share_with(zoe, [zoe_transcript], ecole, field_values=FIELDS)

    events = deliver_all(receiver)
    assert sorted(request["path"] for request in receiver.requests) == ["/first", "/second"]
    assert events[0] == events[1]
    assert first.deliveries.count() == 1


def test_email_and_link_shares_tell_no_organization(
    receiver, endpoint_for, zoe, zoe_transcript, university
):
    endpoint_for()
    testing.give_credits(zoe, university, 1)

    testing.share_by_email(zoe, [zoe_transcript], "someone@example.org")
    share, _token = testing.share_by_link(zoe, [zoe_transcript])
    share_revoke(share=share)

    assert not WebhookDelivery.objects.exists()


def test_a_rolled_back_share_sends_nothing(
    receiver, endpoint_for, zoe, zoe_transcript, ecole, django_capture_on_commit_callbacks
):
    endpoint_for()

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        testing.share_with(zoe, [zoe_transcript], ecole, field_values=FIELDS)
        raise RuntimeError("the request failed after the share was made")

    assert not Share.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert callbacks == []  # nothing scheduled to send
    assert deliver_all(receiver) == []


def test_a_refused_share_sends_nothing(receiver, endpoint_for, bob, bob_transcript, ecole):
    endpoint_for()

    with pytest.raises(ShareError):  # Bob has no credit at the university
        testing.share_with(bob, [bob_transcript], ecole, field_values=FIELDS)

    assert not WebhookDelivery.objects.exists()


# share.revoked


def test_revoking_a_share_tells_its_organization_once(
    receiver, endpoint_for, zoe, zoe_transcript, ecole
):
    endpoint_for(events=[Event.SHARE_REVOKED])
    share = testing.share_with(zoe, [zoe_transcript], ecole, field_values=FIELDS)

    share_revoke(share=share)
    share_revoke(share=Share.objects.get(pk=share.pk))

    [event] = deliver_all(receiver)
    assert event["type"] == "share.revoked"
    assert event["data"] == {"share": {"id": str(share.public_id), "url": share_api_url(share)}}


# share.expired


@pytest.fixture
def expiring_share(zoe, zoe_transcript, ecole):
    """Zoé's share with École, expiring at the end of today."""
    return testing.share_with(
        zoe, [zoe_transcript], ecole, field_values=FIELDS, expires_on=timezone.localdate()
    )


def test_an_expired_share_is_announced_once(receiver, endpoint_for, expiring_share):
    endpoint_for(events=[Event.SHARE_EXPIRED, Event.SHARE_REVOKED])

    assert services.shares_expired_announce() == 0  # not expired yet
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, hours=1)):
        assert services.shares_expired_announce() == 1
        assert services.shares_expired_announce() == 0
        call_command("deliver_webhooks", workers=1, verbosity=0)
        # The recipient was told it expired: revoking it now tells nothing more.
        share_revoke(share=Share.objects.get(pk=expiring_share.pk))
        events = deliver_all(receiver)

    assert [event["type"] for event in events] == ["share.expired"]
    assert events[0]["data"]["share"]["id"] == str(expiring_share.public_id)
    assert Share.objects.get(pk=expiring_share.pk).expiry_announced_at is not None


def test_a_revoked_share_is_not_announced_as_expired(receiver, endpoint_for, expiring_share):
    endpoint_for(events=[Event.SHARE_EXPIRED])
    share_revoke(share=expiring_share)

    with time_machine.travel(timezone.now() + datetime.timedelta(days=2)):
        assert services.shares_expired_announce() == 0


def test_the_command_announces_expired_shares(receiver, endpoint_for, expiring_share):
    endpoint_for(events=[Event.SHARE_EXPIRED])

    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, hours=1)):
        call_command("deliver_webhooks", workers=1, verbosity=0)

    assert [event["type"] for event in receiver.events()] == ["share.expired"]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL for concurrency")
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_announce_an_expired_share_once(zoe, zoe_transcript, ecole):
    services.endpoint_create(
        organization=ecole,
        url="https://hooks.ecole.example/",
        events=[Event.SHARE_EXPIRED],
        by=None,
    )
    shares = [
        testing.share_with(
            zoe, [zoe_transcript], ecole, field_values=FIELDS, expires_on=timezone.localdate()
        )
    ]
    testing.give_credits(zoe, zoe_transcript.issuer, 5)
    shares += [
        testing.share_with(
            zoe, [zoe_transcript], ecole, field_values=FIELDS, expires_on=timezone.localdate()
        )
        for _ in range(5)
    ]
    later = timezone.now() + datetime.timedelta(days=1, hours=1)
    barrier = threading.Barrier(4)
    counts, errors = [], []

    def scheduler():
        try:
            barrier.wait(timeout=30)
            counts.append(services.shares_expired_announce(now=later))
        except Exception as error:  # reported by the test, never swallowed
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(counts) == len(shares)
    deliveries = WebhookDelivery.objects.filter(event_type=Event.SHARE_EXPIRED)
    assert sorted(d.payload["data"]["share"]["id"] for d in deliveries) == sorted(
        str(share.public_id) for share in shares
    )


# document.updated, document.withdrawn


@pytest.fixture
def shared_at_two_organizations(zoe, zoe_transcript, university, ecole, acme):
    """Zoé's transcript in a live share at École and one at Acme, and in a revoked share at
    Acme."""
    testing.give_credits(zoe, university, 2)
    at_ecole = testing.share_with(zoe, [zoe_transcript], ecole, field_values=FIELDS)
    at_acme = testing.share_with(zoe, [zoe_transcript], acme)
    share_revoke(share=testing.share_with(zoe, [zoe_transcript], acme))
    return at_ecole, at_acme


def test_a_correction_tells_every_organization_holding_a_live_share_of_the_document(
    receiver, endpoint_for, shared_at_two_organizations, zoe_transcript, ecole, acme, registrar
):
    at_ecole, at_acme = shared_at_two_organizations
    endpoint_for(ecole, events=[Event.DOCUMENT_UPDATED])
    endpoint_for(acme, events=[Event.DOCUMENT_UPDATED])

    document_correct(document=zoe_transcript, pdf=testing.sample_pdf("corrected"), by=registrar)

    deliver_all(receiver)
    by_path = {request["path"]: request["json"] for request in receiver.requests}
    document = {"id": str(zoe_transcript.public_id), "status": "active", "version": 2}
    assert by_path["/hooks/ecole-imaginaire"]["type"] == "document.updated"
    assert by_path["/hooks/ecole-imaginaire"]["data"] == {
        "document": document,
        "shares": [str(at_ecole.public_id)],
    }
    # Acme's revoked share is not named: only its live one.
    assert by_path["/hooks/acme"]["data"] == {
        "document": document,
        "shares": [str(at_acme.public_id)],
    }
    assert len(receiver.requests) == 2


def test_a_withdrawal_tells_every_organization_holding_a_live_share_of_the_document(
    receiver, endpoint_for, shared_at_two_organizations, zoe_transcript, ecole, acme, registrar
):
    at_ecole, _at_acme = shared_at_two_organizations
    endpoint_for(ecole, events=[Event.DOCUMENT_WITHDRAWN])
    endpoint_for(acme, events=[Event.SHARE_RECEIVED])  # not subscribed

    document_withdraw(document=zoe_transcript, reason="Issued in error", by=registrar)

    [event] = deliver_all(receiver)
    assert event["type"] == "document.withdrawn"
    assert event["data"] == {
        "document": {"id": str(zoe_transcript.public_id), "status": "withdrawn", "version": 1},
        "shares": [str(at_ecole.public_id)],
    }


def test_a_document_in_no_organization_share_tells_nobody(
    receiver, endpoint_for, zoe_transcript, registrar
):
    endpoint_for()

    document_correct(document=zoe_transcript, pdf=testing.sample_pdf("corrected"), by=registrar)
    document_withdraw(document=zoe_transcript, reason="Issued in error", by=registrar)

    assert not WebhookDelivery.objects.exists()
