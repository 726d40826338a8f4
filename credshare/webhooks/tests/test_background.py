"""Deliveries leave the request: a learner's share returns while the receiver is still holding
its webhook, and a delivery that cannot be handed to the background is left to the
scheduler, never failing the share."""

import re
import threading

import pytest
from django.urls import reverse

from credshare.sharing.models import Share
from credshare.webhooks import services, tasks
from credshare.webhooks.models import Event, WebhookDelivery

FIELDS = {"application_number": "A-77"}


def wait_for_delivery_threads() -> None:
    for thread in threading.enumerate():
        if thread.name.startswith("webhook-delivery-"):
            thread.join(timeout=60)


def share_through_the_window(client, document) -> object:
    """Zoé shares DOCUMENT with École through the share window, as her browser would."""
    url = reverse("sharing:with_organization")
    form = client.get(url, {"documents": document.pk}).content.decode()
    token = re.search(r'name="submission_token" value="([^"]+)"', form).group(1)
    return client.post(
        url,
        {
            "documents": [document.pk],
            "recipient": "ecole-imaginaire",
            "field_application_number": "A-77",
            "expires_on": "",
            "confirm_credit_use": "on",
            "submission_token": token,
        },
    )


@pytest.mark.django_db(transaction=True)
def test_a_share_does_not_wait_for_a_slow_receiver(
    receiver, settings, client, zoe, zoe_transcript, ecole
):
    settings.CREDSHARE_TASKS = "inline"  # the embedded default: a thread after the commit
    endpoint = services.endpoint_create(
        organization=ecole, url=receiver.url("/slow"), events=[Event.SHARE_RECEIVED], by=None
    )
    receiver.trust(endpoint)
    receiver.hold = threading.Event()  # the receiver answers only when the test says so
    client.force_login(zoe)

    response = share_through_the_window(client, zoe_transcript)

    # Zoé is on the done page while the receiver still holds the delivery's request: had
    # the request waited for the receiver, it would have returned only after its answer.
    share = Share.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("sharing:done", args=[share.pk])
    assert receiver.arrived.wait(timeout=30), "the background thread never sent the event"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.delivered_at is None

    receiver.hold.set()
    wait_for_delivery_threads()
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    [request] = receiver.requests
    assert request["genuine"]
    assert request["json"]["data"]["share"]["id"] == str(share.public_id)


@pytest.fixture
def ecole_endpoint(ecole):
    return services.endpoint_create(
        organization=ecole,
        url="https://hooks.ecole.example/",
        events=[Event.SHARE_RECEIVED],
        by=None,
    )


def test_with_celery_each_delivery_is_a_task_sent_after_the_commit(
    ecole_endpoint,
    zoe,
    zoe_transcript,
    ecole,
    settings,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from credshare.core import testing

    settings.CREDSHARE_TASKS = "celery"
    sent = []
    monkeypatch.setattr(tasks.deliver_webhook, "delay", sent.append)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        testing.share_with(zoe, [zoe_transcript], ecole, field_values=FIELDS)
        assert sent == []  # not before the commit
    for callback in callbacks:
        callback()

    assert sent == [WebhookDelivery.objects.get().pk]


def test_a_broker_that_is_down_leaves_the_delivery_to_the_scheduler(
    ecole_endpoint,
    zoe,
    zoe_transcript,
    ecole,
    settings,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from credshare.core import testing

    settings.CREDSHARE_TASKS = "celery"

    def broker_down(delivery_id):
        raise ConnectionError("Redis is not answering")

    monkeypatch.setattr(tasks.deliver_webhook, "delay", broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        share = testing.share_with(zoe, [zoe_transcript], ecole, field_values=FIELDS)

    assert Share.objects.get() == share
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert list(services.deliveries_due()) == [delivery]

    # Celery beat's task hands what is due to the workers.
    queued = []
    monkeypatch.setattr(tasks.deliver_webhook, "delay", queued.append)
    assert tasks.deliver_due_webhooks() == 1
    assert queued == [delivery.pk]


def test_with_no_background_tasks_nothing_is_sent_until_the_scheduler_runs(
    receiver, endpoint_for, zoe, zoe_transcript, ecole, django_capture_on_commit_callbacks
):
    from credshare.core import testing

    endpoint_for()

    with django_capture_on_commit_callbacks(execute=True):
        testing.share_with(zoe, [zoe_transcript], ecole, field_values=FIELDS)

    assert receiver.requests == []
    assert services.deliver_due() == 1
    assert len(receiver.requests) == 1


def test_the_celery_task_makes_one_attempt_and_is_safe_to_run_twice(receiver, endpoint_for, ecole):
    endpoint_for()
    [delivery] = services.event_publish(
        organization=ecole, event_type=Event.SHARE_RECEIVED, data={}
    )

    tasks.deliver_webhook(delivery.pk)
    tasks.deliver_webhook(delivery.pk)  # a message delivered twice
    tasks.deliver_webhook(delivery.pk + 1000)  # a delivery deleted since

    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.SUCCEEDED
