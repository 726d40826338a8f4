"""Delivering events to a real HTTP receiver on loopback: signed requests, retries with
backoff that stop at the first success or after three days, the log of attempts, and
redelivery. Time moves with time_machine; the tests attempt deliveries themselves
(CREDSHARE_TASKS "none")."""

import datetime
import itertools
import threading
import uuid

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from credshare.core import testing
from credshare.core.errors import ApplicationError
from credshare.webhooks import selectors, services
from credshare.webhooks.models import Event, WebhookDelivery


@pytest.fixture
def published(endpoint_for, ecole):
    """One share.received event to École's endpoint at the receiver, not yet attempted."""
    endpoint = endpoint_for()
    [delivery] = services.event_publish(
        organization=ecole, event_type=Event.SHARE_RECEIVED, data={"share": {"id": "s-1"}}
    )
    return endpoint, delivery


def attempts_of(delivery):
    return [
        (attempt.number, attempt.status_code)
        for attempt in WebhookDelivery.objects.get(pk=delivery.pk).attempt_log.all()
    ]


def test_a_receiver_failing_twice_gets_retries_with_backoff_until_it_succeeds(receiver, published):
    endpoint, delivery = published
    receiver.answer(500, 500, body="down for maintenance")

    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = services.delivery_attempt(delivery_id=delivery.pk)
        assert first.status == WebhookDelivery.Status.PENDING
        # The next attempt waits about 30 s (give or take the jitter), not less.
        assert services.deliver_due() == 0
        assert len(receiver.requests) == 1

        clock.shift(datetime.timedelta(seconds=34))
        assert services.deliver_due() == 1
        second = WebhookDelivery.objects.get(pk=delivery.pk)
        assert second.status == WebhookDelivery.Status.PENDING
        # About a minute this time: twice the first wait.
        assert datetime.timedelta(seconds=53) < second.next_attempt_at - timezone.now()
        assert second.next_attempt_at - timezone.now() < datetime.timedelta(seconds=67)

        clock.shift(datetime.timedelta(seconds=67))
        assert services.deliver_due() == 1
        clock.shift(datetime.timedelta(days=4))
        assert services.deliver_due() == 0

    delivered = WebhookDelivery.objects.get(pk=delivery.pk)
    assert delivered.status == WebhookDelivery.Status.SUCCEEDED
    assert delivered.delivered_at is not None
    assert delivered.attempts == 3
    assert delivered.last_status_code == 200
    assert attempts_of(delivery) == [(1, 500), (2, 500), (3, 200)]
    assert delivered.attempt_log.first().response_body == "down for maintenance"
    # Three requests, each signed as the documented recipe checks, all of the same event.
    assert len(receiver.requests) == 3
    assert all(request["genuine"] for request in receiver.requests)
    assert {request["json"]["id"] for request in receiver.requests} == {str(delivery.event_id)}


def test_each_request_carries_the_documented_headers_and_payload(receiver, published, ecole):
    endpoint, delivery = published

    services.delivery_attempt(delivery_id=delivery.pk)

    [request] = receiver.requests
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "credshare-webhooks/1"
    assert headers["Credshare-Event"] == "share.received"
    assert headers["Credshare-Delivery"] == str(delivery.public_id)
    assert headers["Credshare-Signature"].startswith("t=")
    assert request["json"] == {
        "id": str(delivery.event_id),
        "type": "share.received",
        "created": delivery.payload["created"],
        "organization": "ecole-imaginaire",
        "data": {"share": {"id": "s-1"}},
    }
    assert datetime.datetime.fromisoformat(request["json"]["created"]).tzinfo is not None


def test_a_request_signed_with_another_secret_fails_the_documented_check(receiver, published):
    endpoint, delivery = published
    services.endpoint_secret_rotate(endpoint=endpoint, by=None)  # the receiver keeps the old one

    services.delivery_attempt(delivery_id=delivery.pk)

    [request] = receiver.requests
    assert request["genuine"] is False


