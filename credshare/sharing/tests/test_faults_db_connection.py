"""The database connection dies in the middle of a share, after the credit was debited and
before the commit: PostgreSQL ends the backend (pg_terminate_backend from a second
connection), as a database restart or a failover would. Nothing half-done may survive: no
credit lost, no share, no email; the learner gets an error page, and sending the same form
again works."""

import psycopg
import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse

from credshare.billing.models import CreditEntry
from credshare.notifications.models import OutgoingEmail
from credshare.sharing import services
from credshare.sharing.models import Share
from credshare.sharing.tests.test_share_window import balance, submission_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

URL = reverse("sharing:by_email")


def terminate_backend_of_this_connection() -> None:
    """End the server process behind Django's connection, from another connection."""
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


@pytest.fixture
def connection_dies_before_the_email(monkeypatch):
    """Kill the connection at the share service's last step inside its transaction: the share
    row, its documents and the spent credit are written, the email is about to be queued."""
    real_email_queue = services.email_queue
    calls = []

    def dying_email_queue(**kwargs):
        calls.append(kwargs["to"])
        assert CreditEntry.objects.filter(kind=CreditEntry.Kind.SPEND).count() == 1
        terminate_backend_of_this_connection()
        return real_email_queue(**kwargs)

    monkeypatch.setattr(services, "email_queue", dying_email_queue)
    return calls


def test_a_connection_lost_mid_share_leaves_nothing_and_a_retry_succeeds(
    smtp_server, zoe, zoe_transcript, university, connection_dies_before_the_email, monkeypatch
):
    # A browser: Django answers an exception with its error page, as in production.
    browser = Client(raise_request_exception=False)
    browser.force_login(zoe)
    data = submission_for(
        browser, URL, zoe_transcript, recipient_email="hr@example.com", email_language="en"
    )

    response = browser.post(URL, data)

    assert connection_dies_before_the_email == ["hr@example.com"]
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert "Traceback" not in page and "OperationalError" not in page
    # The end of a request drops a broken connection (the test client skips that signal).
    close_old_connections()
    assert balance(zoe, university) == 1
    assert not Share.objects.exists()
    assert not Share.documents.through.objects.exists()
    assert not CreditEntry.objects.filter(kind=CreditEntry.Kind.SPEND).exists()
    assert not OutgoingEmail.objects.exists()
    assert smtp_server.messages == []

    # The learner sends the same form again (same submission token), the database is back.
    monkeypatch.undo()
    response = browser.post(URL, data)

    assert response.status_code == 302
    share = Share.objects.get()
    assert response["Location"] == reverse("sharing:done", args=[share.pk])
    assert list(share.documents.all()) == [zoe_transcript]
    assert balance(zoe, university) == 0
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "hr@example.com"
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.SENT
