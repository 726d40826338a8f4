from django.db import migrations

from credshare.audit import triggers


def create_triggers(apps, schema_editor):
    triggers.create(schema_editor.connection)


def drop_triggers(apps, schema_editor):
    triggers.drop(schema_editor.connection)


class Migration(migrations.Migration):
    """UPDATE and DELETE on the audit tables are refused by the database itself, on
    PostgreSQL and SQLite alike (credshare.audit.triggers)."""

    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers, elidable=False)]
