from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("network", "0003_organization_names_and_approval")]

    operations = [
        migrations.AddConstraint(
            model_name="organization",
            constraint=models.UniqueConstraint(
                fields=("name_key_en",), name="organization_name_en_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="organization",
            constraint=models.UniqueConstraint(
                fields=("name_key_fr",), name="organization_name_fr_unique"
            ),
        ),
    ]
