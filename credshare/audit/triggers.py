"""The database triggers that make the audit tables append-only: UPDATE and DELETE are
refused, whoever sends them (the ORM, the admin, raw SQL, a database shell).

On PostgreSQL, TRUNCATE is not refused: it is what `flush` (and so every transactional test)
uses, and it takes the table owner's rights, like dropping the trigger would. SQLite has no
TRUNCATE: `flush` deletes every row, so our `flush` command (management/commands/flush.py)
lifts the triggers for the length of its transaction.

On SQLite, a migration that rebuilds one of these tables (most column changes do) drops its
triggers with the old table: such a migration must call `create(schema_editor)` again."""

TABLES = ("audit_auditentry", "audit_auditentryorganization")

_POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END
$$
"""


def _statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [_POSTGRESQL_FUNCTION] + [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
            for table in TABLES
        ]
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{operation} BEFORE {operation.upper()} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: "
            f"{operation.upper()} on {table} refused'); END"
            for table in TABLES
            for operation in ("update", "delete")
        ]
    return []


def _drop_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in TABLES] + [
            "DROP FUNCTION IF EXISTS audit_refuse_change()"
        ]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_{operation}"
            for table in TABLES
            for operation in ("update", "delete")
        ]
    return []


def _run(connection, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def create(connection) -> None:
    _run(connection, _statements(connection.vendor))


def drop(connection) -> None:
    _run(connection, _drop_statements(connection.vendor))
