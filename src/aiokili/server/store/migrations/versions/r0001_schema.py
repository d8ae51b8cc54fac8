"""The schema of the local server as aiokili made it before Alembic; adopts those files.

Every table is created unless it exists (``if_not_exists``), so this revision both makes a
new database and completes a file an earlier aiokili made (that had no ``alembic_version``
table): :func:`_complete_older_file` first gives such a file's tables the columns added
over time, as the repositories did at each start before.

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# PostgreSQL: text compared and sorted byte by byte ("C"), as SQLite does; 64-bit integers,
# as SQLite's.
TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
INT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
REAL = sa.Float


def _seq() -> sa.Column[int]:
    """An increasing row number (SQLite: the rowid, never reused: AUTOINCREMENT)."""
    return sa.Column("seq", INT, primary_key=True, autoincrement=True)


def _table(name: str, *columns: sa.schema.SchemaItem, rowid: bool = True) -> None:
    """Create ``name`` unless it exists; ``rowid=False``: a SQLite WITHOUT ROWID table (the
    rows stored in their primary key's order), as plain elsewhere."""
    options = {"sqlite_autoincrement": True} if rowid else {"sqlite_with_rowid": False}
    op.create_table(name, *columns, if_not_exists=True, **options)


def _index(name: str, table: str, *columns: str, unique: bool = False) -> None:
    op.create_index(name, table, list(columns), unique=unique, if_not_exists=True)


def _pair(first: str, second: str, *more: sa.Column[Any]) -> tuple[sa.Column[Any], ...]:
    """Two text columns making the primary key, then ``more``."""
    return (sa.Column(first, TEXT, primary_key=True), sa.Column(second, TEXT, primary_key=True),
            *more)  # fmt: skip


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    plain_keys = _complete_older_file() if sqlite else []
    _tables()
    _indexes()
    if sqlite:
        _label_update_trigger()
        _adopt_older_rows(plain_keys)
    elif op.get_bind().dialect.name == "postgresql":
        _label_update_trigger_postgresql()
        _sqlite_functions_postgresql()
    else:
        raise NotImplementedError(f"no label update trigger for {op.get_bind().dialect.name}")


def downgrade() -> None:
    raise NotImplementedError("the local server's schema only moves forward")


def _tables() -> None:
    _table("organizations", sa.Column("id", TEXT, primary_key=True), sa.Column("name", TEXT),
           sa.Column("created_at", TEXT))  # fmt: skip
    _table(
        "users",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("email", TEXT, unique=True),
        sa.Column("firstname", TEXT),
        sa.Column("lastname", TEXT),
        sa.Column("organization_id", TEXT),
        sa.Column("created_at", TEXT),
        sa.Column("organization_role", TEXT, server_default="ADMIN"),  # an older file's user
        sa.Column("activated", INT, server_default=sa.text("1")),
        sa.Column("updated_at", TEXT),
        sa.Column("password_hash", TEXT),  # scrypt (users.hash_password)
    )
    _table(
        "api_keys",
        sa.Column("key_hash", TEXT, primary_key=True),  # SHA-256 of the key: never the key
        sa.Column("id", TEXT, unique=True),
        sa.Column("name", TEXT),
        sa.Column("user_id", TEXT),
        sa.Column("created_at", TEXT),
        sa.Column("revoked", INT, server_default=sa.text("0")),
    )
    _table(
        "projects",
        _seq(),
        sa.Column("id", TEXT, unique=True),
        sa.Column("title", TEXT),
        sa.Column("description", TEXT),
        sa.Column("input_type", TEXT),
        sa.Column("json_interface", TEXT),
        sa.Column("author_id", TEXT),
        sa.Column("archived", INT, server_default=sa.text("0")),
        sa.Column("props", TEXT, server_default="{}"),  # settings as a JSON object
        sa.Column("created_at", TEXT),
        sa.Column("updated_at", TEXT),
        sa.Column("organization_id", TEXT),
    )
    _table("project_stars", *_pair("project_id", "user_id"), rowid=False)
    _table(
        "project_users",
        _seq(),
        sa.Column("id", TEXT, unique=True),
        sa.Column("project_id", TEXT),
        sa.Column("user_id", TEXT),
        sa.Column("role", TEXT),
        sa.Column("created_at", TEXT),
        sa.UniqueConstraint("project_id", "user_id"),
    )
    _table(
        "assets",
        _seq(),
        sa.Column("id", TEXT, unique=True),
        sa.Column("project_id", TEXT),
        sa.Column("external_id", TEXT),
        sa.Column("content", TEXT),
        sa.Column("json_content", TEXT),
        sa.Column("json_metadata", TEXT),
        sa.Column("status", TEXT),
        sa.Column("is_honeypot", INT),
        sa.Column("created_at", TEXT),
        sa.Column("updated_at", TEXT),
        sa.Column("skipped", INT, server_default=sa.text("0")),
        sa.Column("priority", INT, server_default=sa.text("0")),
        sa.Column("consensus_mark", REAL),  # set by updatePropertiesInAssets: wins over
        sa.Column("honeypot_mark", REAL),  # the marks computed from labels (asset_marks)
        sa.Column("inference_mark", REAL),
        sa.Column("step_id", TEXT),
        sa.Column("step_status", TEXT),
        sa.Column("step_group_name", TEXT),
    )
    _table("notifications", sa.Column("id", TEXT, primary_key=True), sa.Column("status", TEXT),
           sa.Column("created_at", TEXT), sa.Column("organization_id", TEXT),
           sa.Column("message", TEXT))  # fmt: skip
    _table(
        "labels",
        _seq(),
        sa.Column("id", TEXT, unique=True),
        sa.Column("project_id", TEXT),
        sa.Column("asset_id", TEXT),
        sa.Column("author_id", TEXT),
        sa.Column("label_type", TEXT),
        sa.Column("json_response", TEXT),
        sa.Column("model_name", TEXT),
        sa.Column("seconds_to_label", REAL),
        sa.Column("created_at", TEXT),
        sa.Column("updated_at", TEXT),
    )
    _table("label_categories", sa.Column("label_id", TEXT, primary_key=True),
           sa.Column("job", TEXT, primary_key=True), sa.Column("category", TEXT, primary_key=True),
           sa.Column("count", INT), rowid=False)  # fmt: skip
    _table("label_marks", sa.Column("label_id", TEXT, primary_key=True),
           sa.Column("asset_id", TEXT), sa.Column("consensus_mark", REAL),
           sa.Column("honeypot_mark", REAL), rowid=False)  # fmt: skip
    _table("asset_marks", sa.Column("asset_id", TEXT, primary_key=True),
           sa.Column("consensus_mark", REAL), sa.Column("honeypot_mark", REAL),
           rowid=False)  # fmt: skip
    _table("honeypots", sa.Column("asset_id", TEXT, primary_key=True),
           sa.Column("label_id", TEXT), rowid=False)  # fmt: skip
    _table(
        "issues",
        _seq(),
        sa.Column("id", TEXT, unique=True),
        sa.Column("project_id", TEXT),
        sa.Column("asset_id", TEXT),
        sa.Column("label_id", TEXT),
        sa.Column("object_mid", TEXT),
        sa.Column("type", TEXT),
        sa.Column("status", TEXT),
        sa.Column("text", TEXT),
        sa.Column("author_id", TEXT),
        sa.Column("created_at", TEXT),
        sa.Column("updated_at", TEXT),
        sa.Column("issue_number", INT),
        sa.Column("has_been_seen", INT, server_default=sa.text("0")),
    )
    _table("tags", _seq(), sa.Column("id", TEXT, unique=True), sa.Column("label", TEXT),
           sa.Column("color", TEXT), sa.Column("organization_id", TEXT),
           sa.Column("created_at", TEXT))  # fmt: skip
    _table("project_tags", *_pair("project_id", "tag_id"), rowid=False)
    _table("project_versions", _seq(), sa.Column("id", TEXT, unique=True),
           sa.Column("project_id", TEXT), sa.Column("name", TEXT), sa.Column("content", TEXT),
           sa.Column("created_at", TEXT))  # fmt: skip
    _table("files", sa.Column("key", TEXT, primary_key=True), sa.Column("content_type", TEXT),
           sa.Column("size", INT), sa.Column("created_at", TEXT),
           sa.Column("organization_id", TEXT))  # fmt: skip
    _table("settings", sa.Column("name", TEXT, primary_key=True), sa.Column("value", TEXT))
    _table("events", _seq(), sa.Column("kind", TEXT), sa.Column("project_id", TEXT),
           sa.Column("asset_id", TEXT), sa.Column("created_at", TEXT))  # fmt: skip
    _table(
        "project_steps",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("project_id", TEXT),
        sa.Column("name", TEXT),
        sa.Column("type", TEXT),
        sa.Column("position", INT),
        sa.Column("consensus_coverage", INT),
        sa.Column("expected_labels", INT),
        sa.Column("step_coverage", INT),
        sa.Column("send_back_step_id", TEXT),
        sa.Column("use_honeypot", INT),
        rowid=False,
    )
    _table("step_assignees", *_pair("step_id", "user_id", sa.Column("position", INT)),
           rowid=False)  # fmt: skip
    _table("label_steps", sa.Column("label_id", TEXT, primary_key=True),
           sa.Column("step_id", TEXT), rowid=False)  # fmt: skip
    _table("asset_assignees", *_pair("asset_id", "user_id"), rowid=False)
    _table("asset_properties", sa.Column("asset_id", TEXT, primary_key=True),
           sa.Column("is_used_for_consensus", INT), sa.Column("resolution", TEXT),
           sa.Column("page_resolutions", TEXT), rowid=False)  # fmt: skip
    _table("sent_back_assets", sa.Column("asset_id", TEXT, primary_key=True), rowid=False)
    _table("sent_back_labels", sa.Column("label_id", TEXT, primary_key=True), rowid=False)
    _table(
        "plugins",
        _seq(),
        sa.Column("id", TEXT, unique=True),
        sa.Column("name", TEXT, unique=True),
        sa.Column("organization_id", TEXT),
        sa.Column("status", TEXT),
        sa.Column("handler_types", TEXT),
        sa.Column("event_matcher", TEXT),
        sa.Column("archive_key", TEXT),
        sa.Column("version", INT, server_default=sa.text("0")),
        sa.Column("webhook_url", TEXT),
        sa.Column("webhook_header", TEXT),
        sa.Column("created_at", TEXT),
        sa.Column("updated_at", TEXT),
    )
    _table("plugin_projects", *_pair("plugin_id", "project_id", sa.Column("label_seq", INT),
           sa.Column("event_seq", INT)), rowid=False)  # fmt: skip
    _table(
        "plugin_logs",
        _seq(),
        sa.Column("plugin_name", TEXT),
        sa.Column("kind", TEXT),
        sa.Column("project_id", TEXT),
        sa.Column("run_id", TEXT),
        sa.Column("asset_id", TEXT),
        sa.Column("label_id", TEXT),
        sa.Column("log_type", TEXT),
        sa.Column("content", TEXT),
        sa.Column("created_at", TEXT),
    )
    # every update of a label (read by the label feed, then pruned), and each label's last
    # one (what a subscription resumed from a feed cursor replays): see the trigger below
    _table("label_updates", _seq(), sa.Column("label_id", TEXT), sa.Column("project_id", TEXT))
    _table("label_changes", sa.Column("label_id", TEXT, primary_key=True),
           sa.Column("seq", INT), rowid=False)  # fmt: skip


def _indexes() -> None:
    _index("api_keys_user", "api_keys", "user_id")
    _index("projects_organization", "projects", "organization_id", "seq")
    _index("project_users_user", "project_users", "user_id", "project_id")
    _index("assets_project", "assets", "project_id", "seq")
    _index("assets_external_id", "assets", "project_id", "external_id", unique=True)
    _index("labels_project", "labels", "project_id", "seq")
    _index("labels_asset", "labels", "asset_id", "seq")
    _index("label_marks_asset", "label_marks", "asset_id")
    _index("issues_project", "issues", "project_id", "seq")
    _index("issues_asset", "issues", "asset_id")
    _index("project_versions_project", "project_versions", "project_id", "seq")
    _index("project_steps_project", "project_steps", "project_id", "position")
    _index("plugin_logs_name", "plugin_logs", "plugin_name", "kind", "seq")
    _index("label_changes_seq", "label_changes", "seq")


def _label_update_trigger() -> None:
    """SQLite: record every change of a label's ``updated_at``, whatever writes it."""
    op.execute("DROP TRIGGER IF EXISTS label_updates_record")
    op.execute(
        "CREATE TRIGGER label_updates_record AFTER UPDATE OF updated_at ON labels "
        "WHEN NEW.updated_at IS NOT OLD.updated_at BEGIN "
        "INSERT INTO label_updates (label_id, project_id) VALUES (NEW.id, NEW.project_id); "
        "INSERT OR REPLACE INTO label_changes (label_id, seq) VALUES (NEW.id, last_insert_rowid()); "
        "END"
    )


def _label_update_trigger_postgresql() -> None:
    """PostgreSQL: the same record, by a PL/pgSQL function (``label_changes`` keeps each
    label's latest ``label_updates`` row)."""
    op.execute(
        "CREATE OR REPLACE FUNCTION label_updates_record() RETURNS trigger AS $$ "
        "DECLARE made INTEGER; BEGIN "
        "INSERT INTO label_updates (label_id, project_id) VALUES (NEW.id, NEW.project_id) "
        "RETURNING seq INTO made; "
        "INSERT INTO label_changes (label_id, seq) VALUES (NEW.id, made) "
        "ON CONFLICT (label_id) DO UPDATE SET seq = EXCLUDED.seq; "
        "RETURN NEW; END $$ LANGUAGE plpgsql"
    )
    op.execute("DROP TRIGGER IF EXISTS label_updates_record ON labels")
    op.execute(
        "CREATE TRIGGER label_updates_record AFTER UPDATE OF updated_at ON labels FOR EACH ROW "
        "WHEN (NEW.updated_at IS DISTINCT FROM OLD.updated_at) "
        "EXECUTE FUNCTION label_updates_record()"
    )


def _sqlite_functions_postgresql() -> None:
    """PostgreSQL: the SQLite functions the repositories' SQL uses, same names and results
    (``postgres.py``): JSON text read as ``json`` (``jsonb`` refuses ``\\u0000``), a path
    being ``$.key`` or ``$."key"``."""
    key = (
        "CASE WHEN path LIKE '$.\"%' THEN substr(path, 4, length(path) - 4) "
        "ELSE substr(path, 3) END"
    )

    def kind(v: str) -> str:  # SQLite's type names of a json value
        return (
            f"CASE json_typeof({v}) WHEN 'string' THEN 'text' WHEN 'number' THEN CASE WHEN "
            f"{v}::text ~ '^-?[0-9]+$' THEN 'integer' ELSE 'real' END WHEN 'boolean' THEN "
            f"{v}::text ELSE json_typeof({v}) END"
        )

    for sql in (
        "CREATE OR REPLACE FUNCTION instr(haystack text, needle text) RETURNS integer "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT strpos(haystack, needle) $$",
        "CREATE OR REPLACE FUNCTION json_type(doc text, path text) RETURNS text "
        f"LANGUAGE sql IMMUTABLE AS $$ SELECT {kind('v')} FROM (SELECT doc::json -> ({key}) AS v) s "
        "$$",
        "CREATE OR REPLACE FUNCTION json_extract(doc text, path text) RETURNS text "
        f"LANGUAGE sql IMMUTABLE AS $$ SELECT doc::json ->> ({key}) $$",
        "CREATE OR REPLACE FUNCTION json_each(doc text) RETURNS TABLE (key text, value text, "
        f"type text) LANGUAGE sql IMMUTABLE AS $$ SELECT e.key, e.v #>> '{{}}', "
        f"{kind('e.v')} "
        "FROM json_each(doc::json) AS e(key, v) $$",
        "CREATE OR REPLACE FUNCTION json_set(doc text, path text, value json) RETURNS text "
        f"LANGUAGE sql IMMUTABLE AS $$ SELECT jsonb_set(doc::jsonb, ARRAY[{key}], "
        "value::jsonb)::text $$",
        "CREATE OR REPLACE FUNCTION json(value text) RETURNS json LANGUAGE sql IMMUTABLE "
        "AS $$ SELECT value::json $$",
        "CREATE OR REPLACE FUNCTION json_group_array_end(items text[]) RETURNS text "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(array_to_json(items)::text, '[]') $$",
        "CREATE OR REPLACE AGGREGATE json_group_array(text) (SFUNC = array_append, "
        "STYPE = text[], FINALFUNC = json_group_array_end, INITCOND = '{}')",
    ):
        op.execute(sql)


# SQLite only, for the files of earlier aiokili versions (there is no older PostgreSQL
# database): the columns their tables gained over time, with the defaults they had.
_ADDED = {
    "users": {"organization_role": "TEXT DEFAULT 'ADMIN'", "activated": "INTEGER DEFAULT 1",
              "updated_at": "TEXT", "password_hash": "TEXT"},
    "projects": {"organization_id": "TEXT"},
    "assets": {"skipped": "INTEGER DEFAULT 0", "priority": "INTEGER DEFAULT 0",
               "consensus_mark": "REAL", "honeypot_mark": "REAL", "inference_mark": "REAL",
               "step_id": "TEXT", "step_status": "TEXT", "step_group_name": "TEXT"},
    "notifications": {"organization_id": "TEXT", "message": "TEXT"},
    "files": {"organization_id": "TEXT"},
    "project_steps": {"consensus_coverage": "INTEGER", "expected_labels": "INTEGER",
                      "step_coverage": "INTEGER", "send_back_step_id": "TEXT",
                      "use_honeypot": "INTEGER"},
}  # fmt: skip


def _columns(table: str) -> set[str]:
    return {r[1] for r in op.get_bind().exec_driver_sql(f"PRAGMA table_info({table})")}


def _complete_older_file() -> list[tuple[str, str, str, str, str]]:
    """Give the tables of an earlier file the columns they lack; drop its clear-text
    ``api_keys`` table (recreated with hashes) and return the keys it held."""
    bind = op.get_bind()
    for table, added in _ADDED.items():
        have = _columns(table)
        for name, kind in added.items():
            if have and name not in have:
                bind.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
                if (table, name) == ("project_steps", "step_coverage"):  # as before: review
                    bind.exec_driver_sql(  # steps of older files cover nothing
                        "UPDATE project_steps SET step_coverage = 0 WHERE type = 'REVIEW'"
                    )
    bind.exec_driver_sql("DROP INDEX IF EXISTS assets_external")  # now assets_external_id
    if "key" not in _columns("api_keys"):
        return []
    plain = bind.exec_driver_sql("SELECT key, id, name, user_id, created_at FROM api_keys")
    keys = [(str(k), i, n, u, at) for k, i, n, u, at in plain]
    bind.exec_driver_sql("DROP TABLE api_keys")
    return keys


def _adopt_older_rows(plain_keys: list[tuple[str, str, str, str, str]]) -> None:
    """The rows of an earlier file: keys stored as hashes, projects in their author's
    organization, a project without members administered by its author."""
    bind = op.get_bind()
    if plain_keys:
        bind.exec_driver_sql(
            "INSERT OR IGNORE INTO api_keys (key_hash, id, name, user_id, created_at) "
            "VALUES (?,?,?,?,?)",
            [(hashlib.sha256(k.encode()).hexdigest(), *rest) for k, *rest in plain_keys],
        )
    bind.exec_driver_sql(
        "UPDATE projects SET organization_id = (SELECT u.organization_id FROM users u "
        "WHERE u.id = projects.author_id) WHERE organization_id IS NULL"
    )
    bind.exec_driver_sql(
        "INSERT OR IGNORE INTO project_users (id, project_id, user_id, role, created_at) "
        "SELECT 'c' || lower(hex(randomblob(12))), p.id, p.author_id, 'ADMIN', p.created_at "
        "FROM projects p WHERE p.author_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM project_users x WHERE x.project_id = p.id)"
    )
