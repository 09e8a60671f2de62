"""Clerks and supervisors may see the job runs (the admin's record of the scheduled jobs)."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def grant(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    app_config = apps.get_app_config("exchange")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.get(content_type__app_label="exchange", codename="view_jobrun")
    for group in Group.objects.filter(name__in=["Clerks", "Supervisors"]):
        group.permissions.add(view)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0006_certificate_withdrawn_amount")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
