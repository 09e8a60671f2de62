"""The one beat schedule: `exchange.tick` every minute. Due times live in the domain rows."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def create_tick(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name="Desk tick: expiration, guaranteed deliveries, exchange date, returns",
        defaults={"task": "exchange.tick", "interval": every_minute, "enabled": True},
    )


def remove_tick(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task="exchange.tick").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0004_job_runs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_tick, remove_tick)]
