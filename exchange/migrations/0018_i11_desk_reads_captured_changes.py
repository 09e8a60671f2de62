"""Clerks and supervisors read the changes the database captured (view only: the table is
append-only and its admin view-only)."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def _perms(apps: Apps) -> list:  # type: ignore[type-arg]
    Permission = apps.get_model("auth", "Permission")
    return list(
        Permission.objects.filter(
            content_type__app_label="exchange", codename="view_recordedrowchange"
        )
    )


def grant(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Permissions are normally created after migrate; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=["Clerks", "Supervisors"]):
        group.permissions.add(*_perms(apps))


def revoke(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=["Clerks", "Supervisors"]):
        group.permissions.remove(*_perms(apps))


class Migration(migrations.Migration):
    dependencies = [("exchange", "0017_i11_capture_row_changes")]
    operations = [migrations.RunPython(grant, revoke)]
