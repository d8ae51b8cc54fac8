"""Copies: a project (``copyProject``) and an asset's labels (``copyLabels``).

A project copy, made in one transaction, has the source's input type, json interface,
settings (instructions, quality settings, metadata properties, compliance tags,
anonymization...), workflow steps (new ids; same names, order, settings and assignees)
and tags; its title is the source's (the SDKs then set the title they chose), its
description is empty, it is not archived, and its author is the caller. With assets, each asset is copied with its content,
json content, metadata, external id, honeypot flag and properties (resolution, page
resolutions, consensus use), as a new import: To do in the first step, no labels, no
assignees, default priority. An uploaded file gets a copy of its own (a hard link when the
file system allows), so deleting one project's asset leaves the other's media in place.

Labels are copied asset by asset (``copyLabels``, as the SDK does for workflow V2 / V3
projects): each label of the source asset, with its author, type, answer, model name, time
and dates; the destination asset is then rebuilt to the source's state (status, step at
the same position, step status, skipped) and its marks recomputed.
"""

from __future__ import annotations

import os
import secrets
import shutil
from urllib.parse import parse_qs, quote, urlsplit

from ..errors import ServerError
from . import marks as label_marks
from . import members, steps
from .conn import Conn
from .db import Database, new_id, now, require_project
from .files import FileRepository
from .projects import ProjectRepository

NOT_COPIED_INPUT_TYPES = ("LLM_INSTR_FOLLOWING", "LLM_RLHF", "LLM_STATIC")
"""Input types the platform does not copy (the official SDK refuses them too)."""

_LABEL_COLUMNS = (
    "author_id, label_type, json_response, model_name, seconds_to_label, created_at, updated_at"
)