def test_retries_are_signed_with_the_rotated_secret(receiver, published):
    endpoint, delivery = published
    receiver.answer(500)
    services.delivery_attempt(delivery_id=delivery.pk)
    old_secret = endpoint.secret
    endpoint = services.endpoint_secret_rotate(endpoint=endpoint, by=None)
    receiver.trust(endpoint)

    services.deliver_due(now=timezone.now() + datetime.timedelta(minutes=1))

    assert endpoint.secret != old_secret
    assert [request["genuine"] for request in receiver.requests] == [True, True]
    retry = receiver.requests[1]
    assert not receiver.is_genuine(
        old_secret, retry["headers"]["Credshare-Signature"], retry["body"]
    )


def test_it_gives_up_three_days_after_the_event(receiver, published):
    endpoint, delivery = published
    receiver.answer(*[503] * 100)
    start = timezone.now()

    with time_machine.travel(start, tick=False) as clock:
        services.delivery_attempt(delivery_id=delivery.pk)
        # Attempt whatever is due every hour for four days.
        for _hour in range(4 * 24):
            clock.shift(datetime.timedelta(hours=1))
            services.deliver_due()
        given_up = WebhookDelivery.objects.get(pk=delivery.pk)
        clock.shift(datetime.timedelta(days=30))
        assert services.deliver_due() == 0

    assert given_up.status == WebhookDelivery.Status.FAILED
    assert given_up.next_attempt_at is None
    assert given_up.last_status_code == 503
    log = list(given_up.attempt_log.all())
    assert len(log) == given_up.attempts == len(receiver.requests)
    # Backoff: 30 s, 1, 2 ... minutes, then every 6 hours at most: about 20 attempts in three
    # days, not one an hour; the last on the third day.
    assert 15 <= len(log) <= 25
    assert log[-1].started_at - start <= datetime.timedelta(days=3, hours=1)
    assert log[-1].started_at - start > datetime.timedelta(days=2, hours=18)
    gaps = [later.started_at - earlier.started_at for earlier, later in itertools.pairwise(log)]
    assert max(gaps) <= datetime.timedelta(hours=7)


def test_a_redirect_is_not_followed(receiver, published):
    endpoint, delivery = published
    receiver.answer(302, headers={"Location": receiver.url("/elsewhere")})

    result = services.delivery_attempt(delivery_id=delivery.pk)

    assert result.status == WebhookDelivery.Status.PENDING
    assert result.last_status_code == 302
    assert [request["path"] for request in receiver.requests] == ["/hooks/ecole-imaginaire"]


def test_only_the_start_of_a_long_answer_is_kept(receiver, published):
    endpoint, delivery = published
    receiver.answer(200, body="x" * 50_000)

    services.delivery_attempt(delivery_id=delivery.pk)

    [attempt] = WebhookDelivery.objects.get(pk=delivery.pk).attempt_log.all()
    assert attempt.response_body == "x" * 2000


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(receiver, published, settings):
    endpoint, delivery = published
    settings.CREDSHARE_WEBHOOK_TIMEOUT = 0.2
    receiver.hold = threading.Event()

    result = services.delivery_attempt(delivery_id=delivery.pk)
    receiver.hold.set()

    assert result.status == WebhookDelivery.Status.PENDING
    assert result.last_status_code is None
    [attempt] = result.attempt_log.all()
    assert attempt.status_code is None
    assert attempt.error.startswith("Timed out")


def test_an_unreachable_receiver_is_a_failed_attempt_with_its_error(receiver, ecole_admin, ecole):
    # A port nothing listens on: bind one, then close it.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    services.endpoint_create(
        organization=ecole,
        url=f"http://127.0.0.1:{port}/hooks",
        events=[Event.SHARE_RECEIVED],
        by=ecole_admin,
    )
    [delivery] = services.event_publish(
        organization=ecole, event_type=Event.SHARE_RECEIVED, data={}
    )

    result = services.delivery_attempt(delivery_id=delivery.pk)

    assert result.status == WebhookDelivery.Status.PENDING
    assert "ConnectionRefused" in result.last_error
    assert result.attempt_log.get().error == result.last_error


