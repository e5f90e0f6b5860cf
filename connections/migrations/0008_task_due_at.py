from datetime import timedelta

from django.db import migrations, models
from django.db.models import F

# Before this field, a chain was judged lost after ten minutes without a change.
OLD_STALL = timedelta(minutes=10)


def due_as_before(apps, schema_editor):
    """Rows in flight during the upgrade are judged as the old reconciler would have."""
    for name in ("AccessRequest", "PublishedService"):
        apps.get_model("connections", name).objects.update(
            task_due_at=F("updated_at") + OLD_STALL
        )


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0007_request_newest_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="accessrequest",
            name="task_due_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="publishedservice",
            name="task_due_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(due_as_before, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="accessrequest",
            index=models.Index(fields=["state", "task_due_at"], name="request_state_due"),
        ),
        migrations.AddIndex(
            model_name="publishedservice",
            index=models.Index(fields=["state", "task_due_at"], name="service_state_due"),
        ),
    ]
