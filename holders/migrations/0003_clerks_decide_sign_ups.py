"""Clerks and supervisors review portal sign-ups (view and change: approving or
declining is a change of the request; nobody deletes one)."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

CODENAMES = ["view_signuprequest", "change_signuprequest"]


def grant(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Permissions are normally created after migrate; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = list(
        Permission.objects.filter(content_type__app_label="holders", codename__in=CODENAMES)
    )
    for group in Group.objects.filter(name__in=["Clerks", "Supervisors"]):
        group.permissions.add(*perms)


def revoke(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = list(
        Permission.objects.filter(content_type__app_label="holders", codename__in=CODENAMES)
    )
    for group in Group.objects.filter(name__in=["Clerks", "Supervisors"]):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [
        ("holders", "0002_sign_up_request"),
        ("exchange", "0003_desk_groups"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