def test_a_host_resolving_to_a_loopback_address_is_refused_when_sending(
    receiver, published, settings
):
    # Registered while loopback was allowed (development), sent once it no longer is: the
    # address is checked at each attempt, and the receiver is never reached.
    endpoint, delivery = published
    settings.CREDSHARE_WEBHOOK_ALLOW_LOOPBACK = False

    result = services.delivery_attempt(delivery_id=delivery.pk)

    assert receiver.requests == []
    assert result.status == WebhookDelivery.Status.PENDING
    assert "not a public address" in result.last_error


def test_a_disabled_endpoints_pending_deliveries_are_given_up_unsent(receiver, published):
    endpoint, delivery = published
    services.endpoint_update(
        endpoint=endpoint,
        url=endpoint.url,
        events=endpoint.events,
        description="",
        is_active=False,
        by=None,
    )

    result = services.delivery_attempt(delivery_id=delivery.pk)

    assert receiver.requests == []
    assert result.status == WebhookDelivery.Status.FAILED
    assert result.attempts == 0


def test_an_attempt_of_a_delivery_that_is_not_due_sends_nothing(receiver, published):
    endpoint, delivery = published
    receiver.answer(500)
    services.delivery_attempt(delivery_id=delivery.pk)

    again = services.delivery_attempt(delivery_id=delivery.pk)

    assert len(receiver.requests) == 1
    assert again.attempts == 1


def test_a_delivered_event_is_not_sent_again(receiver, published):
    endpoint, delivery = published
    services.delivery_attempt(delivery_id=delivery.pk)

    services.delivery_attempt(delivery_id=delivery.pk)
    services.deliver_due(now=timezone.now() + datetime.timedelta(days=1))

    assert len(receiver.requests) == 1


def test_redeliver_sends_the_same_event_again_as_a_new_delivery_at_once(
    receiver, published, ecole_admin, django_capture_on_commit_callbacks, settings, monkeypatch
):
    endpoint, delivery = published
    services.delivery_attempt(delivery_id=delivery.pk)
    # The background task runs here, when the commit hands it over.
    from credshare.webhooks import tasks

    settings.CREDSHARE_TASKS = "celery"
    monkeypatch.setattr(
        tasks.deliver_webhook,
        "delay",
        lambda delivery_id: services.delivery_attempt(delivery_id=delivery_id),
    )

    with django_capture_on_commit_callbacks(execute=True):
        again = services.delivery_redeliver(delivery=delivery, by=ecole_admin)

    assert again.pk != delivery.pk
    again.refresh_from_db()
    assert again.status == WebhookDelivery.Status.SUCCEEDED
    assert again.event_id == delivery.event_id
    assert [request["json"] for request in receiver.requests] == [delivery.payload] * 2
    assert all(request["genuine"] for request in receiver.requests)
    assert [request["headers"]["Credshare-Delivery"] for request in receiver.requests] == [
        str(delivery.public_id),
        str(again.public_id),
    ]
    assert list(selectors.deliveries_of_endpoint(endpoint=endpoint)) == [again, delivery]


def test_a_disabled_endpoint_cannot_be_redelivered_to(receiver, published):
    endpoint, delivery = published
    endpoint.is_active = False
    endpoint.save()

    with pytest.raises(ApplicationError) as refused:
        services.delivery_redeliver(delivery=delivery, by=None)

    assert refused.value.code == "webhook_endpoint_inactive"


def test_the_command_sends_what_is_due(receiver, published):
    endpoint, delivery = published

    # One worker: the test's transaction is not visible to other threads' connections.
    call_command("deliver_webhooks", workers=1, verbosity=0)

    assert WebhookDelivery.objects.get(pk=delivery.pk).status == WebhookDelivery.Status.SUCCEEDED
    assert len(receiver.requests) == 1


