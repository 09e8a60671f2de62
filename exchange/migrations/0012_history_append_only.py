"""History rows cannot be changed or deleted, by anyone, through any path: the database
itself refuses an UPDATE or DELETE of exchange_statechange (a trigger on PostgreSQL and on
SQLite), not only the admin and the model's save() and delete()."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION exchange_statechange_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'exchange_statechange is append-only: history rows are never % (row %)',
        lower(TG_OP) || 'd', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER exchange_statechange_no_update BEFORE UPDATE ON exchange_statechange
    FOR EACH ROW EXECUTE FUNCTION exchange_statechange_append_only();
CREATE TRIGGER exchange_statechange_no_delete BEFORE DELETE ON exchange_statechange
    FOR EACH ROW EXECUTE FUNCTION exchange_statechange_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS exchange_statechange_no_update ON exchange_statechange;
DROP TRIGGER IF EXISTS exchange_statechange_no_delete ON exchange_statechange;
DROP FUNCTION IF EXISTS exchange_statechange_append_only();
"""
SQLITE_UP = [
    """CREATE TRIGGER exchange_statechange_no_update BEFORE UPDATE ON exchange_statechange
       BEGIN SELECT RAISE(ABORT, 'exchange_statechange is append-only: history rows are never updated'); END;""",
    """CREATE TRIGGER exchange_statechange_no_delete BEFORE DELETE ON exchange_statechange
       BEGIN SELECT RAISE(ABORT, 'exchange_statechange is append-only: history rows are never deleted'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS exchange_statechange_no_update;",
    "DROP TRIGGER IF EXISTS exchange_statechange_no_delete;",
]


def up(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)  # no placeholders: % is literal
    elif vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


def down(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0011_review_queue")]
    operations = [migrations.RunPython(up, down)]
