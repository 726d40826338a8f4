"""The list pages make a fixed number of queries, however many rows they show."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from credshare.api.services import api_key_create
from credshare.core import testing
from credshare.webhooks.models import WebhookAttempt, WebhookDelivery
from credshare.webhooks.services import endpoint_create

ROWS = 30


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_keys_page_makes_as_many_queries_for_30_keys_as_for_one(
    admin_client, ecole, ecole_admin, django_assert_max_num_queries
):
    url = reverse("network:keys", args=[ecole.slug])
    api_key_create(organization=ecole, name="key 0", scopes=["shares:read"], by=ecole_admin)
    one = queries_for(admin_client, url)
    for number in range(1, ROWS):
        key, _ = api_key_create(
            organization=ecole, name=f"key {number}", scopes=["shares:read"], by=ecole_admin
        )
        if number % 3 == 0:
            key.revoked_at = timezone.now()
            key.save()

    with django_assert_max_num_queries(one):
        response = admin_client.get(url)
    assert response.content.decode().count('id="key-') == ROWS


def test_the_deliveries_page_makes_as_many_queries_for_30_deliveries_as_for_one(
    admin_client, ecole, ecole_admin, django_assert_max_num_queries
):
    endpoint = endpoint_create(
        organization=ecole,
        url="https://sis.ecole.example/in",
        events=["share.received"],
        by=ecole_admin,
    )

    def deliver(number):
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event_type="share.received", payload={}, attempts=2
        )
        for attempt in (1, 2):
            WebhookAttempt.objects.create(
                delivery=delivery,
                number=attempt,
                started_at=timezone.now() - datetime.timedelta(minutes=number),
                status_code=500,
                response_body=f"failure {number}.{attempt}",
            )

    url = reverse("network:webhook", args=[ecole.slug, endpoint.public_id])
    deliver(0)
    one = queries_for(admin_client, url)
    for number in range(1, ROWS):
        deliver(number)

    with django_assert_max_num_queries(one):
        response = admin_client.get(url)
    assert response.content.decode().count('id="delivery-') == ROWS
    assert "failure 29.2" in response.content.decode()


def test_the_staff_and_fields_pages_make_as_many_queries_for_30_rows_as_for_one(
    admin_client, ecole, django_assert_max_num_queries
):
    staff_url = reverse("network:staff", args=[ecole.slug])
    fields_url = reverse("network:fields", args=[ecole.slug])
    one_member, two_fields = (
        queries_for(admin_client, staff_url),
        queries_for(admin_client, fields_url),
    )
    for number in range(ROWS):
        testing.make_issuer_staff(ecole, f"member{number}@ecole.example")
        testing.make_share_field(ecole, f"question_{number}", position=10 + number)

    with django_assert_max_num_queries(one_member):
        assert admin_client.get(staff_url).status_code == 200
    with django_assert_max_num_queries(two_fields):
        assert admin_client.get(fields_url).status_code == 200
