"""Clerk and supervisor groups. Supervisors alone may record the issuer's decisions."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

DESK_MODELS = {
    "exchange": [
        "exchangeoffer",
        "noteseries",
        "offerevent",
        "tender",
        "tenderedcertificate",
        "deficiency",
        "guaranteeddelivery",
        "withdrawalnotice",
        "newnotedelivery",
        "notereturn",
        "registrationevent",
        "registrationdefault",
        "statechange",
        "issuer",
    ],
    "holders": ["holder", "holding"],
}
READ_ONLY = {"statechange"}


def create_groups(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Permissions are normally created after migrate; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    clerk_codenames = []
    for app_label, models in DESK_MODELS.items():
        for model in models:
            actions = ["view"] if model in READ_ONLY else ["view", "add", "change"]
            clerk_codenames += [(app_label, f"{action}_{model}") for action in actions]
    clerk_perms = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in clerk_codenames
    ]
    clerks, _ = Group.objects.get_or_create(name="Clerks")
    clerks.permissions.set(clerk_perms)
    supervisors, _ = Group.objects.get_or_create(name="Supervisors")
    supervisors.permissions.set(
        [
            *clerk_perms,
            Permission.objects.get(
                content_type__app_label="exchange", codename="record_issuer_decision"
            ),
        ]
    )


def remove_groups(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=["Clerks", "Supervisors"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0002_initial"),
        ("holders", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_groups, remove_groups)]
