"""The local server's storage: one repository per domain over one database (SQLite, or
PostgreSQL for a team).

Repositories are synchronous and run in worker threads (see ``db.py``); they return
plain dataclass rows, which the resolvers shape into GraphQL objects.
"""

from __future__ import annotations

from pathlib import Path
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
    workflow_state,
)
from .copies import CopyRepository
from .db import Database, SQLiteDatabase, sqlite_path
from .files import FileRepository
from .migrations import upgrade, upgrade_postgresql


class Store(Protocol):
    """What the resolvers and routes need from storage."""

    db: Database
    shared: bool
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
    workflow: workflow_state.WorkflowStateRepository

    def refresh(self) -> bool: ...
    def ensure_api_key(self, api_key: str | None) -> str: ...
    def close(self) -> None: ...


class DatabaseStore:
    """The :class:`Store` over an open :class:`Database`, brought to the newest schema
    revision first (:mod:`.migrations`); closing the store closes the database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        try:
            if db.path is not None:
                upgrade(db.path)  # the schema's revisions (migrations/)
            else:
                upgrade_postgresql(db.url)
        except BaseException:
            db.close()
            raise
        self.users = users.UserRepository(db)
        self.projects = projects.ProjectRepository(db)
        self.members = members.MemberRepository(db)
        self.assets = assets.AssetRepository(db)
        self.labels = labels.LabelRepository(db)
        self.issues = issues.IssueRepository(db)
        self.tags = tags.TagRepository(db)
        self.files = FileRepository(db)
        self.plugins = plugins.PluginRepository(db)
        self.versions = versions.VersionRepository(db)
        self.workflow = workflow_state.WorkflowStateRepository(db)
        self.copies = CopyRepository(db, self.files, self.projects)

    shared = False
    """Other processes write this database too (several workers): :meth:`refresh` then
    checks it at each request."""

    def refresh(self) -> bool:
        """Drop what this process keeps in memory of the database (users, anonymized
        projects, steps, page boundaries) if it changed since the last call, whichever
        process wrote; True if it did. Costs one small read on PostgreSQL."""
        if not self.db.changed():
            return False
        self.users.forget_all()
        self.projects.reload()
        self.db.generation += 1  # page boundaries (paging.py)
        return True

    def ensure_api_key(self, api_key: str | None) -> str:
        """Create the first organization and admin if needed; return ``api_key`` (accepted
        from now on) or a new key of that admin (stored keys are hashes: not shown again)."""
        return self.users.ensure_api_key(api_key)

    def close(self) -> None:
        self.db.close()


class SQLiteStore(DatabaseStore):
    """The SQLite :class:`Store`: a file path, or ``":memory:"`` (a temporary file)."""

    def __init__(self, path: str = ":memory:") -> None:
        super().__init__(SQLiteDatabase(path))


def open_store(db: str = ":memory:", files_dir: str | Path | None = None) -> DatabaseStore:
    """The store ``db`` names: a SQLite file, ``":memory:"``, ``sqlite:///PATH``, or a
    ``postgresql://USER[:PASSWORD]@HOST:PORT/NAME`` database (``pip install
    'aiokili[postgres]'``). Uploads go to ``files_dir``: by default beside a SQLite file
    (``PATH.files``), and for PostgreSQL ``./NAME.files`` (give every process serving one
    database the same folder)."""
    if sqlite_path(db) is not None:
        store = SQLiteStore(db)
        if files_dir is not None:
            store.db.files_dir = Path(files_dir)
            store.db.files_dir.mkdir(parents=True, exist_ok=True)
        return store
    from .postgres import PostgresDatabase, database_name

    folder = Path(files_dir) if files_dir is not None else Path(f"{database_name(db)}.files")
    return DatabaseStore(PostgresDatabase(db, folder))
