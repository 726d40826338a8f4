"""The admin lists the outbox read-only and never shows a body; the delivery mode is checked."""

import pytest
from django.urls import reverse

from credshare.notifications.checks import check_email_delivery
from credshare.notifications.services import email_queue

SECRET_LINK = "https://credshare.example/s/secret-token-in-the-body"


@pytest.mark.django_db
def test_the_admin_shows_the_outbox_read_only_without_bodies(admin_client, settings):
    settings.CREDSHARE_EMAIL_DELIVERY = "worker"
    email = email_queue(
        to="recipient@example.org",
        template="notifications/test_message",
        context={"topic": "Your transcript", "link": SECRET_LINK},
        language="en",
    )

    listing = admin_client.get(reverse("admin:notifications_outgoingemail_changelist"))
    detail = admin_client.get(reverse("admin:notifications_outgoingemail_change", args=[email.pk]))

    assert listing.status_code == 200
    assert detail.status_code == 200
    for page in (listing.content.decode(), detail.content.decode()):
        assert "recipient@example.org" in page
        assert "Help: Your transcript" in page
        assert SECRET_LINK not in page
    assert admin_client.get(reverse("admin:notifications_outgoingemail_add")).status_code == 403
    delete = reverse("admin:notifications_outgoingemail_delete", args=[email.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403


def test_an_unknown_delivery_mode_is_reported(settings):
    settings.CREDSHARE_EMAIL_DELIVERY = "worker"
    assert check_email_delivery(None) == []

    settings.CREDSHARE_EMAIL_DELIVERY = "later"
    [error] = check_email_delivery(None)
    assert error.id == "notifications.E001"
