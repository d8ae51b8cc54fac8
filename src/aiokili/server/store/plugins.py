"""The plugin tables: plugins and webhooks (version, deploy status, handlers), their
activations on projects (with the event cursors a run resumes from), build and run logs.

Building and running plugins is :mod:`aiokili.server.plugin_runtime`'s work, which reads
and updates these rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ServerError
from .columns import Columns, insert_sql
from .conn import Conn
from .db import Database, new_id, now, require_project

# statuses as the official SDK's wait loop reads them: it stops on ACTIVE or FAILED
UPLOADING, DEPLOYING, ACTIVE, FAILED = "UPLOADING", "DEPLOYING", "ACTIVE", "FAILED"
WEBHOOK_DEFAULT_HANDLERS = ["onSubmit", "onReview"]


@dataclass(frozen=True)
class PluginRow:
    id: str
    name: str
    organization_id: str
    status: str
    handler_types: list[str]
    event_matcher: list[str]
    archive_key: str | None
    version: int
    webhook_url: str | None
    webhook_header: str | None
    created_at: str
    updated_at: str
    project_ids: list[str]


def _list(text: str | None) -> list[str]:
    return list(json.loads(text or "[]"))


COLUMNS = Columns(
    PluginRow,
    {
        "id": "p.id",
        "name": "p.name",
        "organization_id": "p.organization_id",
        "status": "p.status",
        "handler_types": "p.handler_types",
        "event_matcher": "p.event_matcher",
        "archive_key": "p.archive_key",
        "version": "p.version",
        "webhook_url": "p.webhook_url",
        "webhook_header": "p.webhook_header",
        "created_at": "p.created_at",
        "updated_at": "p.updated_at",
        "project_ids": "(SELECT json_group_array(pp.project_id) FROM plugin_projects pp "
        "WHERE pp.plugin_id = p.id)",
    },
    convert={
        "handler_types": _list,
        "event_matcher": _list,
        "project_ids": lambda text: sorted(_list(text)),
    },
)


@dataclass(frozen=True)
class Activation:
    """A plugin active on a project, since the label and outbox event sequence numbers."""

    plugin: PluginRow
    label_seq: int
    event_seq: int


@dataclass(frozen=True)
class LogEntry:
    """One build error or run log line (``kind`` is ``build`` or ``run``)."""

    plugin_name: str
    kind: str
    log_type: str
    content: str
    project_id: str | None = None
    run_id: str | None = None
    asset_id: str | None = None
    label_id: str | None = None
    created_at: str = ""


class PluginRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _rows(self, where: str, args: Sequence[Any]) -> list[PluginRow]:
        sql = f"SELECT {COLUMNS.sql} FROM plugins p WHERE {where} ORDER BY p.seq"
        with self.db.read() as c:
            return [COLUMNS.row(r) for r in c.execute(sql, list(args))]

    def get(self, name: str, organization_id: str | None = None) -> PluginRow:
        found = self._rows("name = ?", [name])
        if not found or (
            organization_id is not None and found[0].organization_id != organization_id
        ):
            raise ServerError.not_found("Plugin", name)
        return found[0]

    def of_organization(self, organization_id: str) -> list[PluginRow]:
        return self._rows("organization_id = ?", [organization_id])

    def with_status(self, status: str) -> list[PluginRow]:
        return self._rows("status = ?", [status])

    def active_on(self, project_ids: Sequence[str]) -> dict[str, list[Activation]]:
        """The ACTIVE plugins and webhooks of each project, with when they were activated."""
        out: dict[str, list[Activation]] = {p: [] for p in project_ids}
        plugins = {row.id: row for row in self._rows("status = 'ACTIVE'", [])}
        with self.db.read() as c:
            for plugin_id, project_id, label_seq, event_seq in c.execute(
                "SELECT plugin_id, project_id, label_seq, event_seq FROM plugin_projects"
            ):
                if project_id in out and plugin_id in plugins:
                    out[project_id].append(
                        Activation(plugins[plugin_id], label_seq or 0, event_seq or 0)
                    )
        return out

    def create(
        self,
        name: str,
        organization_id: str,
        archive_key: str | None = None,
        webhook: tuple[str, str | None, list[str], list[str]] | None = None,
    ) -> PluginRow:
        """A new plugin waiting for its archive, or (``webhook``) an ACTIVE webhook."""
        with self.db.write(append_only=True) as c:
            if c.execute("SELECT 1 FROM plugins WHERE name = ?", (name,)).fetchone():
                raise ServerError(
                    f"an entity Plugin already exists with value `{name}` for the field name: "
                    "use update_plugin (or update_webhook) to change it."
                )
            url, header, handlers, matcher = webhook or (None, None, [], [])
            stamp = now()
            row = {
                "id": new_id(),
                "name": name,
                "organization_id": organization_id,
                "status": ACTIVE if webhook else UPLOADING,
                "handler_types": json.dumps(handlers),
                "event_matcher": json.dumps(matcher),
                "archive_key": archive_key,
                "version": 0,
                "webhook_url": url,
                "webhook_header": header,
                "created_at": stamp,
                "updated_at": stamp,
            }
            c.execute(insert_sql("plugins", list(row)), row)
        return self.get(name)

    def set_archive_key(self, name: str, organization_id: str, key: str) -> PluginRow:
        plugin = self.get(name, organization_id)
        if plugin.webhook_url is not None:
            raise ServerError(f"{name!r} is a webhook: use updateWebhook to change it.")
        with self.db.write() as c:
            c.execute("UPDATE plugins SET archive_key = ? WHERE id = ?", (key, plugin.id))
        return self.get(name)

    def start_deploy(
        self, name: str, organization_id: str, handlers: list[str], matcher: list[str]
    ) -> PluginRow:
        """Mark the uploaded archive for the build service (status DEPLOYING)."""
        plugin = self.get(name, organization_id)
        if plugin.webhook_url is not None:
            raise ServerError(f"{name!r} is a webhook: use updateWebhook to change it.")
        with self.db.write() as c:
            key = plugin.archive_key
            if not key or c.execute("SELECT 1 FROM files WHERE key = ?", (key,)).fetchone() is None:
                raise ServerError(
                    f"No archive was uploaded for plugin {name!r}: PUT the zip to the URL of "
                    "createPlugin / generateUpdateUrl before creating or updating the runner."
                )
            c.execute(
                "UPDATE plugins SET status = ?, handler_types = ?, event_matcher = ?, "
                "version = version + 1, updated_at = ? WHERE id = ?",
                (DEPLOYING, json.dumps(handlers), json.dumps(matcher), now(), plugin.id),
            )
            c.execute("DELETE FROM plugin_logs WHERE plugin_name = ? AND kind = 'build'", (name,))
        return self.get(name)

    def finish_deploy(self, plugin_id: str, version: int, status: str) -> None:
        """Record a build's outcome unless a newer upload started meanwhile."""
        with self.db.write() as c:
            c.execute(
                "UPDATE plugins SET status = ?, updated_at = ? WHERE id = ? AND version = ?",
                (status, now(), plugin_id, version),
            )

    def update_webhook(
        self,
        name: str,
        organization_id: str,
        url: str,
        header: str | None,
        handlers: list[str] | None,
        matcher: list[str] | None,
    ) -> PluginRow:
        plugin = self.get(name, organization_id)
        if plugin.webhook_url is None:
            raise ServerError(f"{name!r} is a plugin, not a webhook: use update_plugin.")
        with self.db.write() as c:
            c.execute(
                "UPDATE plugins SET webhook_url = ?, webhook_header = COALESCE(?, "
                "webhook_header), handler_types = COALESCE(?, handler_types), event_matcher"
                " = COALESCE(?, event_matcher), updated_at = ? WHERE id = ?",
                (
                    url,
                    header,
                    None if handlers is None else json.dumps(handlers),
                    None if matcher is None else json.dumps(matcher),
                    now(),
                    plugin.id,
                ),
            )
        return self.get(name)

    def activate(self, name: str, project_id: str, organization_id: str, *, on: bool) -> PluginRow:
        plugin = self.get(name, organization_id)
        with self.db.write() as c:
            require_project(c, project_id)
            if on:
                # events from now on only: what happened before is not this plugin's
                c.execute(
                    "INSERT INTO plugin_projects VALUES (?, ?, (SELECT "
                    "COALESCE(MAX(seq), 0) FROM labels), (SELECT COALESCE(MAX(seq), 0) "
                    "FROM events)) ON CONFLICT DO NOTHING",
                    (plugin.id, project_id),
                )
            else:
                c.execute(
                    "DELETE FROM plugin_projects WHERE plugin_id = ? AND project_id = ?",
                    (plugin.id, project_id),
                )
        return self.get(name)

    def delete(self, name: str, organization_id: str) -> PluginRow:
        """Remove the plugin and its logs, deactivating it on every project."""
        plugin = self.get(name, organization_id)
        with self.db.write() as c:
            c.execute("DELETE FROM plugin_projects WHERE plugin_id = ?", (plugin.id,))
            c.execute("DELETE FROM plugins WHERE id = ?", (plugin.id,))
            c.execute("DELETE FROM plugin_logs WHERE plugin_name = ?", (name,))
        return plugin

    def add_logs(
        self, entries: Sequence[LogEntry], also: Callable[[Conn], None] | None = None
    ) -> None:
        """Store log entries; ``also(c)`` writes in the same transaction."""
        with self.db.write(append_only=True) as c:
            if also is not None:
                also(c)
            c.executemany(
                "INSERT INTO plugin_logs (plugin_name, kind, project_id, run_id, asset_id, "
                "label_id, log_type, content, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (
                        e.plugin_name,
                        e.kind,
                        e.project_id,
                        e.run_id,
                        e.asset_id,
                        e.label_id,
                        e.log_type,
                        e.content,
                        e.created_at or now(),
                    )
                    for e in entries
                ],
            )

    def logs(
        self, name: str, kind: str, project_id: str | None, since: str | None, limit: int, skip: int
    ) -> list[LogEntry]:
        sql = (
            "SELECT plugin_name, kind, log_type, content, project_id, run_id, asset_id, "
            "label_id, created_at FROM plugin_logs WHERE plugin_name = ? AND kind = ?"
        )
        args: list[Any] = [name, kind]
        if project_id is not None:
            sql += " AND project_id = ?"
            args.append(project_id)
        if since:
            sql += " AND created_at >= ?"
            args.append(since)
        sql += " ORDER BY seq LIMIT ? OFFSET ?"
        with self.db.read() as c:
            return [LogEntry(*r) for r in c.execute(sql, [*args, limit, skip])]
