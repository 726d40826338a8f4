from django.db import migrations, models
from django.utils import timezone

from credshare.network.names import name_key


def keys_and_approval(apps, schema_editor):
    """Every organization gets its name keys and, being there before approval existed, is
    approved; except one whose name reads as an earlier organization's (the impersonation
    this change stops): it is left unapproved, out of the directory, for a platform
    administrator to look at, its keys marked with its id so that they stay unique."""
    Organization = apps.get_model("network", "Organization")
    now = timezone.now()
    taken_en, taken_fr = set(), set()
    for organization in Organization.objects.order_by("created", "pk"):
        key_en, key_fr = name_key(organization.name_en), name_key(organization.name_fr)
        taken = taken_en | taken_fr
        duplicate = key_en in taken or key_fr in taken
        if duplicate:
            key_en, key_fr = f"{key_en} #{organization.pk}", f"{key_fr} #{organization.pk}"
        taken_en.add(key_en)
        taken_fr.add(key_fr)
        organization.name_key_en, organization.name_key_fr = key_en, key_fr
        organization.approved_at = None if duplicate else now
        organization.save(update_fields=["name_key_en", "name_key_fr", "approved_at"])


class Migration(migrations.Migration):
    dependencies = [("network", "0002_organization_branding")]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="name_key_en",
            field=models.CharField(default="", editable=False, max_length=200),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="organization",
            name="name_key_fr",
            field=models.CharField(default="", editable=False, max_length=200),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="organization",
            name="approved_at",
            field=models.DateTimeField(
                blank=True,
                help_text=(
                    "Empty until a platform administrator checks the organization: until then "
                    "it is not in the directory and learners cannot share with it. A new name "
                    "empties it."
                ),
                null=True,
                verbose_name="approved by the platform",
            ),
        ),
        migrations.RunPython(keys_and_approval, migrations.RunPython.noop),
    ]
