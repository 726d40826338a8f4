import django.db.models.deletion
from django.db import migrations, models


def _share_index_names(schema_editor, model) -> list[str]:
    column = model._meta.get_field("share").column
    return schema_editor._constraint_names(model, [column], index=True)


def drop_share_index(apps, schema_editor):
    """Drop the index on share_id alone. Django's own AlterField would also drop and re-add
    the foreign key, which checks every access row again under a lock on both tables."""
    model = apps.get_model("sharing", "ShareAccess")
    for name in _share_index_names(schema_editor, model):
        schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create_share_index(apps, schema_editor):
    model = apps.get_model("sharing", "ShareAccess")
    if not _share_index_names(schema_editor, model):
        field = model._meta.get_field("share")
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0003_share_public_id_processed"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="shareaccess",
                    name="share",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="accesses",
                        to="sharing.share",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_share_index, create_share_index)],
        ),
    ]
