"""A desk login (staff or superuser) is never a holder's portal login, whatever path links
it: the admin no longer offers the field, the services refuse, and the database refuses a
holder row pointing at a staff login, or a login linked to a holder being made staff.
PostgreSQL only (the demo's SQLite relies on the admin and the services)."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION holders_holder_user_not_staff() RETURNS trigger AS $$
BEGIN
    IF NEW.user_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM auth_user WHERE id = NEW.user_id AND (is_staff OR is_superuser)
    ) THEN
        RAISE EXCEPTION 'a staff login (user %) is never a holder''s portal login', NEW.user_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER holders_holder_user_not_staff BEFORE INSERT OR UPDATE OF user_id ON holders_holder
    FOR EACH ROW EXECUTE FUNCTION holders_holder_user_not_staff();

CREATE OR REPLACE FUNCTION auth_user_holder_not_staff() RETURNS trigger AS $$
BEGIN
    IF (NEW.is_staff OR NEW.is_superuser)
       AND EXISTS (SELECT 1 FROM holders_holder WHERE user_id = NEW.id) THEN
        RAISE EXCEPTION 'login % acts for a holder in the portal; it cannot be made staff', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER auth_user_holder_not_staff BEFORE UPDATE OF is_staff, is_superuser ON auth_user
    FOR EACH ROW EXECUTE FUNCTION auth_user_holder_not_staff();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS holders_holder_user_not_staff ON holders_holder;
DROP FUNCTION IF EXISTS holders_holder_user_not_staff();
DROP TRIGGER IF EXISTS auth_user_holder_not_staff ON auth_user;
DROP FUNCTION IF EXISTS auth_user_holder_not_staff();
"""


def up(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)


def down(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("holders", "0003_clerks_decide_sign_ups"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(up, down)]