class CopyRepository:
    def __init__(self, db: Database, files: FileRepository, projects: ProjectRepository) -> None:
        self.db = db
        self.files = files
        self.projects = projects

    def copy_project(
        self, source_id: str, author_id: str, *, with_assets: bool, with_members: bool
    ) -> str:
        """Copy the project (see the module docstring); return the new project's id."""
        project_id, at = new_id(), now()
        with self.db.write(append_only=True) as c:
            require_project(c, source_id)
            source = c.execute(
                "SELECT title, input_type, json_interface, props FROM projects WHERE id = ?",
                (source_id,),
            ).fetchone()
            if source[1] in NOT_COPIED_INPUT_TYPES:
                raise ServerError(
                    f"Copying projects with input type {source[1]} is not supported: "
                    "create a new project instead."
                )
            c.execute(
                "INSERT INTO projects (id, title, description, input_type, json_interface, "
                "author_id, archived, props, created_at, updated_at, organization_id) "
                "VALUES (?,?,'',?,?,?,0,?,?,?,"
                "(SELECT organization_id FROM projects WHERE id = ?))",
                (
                    project_id,
                    source[0],
                    source[1],
                    source[2],
                    author_id,
                    source[3],
                    at,
                    at,
                    source_id,
                ),
            )
            members.add_creator(c, project_id, author_id)
            c.execute(
                "INSERT INTO project_tags SELECT ?, tag_id FROM project_tags WHERE project_id = ?",
                (project_id, source_id),
            )
            if with_members:
                _copy_members(c, source_id, project_id)
            steps.copy_steps(c, source_id, project_id)
            if with_assets:
                self._copy_assets(c, source_id, project_id, at)
        if source_id in self.projects.anonymized:
            self.projects.anonymized.add(project_id)
        return project_id

    def _copy_assets(self, c: Conn, source_id: str, project_id: str, at: str) -> None:
        """Copy the source's assets as new imports, with their properties."""
        step_id, _, step_status = steps.initial(c, project_id)
        pairs: list[tuple[str, str]] = []
        rows = c.execute(
            "SELECT id, external_id, content, json_content, json_metadata, is_honeypot "
            "FROM assets WHERE project_id = ? ORDER BY seq",
            (source_id,),
        ).fetchall()
        for old, external_id, content, json_content, json_metadata, is_honeypot in rows:
            new = new_id()
            c.execute(
                "INSERT INTO assets (id, project_id, external_id, content, json_content, "
                "json_metadata, status, is_honeypot, created_at, updated_at, step_id, "
                "step_status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    new,
                    project_id,
                    external_id,
                    self._copy_upload(c, content),
                    self._copy_upload(c, json_content),
                    json_metadata,
                    steps.TRANSITIONS["import"][0],
                    is_honeypot,
                    at,
                    at,
                    step_id,
                    step_status,
                ),
            )
            pairs.append((new, old))
        c.executemany(
            "INSERT INTO asset_properties SELECT ?, is_used_for_consensus, resolution, "
            "page_resolutions FROM asset_properties WHERE asset_id = ?",
            pairs,
        )

    def _copy_upload(self, c: Conn, stored: str | None) -> str | None:
        """``stored`` if it is not one of our uploads, else the URL of a copy of that file."""
        key = _upload_key(stored)
        if stored is None or key is None:
            return stored
        row = c.execute(
            "SELECT content_type, size, organization_id FROM files WHERE key = ?", (key,)
        ).fetchone()
        if row is None:  # announced but never uploaded: nothing to copy
            return stored
        rest = key.split("/", 2)[2] if key.count("/") >= 2 else key.removeprefix("uploads/")
        copy = f"uploads/{secrets.token_hex(8)}/{rest}"
        source, target = self.files.blob(key), self.files.blob(copy)
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
            except OSError:  # no hard links here (another device, a file system without)
                shutil.copyfile(source, target)
        c.execute("INSERT INTO files VALUES (?,?,?,?,?)", (copy, row[0], row[1], now(), row[2]))
        parts = urlsplit(stored)
        q = quote(copy, safe="")
        return f"{parts.scheme}://{parts.netloc}{parts.path}?path={q}&id={q}"

    def copy_labels(self, src_asset_id: str, dst_asset_id: str, project_id: str) -> bool:
        """Copy the labels of one asset onto another of ``project_id`` (see the module
        docstring); ``True``."""
        with self.db.write() as c:
            require_project(c, project_id)
            src = c.execute(
                "SELECT project_id, status, step_id, step_status, skipped FROM assets WHERE id = ?",
                (src_asset_id,),
            ).fetchone()
            if src is None:
                raise ServerError.not_found("Asset", src_asset_id)
            require_project(c, src[0])
            dst = c.execute("SELECT project_id FROM assets WHERE id = ?", (dst_asset_id,))
            if (dst.fetchone() or [None])[0] != project_id:
                raise ServerError(
                    f'data.dstAssetId: no asset "{dst_asset_id}" in project "{project_id}". '
                    "Give the id of an asset of the project the labels are copied to.",
                    "NOT_FOUND",
                )
            labels = [
                r[0]
                for r in c.execute(
                    "SELECT id FROM labels WHERE asset_id = ? ORDER BY seq", (src_asset_id,)
                )
            ]
            if not labels:
                return True
            for label_id in labels:
                copy = new_id()
                c.execute(
                    f"INSERT INTO labels (id, project_id, asset_id, {_LABEL_COLUMNS}) "
                    f"SELECT ?, ?, ?, {_LABEL_COLUMNS} FROM labels WHERE id = ?",
                    (copy, project_id, dst_asset_id, label_id),
                )
                c.execute(
                    "INSERT INTO label_categories SELECT ?, job, category, count "
                    "FROM label_categories WHERE label_id = ?",
                    (copy, label_id),
                )
            c.execute(
                "UPDATE assets SET status = ?, step_status = ?, skipped = ?, updated_at = ?, "
                "step_id = (SELECT d.id FROM project_steps d WHERE d.project_id = ? AND "
                "d.position = (SELECT s.position FROM project_steps s WHERE s.id = ?)) "
                "WHERE id = ?",
                (src[1], src[3], src[4], now(), project_id, src[2], dst_asset_id),
            )
            label_marks.refresh(c, [dst_asset_id])
        return True


def _copy_members(c: Conn, source_id: str, project_id: str) -> None:
    """``shouldCopyUsers``: the source's members join the copy with their roles (the
    caller, already the copy's ADMIN, keeps that role)."""
    rows = c.execute(
        "SELECT user_id, role FROM project_users WHERE project_id = ?", (source_id,)
    ).fetchall()
    at = now()
    c.executemany(
        "INSERT INTO project_users (id, project_id, user_id, role, created_at) "
        "VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
        [(new_id(), project_id, user_id, role, at) for user_id, role in rows],
    )


def _upload_key(stored: str | None) -> str | None:
    """The object key of content stored as one of our upload URLs."""
    if not stored or "/files?" not in stored:
        return None
    key = (parse_qs(urlsplit(stored).query).get("path") or [""])[0]
    return key if key.startswith("uploads/") else None
