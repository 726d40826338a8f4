import uuid

from django.db import migrations, models


def give_each_share_a_public_id(apps, schema_editor):
    Share = apps.get_model("sharing", "Share")
    for share in Share.objects.filter(public_id__isnull=True).only("pk").iterator():
        Share.objects.filter(pk=share.pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("sharing", "0002_email_and_link_channels")]

    operations = [
        migrations.AddField(
            model_name="share",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_share_a_public_id, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="share",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AddField(
            model_name="share",
            name="processed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="processed"),
        ),
        migrations.AddField(
            model_name="share",
            name="expiry_announced_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