def test_deliveries_are_listed_newest_first_with_their_attempts_in_a_fixed_number_of_queries(
    receiver, endpoint_for, ecole, django_assert_num_queries
):
    endpoint = endpoint_for()
    receiver.answer(*[500] * 10)
    deliveries = [
        services.event_publish(organization=ecole, event_type=Event.SHARE_RECEIVED, data={})[0]
        for _ in range(5)
    ]
    services.deliver_due()
    services.deliver_due(now=timezone.now() + datetime.timedelta(minutes=5))

    with django_assert_num_queries(2):
        listed = [
            (delivery.pk, [attempt.status_code for attempt in delivery.attempt_log.all()])
            for delivery in selectors.deliveries_of_endpoint(endpoint=endpoint)
        ]

    assert listed == [(delivery.pk, [500, 500]) for delivery in reversed(deliveries)]


def test_a_delivery_is_found_only_by_its_organization(receiver, published, ecole, acme):
    endpoint, delivery = published
    from django.http import Http404

    found = selectors.delivery_of_organization_or_404(
        organization=ecole, public_id=str(delivery.public_id)
    )
    assert found == delivery
    for organization, public_id in [
        (acme, delivery.public_id),
        (ecole, uuid.uuid4()),
        (ecole, "not-a-uuid"),
    ]:
        with pytest.raises(Http404):
            selectors.delivery_of_organization_or_404(
                organization=organization, public_id=public_id
            )


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_ten_workers_attempting_one_delivery_at_once_send_it_once(receiver, ecole):
    admin = testing.make_issuer_staff(ecole, "admin@ecole.example", role="admin")
    endpoint = services.endpoint_create(
        organization=ecole, url=receiver.url("/hooks"), events=[Event.SHARE_RECEIVED], by=admin
    )
    receiver.trust(endpoint)
    [delivery] = services.event_publish(
        organization=ecole, event_type=Event.SHARE_RECEIVED, data={}
    )
    barrier = threading.Barrier(10)
    errors = []

    def attempt():
        try:
            barrier.wait(timeout=30)
            services.delivery_attempt(delivery_id=delivery.pk)
        except Exception as error:  # reported by the test, never swallowed
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(receiver.requests) == 1
    delivered = WebhookDelivery.objects.get(pk=delivery.pk)
    assert delivered.status == WebhookDelivery.Status.SUCCEEDED
    assert delivered.attempts == 1


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL for threads")
@pytest.mark.django_db(transaction=True)
def test_the_scheduler_sends_due_deliveries_several_at_a_time_each_once(receiver, ecole):
    endpoint = services.endpoint_create(
        organization=ecole, url=receiver.url("/hooks"), events=[Event.SHARE_RECEIVED], by=None
    )
    receiver.trust(endpoint)
    for _ in range(6):
        services.event_publish(organization=ecole, event_type=Event.SHARE_RECEIVED, data={})

    assert services.deliver_due(workers=3) == 6

    assert len(receiver.requests) == 6
    assert len({request["json"]["id"] for request in receiver.requests}) == 6
    assert all(request["genuine"] for request in receiver.requests)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_the_admin_lists_and_shows_deliveries_with_their_attempts(
    receiver, published, admin_client
):
    endpoint, delivery = published
    receiver.answer(500, body="receiver trouble")
    services.delivery_attempt(delivery_id=delivery.pk)

    listing = admin_client.get("/admin/webhooks/webhookdelivery/")
    page = admin_client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/")
    endpoint_page = admin_client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")

    assert listing.status_code == page.status_code == endpoint_page.status_code == 200
    assert "share.received" in listing.content.decode()
    assert "receiver trouble" in page.content.decode()
    assert endpoint.secret not in endpoint_page.content.decode()
