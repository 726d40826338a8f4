"""Fixtures and helpers of the audit log's tests.

- ecole_admin, acme_admin, uni_admin: administrators of École Imaginaire, Acme (receiving
  organizations) and Example University (which issues documents).
- admin_client: ecole_admin's browser, signed in.
"""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from credshare.audit.models import AuditEntry

# The organization settings pages' administrators and their signed-in browser.
from credshare.network.tests.conftest import (  # noqa: F401 -- fixtures
    acme_admin,
    admin_client,
    ecole_admin,
    uni_admin,
)


@pytest.fixture(autouse=True)
def _nothing_started_in_the_background(settings):
    # Webhook deliveries and bulk jobs are not started: these tests look at the log only.
    settings.CREDSHARE_TASKS = "none"


def entries(event: str | None = None) -> list[AuditEntry]:
    """The log's entries (of EVENT only, when given), oldest first."""
    queryset = AuditEntry.objects.order_by("sequence")
    return list(queryset.filter(event=event) if event else queryset)


def last(event: str) -> AuditEntry:
    found = entries(event)
    assert found, f"no {event} entry"
    return found[-1]


def audit_verify() -> tuple[bool, str]:
    """Run `manage.py audit_verify`: whether it succeeded, and what it said."""
    import io

    out = io.StringIO()
    try:
        call_command("audit_verify", stdout=out)
    except CommandError as error:
        return False, str(error)
    return True, out.getvalue()


def tamper(sql: str, params=()) -> None:
    """Run SQL on the audit tables with their append-only triggers lifted, as someone with
    the database's owner rights could; the test's transaction puts the triggers back."""
    from credshare.audit import triggers

    triggers.drop(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
