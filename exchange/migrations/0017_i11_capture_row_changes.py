"""Nothing changes a recorded row without an event: PostgreSQL triggers capture every
change to what a person submitted (a letter's boxes, a notice of guaranteed delivery, a
notice of withdrawal) and to the issuer's terms (an offer, a series) into
exchange_recordedrowchange, with the old and new value of each column, whatever path
made it. Columns the services move with their own history rows (states, the running
expiration, timestamps of decisions) are left to those rows.

Our own triggers rather than django-pghistory: the demo runs on SQLite, which
django-pgtrigger (under pghistory) does not serve, and one generic function of thirty
lines covers the five tables without a new dependency. SQLite gets the table only."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

LETTER_COLUMNS = [
    "registered_names",
    "book_entry_confirmation",
    "dtc_participant_number",
    "agents_message",
    "beneficial_owner",
    "special_issuance_name",
    "special_issuance_address",
    "special_delivery_name",
    "special_delivery_address",
    "signer_name",
    "signer_capacity",
    "signed",
    "medallion_guarantor_id",
    "medallion_program",
    "rep_full_authority",
    "rep_not_affiliate",
    "rep_not_broker_dealer_from_issuer",
    "rep_ordinary_course",
    "rep_no_distribution",
    "rep_affiliate_will_comply",
    "is_broker_dealer",
    "broker_dealer_prospectus_acknowledged",
    "prospectus_copies_requested",
    "w9_tin_last4",
    "w9_certified",
    "w9_exempt_payee",
    # What was tendered, by whom, when: never changed at all.
    "amount",
    "holder_id",
    "series_id",
    "offer_id",
    "received_at",
    "submitted_by_id",
]
# (table, mode, columns): "watch" captures the columns named, "ignore" every other one.
CAPTURED = [
    ("exchange_tender", "watch", LETTER_COLUMNS),
    (
        "exchange_guaranteeddelivery",
        "watch",
        [
            "tender_id",
            "guarantor_id",
            "tendering_holder_name",
            "tendering_holder_address",
            "registered_names",
            "certificate_numbers",
            "executed_on",
            "received_at",
            "deadline_at",
        ],
    ),
    (
        "exchange_withdrawalnotice",
        "watch",
        [
            "tender_id",
            "received_at",
            "submitted_by_id",
            "tendering_person_name",
            "certificate_numbers",
            "amount",
            "states_withdrawal",
            "registered_holder_name",
            "signed_as_letter",
            "succession_evidence",
        ],
    ),
    (
        "exchange_exchangeoffer",
        "ignore",
        [
            "state",
            "notice_mailed_on",
            "commenced_at",
            "expiration_at",
            "expired_at",
            "accepted_at",
            "completed_at",
            "terminated_at",
            "stop_order_in_effect",
        ],
    ),
    ("exchange_noteseries", "ignore", []),
]

FUNCTION = """
CREATE OR REPLACE FUNCTION exchange_capture_row_change() RETURNS trigger AS $$
DECLARE
    old_row jsonb := to_jsonb(OLD);
    new_row jsonb := to_jsonb(NEW);
    columns text[] := TG_ARGV[1:];
    changes jsonb := '{}'::jsonb;
    col text;
BEGIN
    FOR col IN SELECT jsonb_object_keys(new_row) LOOP
        IF ((TG_ARGV[0] = 'watch') = (col = ANY(columns)))
           AND old_row -> col IS DISTINCT FROM new_row -> col THEN
            changes := changes || jsonb_build_object(
                col, jsonb_build_array(old_row -> col, new_row -> col));
        END IF;
    END LOOP;
    IF changes <> '{}'::jsonb THEN
        INSERT INTO exchange_recordedrowchange (at, table_name, row_id, changes, db_user)
        VALUES (clock_timestamp(), TG_TABLE_NAME, NEW.id, changes, current_user);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION exchange_recordedrowchange_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'exchange_recordedrowchange is append-only: never %', lower(TG_OP)
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER exchange_recordedrowchange_no_change
    BEFORE UPDATE OR DELETE ON exchange_recordedrowchange
    FOR EACH ROW EXECUTE FUNCTION exchange_recordedrowchange_append_only();
CREATE TRIGGER exchange_recordedrowchange_no_truncate
    BEFORE TRUNCATE ON exchange_recordedrowchange
    FOR EACH STATEMENT EXECUTE FUNCTION exchange_recordedrowchange_append_only();
"""


def up(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table, mode, columns in CAPTURED:
        arguments = ", ".join(f"'{a}'" for a in [mode, *columns])
        # Watched columns only: the exchange date's set-based UPDATEs of state (100,000
        # rows) do not even call the function.
        of = f"OF {', '.join(columns)} " if mode == "watch" else ""
        schema_editor.execute(
            f"CREATE TRIGGER {table}_capture_change AFTER UPDATE {of}ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION exchange_capture_row_change({arguments})",
            params=None,
        )


def down(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, _, _ in CAPTURED:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_capture_change ON {table}")
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS exchange_recordedrowchange_no_change ON exchange_recordedrowchange;"
        "DROP TRIGGER IF EXISTS exchange_recordedrowchange_no_truncate "
        "ON exchange_recordedrowchange;"
        "DROP FUNCTION IF EXISTS exchange_recordedrowchange_append_only();"
        "DROP FUNCTION IF EXISTS exchange_capture_row_change();"
    )


class Migration(migrations.Migration):
    dependencies = [("exchange", "0016_i11_recorded_row_changes")]
    operations = [migrations.RunPython(up, down)]
