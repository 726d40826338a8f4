from django.db import migrations, models


class Migration(migrations.Migration):
    """The per-address lockout becomes throttling by account and source: the rows only
    counted recent failures, so the old ones are dropped with their table."""

    dependencies = [
        ("accounts", "0005_invitation_answers_and_sender"),
    ]

    operations = [
        migrations.DeleteModel(name="SignInThrottle"),
        migrations.CreateModel(
            name="SignInThrottle",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=400, unique=True)),
                ("failures", models.PositiveIntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("last_attempt_at", models.DateTimeField()),
            ],
        ),
    ]
