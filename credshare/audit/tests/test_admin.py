"""Platform admins read the log in the Django admin, and can neither add, change nor
delete an entry there."""

import pytest
from django.urls import reverse

from credshare.audit.models import AuditEntry, Event
from credshare.audit.tests.conftest import last
from credshare.core import testing


@pytest.fixture
def platform_admin_client(client, db):
    from credshare.accounts.models import User

    admin = User.objects.create_superuser("root@credshare.example", testing.PASSWORD)
    testing.enrol_totp(admin)  # the admin needs a session with its second factor
    client.force_login(admin)
    return client


def test_a_platform_admin_reads_entries_but_cannot_add_change_or_delete_them(
    platform_admin_client, zoe_transcript
):
    entry = last(Event.DOCUMENT_ISSUED)
    client = platform_admin_client
    changelist = reverse("admin:audit_auditentry_changelist")
    change = reverse("admin:audit_auditentry_change", args=[entry.pk])

    listing = client.get(changelist)
    assert listing.status_code == 200
    assert str(zoe_transcript.public_id) in listing.content.decode()
    page = client.get(change)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()

    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    assert client.post(change, {"event": Event.SHARE_REVOKED}).status_code == 403
    delete = reverse("admin:audit_auditentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    bulk = client.post(
        changelist, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)

    assert AuditEntry.objects.get(pk=entry.pk).event == Event.DOCUMENT_ISSUED
    assert AuditEntry.objects.filter(event=Event.DOCUMENT_ISSUED).count() == 1
