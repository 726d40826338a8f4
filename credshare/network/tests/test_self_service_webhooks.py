"""Webhook endpoints, as an organization's administrators manage them: add, edit, rotate the
secret, delete; and each endpoint's deliveries with their attempts, redelivered on demand."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from credshare.network.tests.conftest import errors_next_to, text_of
from credshare.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from credshare.webhooks.services import endpoint_create


def url(name, organization, *args):
    return reverse(f"network:{name}", args=[organization.slug, *args])


@pytest.fixture
def endpoint(ecole, ecole_admin):
    return endpoint_create(
        organization=ecole,
        url="https://sis.ecole.example/credshare",
        events=["share.received", "share.revoked"],
        description="Admissions system",
        by=ecole_admin,
    )


def make_delivery(endpoint, *, minutes_ago=0, attempts=(), **values) -> WebhookDelivery:
    """A delivery of ENDPOINT made MINUTES_AGO, with ATTEMPTS as (status code, body) pairs."""
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type=values.pop("event_type", "share.received"),
        payload={"type": "share.received"},
        attempts=len(attempts),
        last_status_code=attempts[-1][0] if attempts else None,
        **values,
    )
    created = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created=created)
    for number, (status_code, body) in enumerate(attempts, start=1):
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=created,
            duration_ms=12,
            status_code=status_code,
            response_body=body,
        )
    return delivery


def endpoint_state() -> list[dict]:
    return list(WebhookEndpoint.objects.order_by("pk").values())


# Endpoints ---------------------------------------------------------------------------------


def test_an_admin_adds_an_endpoint_and_sees_its_secret_behind_show(admin_client, ecole):
    response = admin_client.post(
        url("webhook_new", ecole),
        {
            "url": "https://sis.ecole.example/hooks",
            "events": ["share.received", "document.withdrawn"],
            "description": "SIS",
        },
    )

    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get(organization=ecole)
    assert endpoint.url == "https://sis.ecole.example/hooks"
    assert endpoint.events == ["share.received", "document.withdrawn"]
    assert endpoint.description == "SIS"
    assert endpoint.is_active
    assert response["Location"] == url("webhook", ecole, endpoint.public_id)
    detail = admin_client.get(response["Location"])
    assert "no-store" in detail["Cache-Control"]
    secret = re.search(
        r"<details[^>]*>\s*<summary>Show the secret</summary>\s*<code[^>]*>([^<]+)</code>",
        detail.content.decode(),
    )
    assert secret and secret.group(1) == endpoint.secret
    listing = text_of(admin_client.get(url("webhooks", ecole)))
    assert "https://sis.ecole.example/hooks" in listing
    assert "document.withdrawn" in listing
    assert endpoint.secret not in listing


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"url": "http://sis.ecole.example/hooks", "events": ["share.received"]},
            "url",
            "The URL must start with https://.",
        ),
        (
            {"url": "https://10.1.2.3/hooks", "events": ["share.received"]},
            "url",
            "This address is on a private network",
        ),
        ({"url": "not a url", "events": ["share.received"]}, "url", "Enter a valid URL."),
        ({"url": "https://sis.ecole.example/hooks"}, "events", "Choose at least one event."),
        (
            {"url": "https://sis.ecole.example/hooks", "events": ["share.stolen"]},
            "events",
            "Choose events from the list.",
        ),
        (
            {
                "url": "https://sis.ecole.example/hooks",
                "events": ["share.received"],
                "description": "d" * 201,
            },
            "description",
            "at most 200 characters",
        ),
    ],
)
def test_a_bad_endpoint_is_refused_next_to_its_field(admin_client, ecole, data, field, message):
    response = admin_client.post(url("webhook_new", ecole), data)

    assert response.status_code == 400
    assert message in errors_next_to(response, field)
    assert not WebhookEndpoint.objects.exists()


def test_an_admin_edits_and_pauses_an_endpoint(admin_client, ecole, endpoint):
    form = admin_client.get(url("webhook_edit", ecole, endpoint.public_id)).content.decode()
    assert 'value="https://sis.ecole.example/credshare"' in form

    response = admin_client.post(
        url("webhook_edit", ecole, endpoint.public_id),
        {"url": "https://sis2.ecole.example/in", "events": ["share.expired"], "description": ""},
    )

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url == "https://sis2.ecole.example/in"
    assert endpoint.events == ["share.expired"]
    assert endpoint.description == ""
    assert not endpoint.is_active  # the box was left unticked
    assert "Paused" in text_of(admin_client.get(url("webhooks", ecole)))


def test_a_bad_edit_is_refused_next_to_its_field_and_changes_nothing(admin_client, ecole, endpoint):
    before = endpoint_state()

    response = admin_client.post(
        url("webhook_edit", ecole, endpoint.public_id),
        {"url": "http://sis.ecole.example/", "events": [], "is_active": "on"},
    )

    assert response.status_code == 400
    assert "Choose at least one event." in errors_next_to(response, "events")
    assert endpoint_state() == before


def test_rotating_the_secret_gives_a_new_one(admin_client, ecole, endpoint):
    old = endpoint.secret

    response = admin_client.post(url("webhook_rotate", ecole, endpoint.public_id))

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    page = admin_client.get(response["Location"]).content.decode()
    assert endpoint.secret in page
    assert old not in page
    assert "The endpoint has a new secret" in page


def test_deleting_an_endpoint_asks_first_then_removes_it_with_its_deliveries(
    admin_client, ecole, endpoint
):
    make_delivery(endpoint, attempts=[(500, "oops")])
    confirm = admin_client.get(url("webhook_delete", ecole, endpoint.public_id))
    assert "Delete this endpoint?" in text_of(confirm)
    assert WebhookEndpoint.objects.exists()

    response = admin_client.post(url("webhook_delete", ecole, endpoint.public_id))

    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert "is deleted" in text_of(admin_client.get(response["Location"]))


# Deliveries --------------------------------------------------------------------------------


def test_deliveries_show_newest_first_with_their_attempts(admin_client, ecole, endpoint):
    make_delivery(
        endpoint,
        minutes_ago=30,
        event_type="share.revoked",
        attempts=[(503, "Service Unavailable"), (200, "thanks")],
        status="succeeded",
        delivered_at=timezone.now(),
    )
    make_delivery(endpoint, minutes_ago=5, attempts=[(500, "Internal error: db down")])

    response = admin_client.get(url("webhook", ecole, endpoint.public_id))

    text = text_of(response)
    assert text.index("share.received") < text.index("share.revoked")  # newest first
    assert "1 attempt · last: HTTP 500" in text
    assert "HTTP 500" in text
    assert "Internal error: db down" in text
    assert "2 attempts · last: HTTP 200" in text
    assert "HTTP 503" in text
    assert "Service Unavailable" in text
    assert "Delivered" in text
    assert text.count("Redeliver") == 2


def test_a_long_response_shows_an_excerpt(admin_client, ecole, endpoint):
    make_delivery(endpoint, attempts=[(500, "x" * 1500 + "END")])
    text = text_of(admin_client.get(url("webhook", ecole, endpoint.public_id)))
    assert "x" * 200 in text
    assert "END" not in text


def test_deliveries_are_paginated(admin_client, ecole, endpoint):
    for minutes in range(31):
        make_delivery(endpoint, minutes_ago=minutes)

    first = admin_client.get(url("webhook", ecole, endpoint.public_id))
    second = admin_client.get(url("webhook", ecole, endpoint.public_id), {"page": 2})

    assert first.content.decode().count('id="delivery-') == 30
    assert second.content.decode().count('id="delivery-') == 1
    assert "Page 1 of 2" in text_of(first)


def test_redeliver_queues_the_same_event_again(admin_client, ecole, endpoint):
    delivery = make_delivery(endpoint, attempts=[(500, "no")], status="failed")

    response = admin_client.post(url("delivery_redeliver", ecole, delivery.public_id))

    assert response.status_code == 302
    again = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert again.event_id == delivery.event_id
    assert again.payload == delivery.payload
    assert again.status == "pending"
    page = text_of(admin_client.get(response["Location"]))
    assert "The event is being sent again" in page
    assert "Not tried yet" in page


def test_redelivering_to_a_paused_endpoint_says_why_and_changes_nothing(
    admin_client, ecole, endpoint
):
    delivery = make_delivery(endpoint, attempts=[(500, "no")], status="failed")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)

    response = admin_client.post(url("delivery_redeliver", ecole, delivery.public_id))

    assert response.status_code == 400
    assert "This endpoint is disabled: enable it before redelivering." in text_of(response)
    assert WebhookDelivery.objects.count() == 1


def test_an_unknown_endpoint_or_delivery_is_a_404(admin_client, ecole, endpoint):
    assert admin_client.get(f"/org/{ecole.slug}/webhooks/not-a-uuid/").status_code == 404
    missing = "00000000-0000-0000-0000-000000000000"
    assert admin_client.get(url("webhook", ecole, missing)).status_code == 404
    assert admin_client.post(url("delivery_redeliver", ecole, missing)).status_code == 404


def test_hostile_text_from_receivers_and_descriptions_is_shown_as_text(
    admin_client, ecole, endpoint
):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(description="<script>a()</script>")
    make_delivery(endpoint, attempts=[(500, "<script>b()</script>")])
    for page in (
        admin_client.get(url("webhooks", ecole)),
        admin_client.get(url("webhook", ecole, endpoint.public_id)),
    ):
        content = page.content.decode()
        assert "<script>" not in content
        assert "&lt;script&gt;" in content
