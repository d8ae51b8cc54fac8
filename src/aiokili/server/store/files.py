"""Storage of uploaded files: their records (the ``files`` table) and their blobs on disk.

A blob lives at ``<files_dir>/ab/cd/abcd...`` (two levels of its SHA-256 prefix, so no
folder holds more than a few hundred entries however many files are uploaded). Blobs of
the former flat layout (``<files_dir>/abcd...``) are moved into place on start.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .db import Database, now

_DIGEST = re.compile("[0-9a-f]{64}")


@dataclass(frozen=True)
class FileRow:
    key: str
    content_type: str
    size: int
    created_at: str
    organization_id: str | None  # whose upload (None: made before owners were kept)


class FileRepository:
    """The ``files`` table and the blobs in ``Database.files_dir``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._folders: set[Path] = set()  # blob folders known to exist
        self._shard_flat_blobs()

    def _shard_flat_blobs(self) -> None:
        """Move the blobs a former version left flat in ``files_dir`` to their shard."""
        for path in self.db.files_dir.iterdir():
            if _DIGEST.fullmatch(path.name) and path.is_file():
                target = self._path(path.name)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)

    def secret(self) -> bytes:
        """The URL-signing secret, created on first use."""
        with self.db.write(append_only=True) as c:
            row = c.execute("SELECT value FROM settings WHERE name = 'signing_secret'").fetchone()
            if row is None:
                row = (secrets.token_hex(32),)
                c.execute("INSERT INTO settings VALUES ('signing_secret', ?)", row)
        return bytes.fromhex(row[0])

    def blob(self, key: str) -> Path:
        """Where the content of ``key`` is (or goes)."""
        return self._path(hashlib.sha256(key.encode()).hexdigest())

    def _path(self, digest: str) -> Path:
        return self.db.files_dir / digest[:2] / digest[2:4] / digest

    def temp(self) -> Path:
        return self.db.files_dir / f".{uuid.uuid4().hex}.part"

    def commit(
        self, key: str, content_type: str, size: int, temp: Path, organization_id: str | None
    ) -> None:
        """Move a fully received upload of ``organization_id`` in place and record it."""
        blob = self.blob(key)
        self._folder(blob.parent)
        os.replace(temp, blob)
        with self.db.write(append_only=True) as c:
            c.execute(
                "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?)",
                (key, content_type, size, now(), organization_id),
            )

    def commit_bytes(
        self, uploads: Sequence[tuple[str, str, bytes, str | None]]
    ) -> list[OSError | None]:
        """Store small uploads received whole (``(key, content_type, data, organization)``)
        and record them in one transaction; for each, ``None`` or the error that failed it.
        Each is written beside its blob, then moved in place (never half a file seen)."""
        errors: list[OSError | None] = []
        rows = []
        for key, content_type, data, organization_id in uploads:
            blob = self.blob(key)
            temp = blob.parent / f".{uuid.uuid4().hex}.part"
            try:
                self._folder(blob.parent)
                temp.write_bytes(data)
                os.replace(temp, blob)
            except OSError as exc:  # e.g. a full disk: that upload fails, not the others
                temp.unlink(missing_ok=True)
                errors.append(exc)
                continue
            errors.append(None)
            rows.append((key, content_type, len(data), now(), organization_id))
        with self.db.write(append_only=True) as c:
            c.executemany("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?)", rows)
        return errors

    def _folder(self, folder: Path) -> None:
        """Make a blob's folder unless this process made or saw it already (a
        ``mkdir`` per upload is a tenth of the server's work on a small one)."""
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)

    def commit_many(
        self, files: Sequence[tuple[str, str, Path]], organization_id: str | None
    ) -> None:
        """Move finished files (``(key, content_type, path)``) in place; record them in one
        transaction, as ``organization_id``'s."""
        rows = []
        for key, content_type, path in files:
            size = path.stat().st_size
            blob = self.blob(key)
            self._folder(blob.parent)
            os.replace(path, blob)
            rows.append((key, content_type, size, now(), organization_id))
        with self.db.write(append_only=True) as c:
            c.executemany("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?)", rows)

    def get(self, key: str) -> FileRow | None:
        with self.db.read() as c:
            row = c.execute(
                "SELECT key, content_type, size, created_at, organization_id FROM files "
                "WHERE key = ?",
                (key,),
            ).fetchone()
        return None if row is None else FileRow(*row)
