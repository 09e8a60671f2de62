"""History survives TRUNCATE too: the append-only triggers (0012) fire per row, and
TRUNCATE fires no row trigger, so the application's database user could empty the table
in one statement. A statement-level BEFORE TRUNCATE trigger refuses it, whoever runs it
(table owner and superuser included). SQLite has no TRUNCATE."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION exchange_statechange_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'exchange_statechange is append-only: history is never truncated'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER exchange_statechange_no_truncate BEFORE TRUNCATE ON exchange_statechange
    FOR EACH STATEMENT EXECUTE FUNCTION exchange_statechange_no_truncate();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS exchange_statechange_no_truncate ON exchange_statechange;
DROP FUNCTION IF EXISTS exchange_statechange_no_truncate();
"""


def up(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)


def down(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0014_deficiency_index")]
    operations = [migrations.RunPython(up, down)]
