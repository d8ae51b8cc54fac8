"""The local server's storage: one repository per domain over one SQLite database.

Repositories are synchronous and run in worker threads (see ``db.py``); they return
plain dataclass rows, which the resolvers shape into GraphQL objects.
"""

from __future__ import annotations

from typing import Protocol

from . import (
    assets,
    issues,
    labels,
    members,
    plugins,
    projects,
    tags,
    users,
    versions,
)
from .copies import CopyRepository
from .db import Database
from .files import FileRepository
from .migrations import upgrade


class Store(Protocol):
    """What the resolvers and routes need from storage."""

    db: Database
    users: users.UserRepository
    projects: projects.ProjectRepository
    members: members.MemberRepository
    assets: assets.AssetRepository
    labels: labels.LabelRepository
    issues: issues.IssueRepository
    tags: tags.TagRepository
    versions: versions.VersionRepository
    copies: CopyRepository
    plugins: plugins.PluginRepository
    files: FileRepository

    def ensure_api_key(self, api_key: str | None) -> str: ...
    def close(self) -> None: ...


class SQLiteStore:
    """The SQLite :class:`Store`: a file path, or ``":memory:"`` (a temporary file), brought
    to the newest schema revision on opening (:mod:`.migrations`)."""

    def __init__(self, path: str = ":memory:") -> None:
        self.db = Database(path)
        try:
            upgrade(self.db.path)  # the schema's revisions (migrations/)
        except BaseException:
            self.db.close()
            raise
        self.users = users.UserRepository(self.db)
        self.projects = projects.ProjectRepository(self.db)
        self.members = members.MemberRepository(self.db)
        self.assets = assets.AssetRepository(self.db)
        self.labels = labels.LabelRepository(self.db)
        self.issues = issues.IssueRepository(self.db)
        self.tags = tags.TagRepository(self.db)
        self.files = FileRepository(self.db)
        self.plugins = plugins.PluginRepository(self.db)
        self.versions = versions.VersionRepository(self.db)
        self.copies = CopyRepository(self.db, self.files, self.projects)

    def ensure_api_key(self, api_key: str | None) -> str:
        """Create the first organization and admin if needed; return ``api_key`` (accepted
        from now on) or a new key of that admin (stored keys are hashes: not shown again)."""
        return self.users.ensure_api_key(api_key)

    def close(self) -> None:
        self.db.close()
