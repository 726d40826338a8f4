"""Django's `flush`, able to empty the append-only audit tables on SQLite.

On SQLite, flushing is a DELETE of every row, which the audit tables' triggers refuse; the
test runner flushes after every transactional test. This drops the triggers, flushes and
creates them again, all in one transaction: a flush that fails leaves them in place. On
PostgreSQL, flushing is a TRUNCATE, which the row triggers do not see: Django's own command
runs unchanged."""

from django.core.management.commands import flush
from django.db import connections, transaction

from credshare.audit import triggers


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        with transaction.atomic(using=connection.alias):
            triggers.drop(connection)
            super().handle(**options)
            triggers.create(connection)
