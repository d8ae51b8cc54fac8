"""Storage of uploaded files: their records (the ``files`` table) and their blobs on disk.

A blob lives at ``<files_dir>/a/abcd...``: one of 16 folders, by the first hex digit of its
key's SHA-256 (a million files make 62,500 entries per folder, which ext4 and XFS index).
Few folders on purpose: on ext4 each new folder lands in a block group of its own, and
writing among many of them cost 1.3 ms of kernel time per upload with the former two
levels of 256 folders (65,536 in all), against 0.05 ms here. Blobs of former layouts
(flat: ``<files_dir>/abcd...``; two levels: ``<files_dir>/ab/cd/abcd...``) are moved into
place on start, once. Uploads are written under a temporary name in ``files_dir`` and
renamed into place: a reader never sees half a file.
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

from .columns import upsert_sql
from .db import Database, now

_UPSERT = upsert_sql(
    "files", ("key", "content_type", "size", "created_at", "organization_id"), ("key",)
)

_DIGEST = re.compile("[0-9a-f]{64}")
_TWO_LEVELS = re.compile("[0-9a-f]{2}")  # the first level of the former layout


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
        self._place_older_blobs()

    def _place_older_blobs(self) -> None:
        """Move the blobs former versions left flat in ``files_dir`` or two levels deep to
        their folder (see the module's doc), and remove the emptied folders."""
        for path in list(self.db.files_dir.iterdir()):
            if _DIGEST.fullmatch(path.name) and path.is_file():
                self._move_in(path)
            elif _TWO_LEVELS.fullmatch(path.name) and path.is_dir():
                for second in list(path.iterdir()):
                    for blob in list(second.iterdir()) if second.is_dir() else ():
                        if _DIGEST.fullmatch(blob.name) and blob.is_file():
                            self._move_in(blob)
                    if second.is_dir() and not any(second.iterdir()):
                        second.rmdir()
                if not any(path.iterdir()):
                    path.rmdir()

    def _move_in(self, blob: Path) -> None:
        target = self._path(blob.name)
        self._folder(target.parent)
        os.replace(blob, target)

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
        return self.db.files_dir / digest[0] / digest

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
                _UPSERT,
                (key, content_type, size, now(), organization_id),
            )

    def commit_bytes(
        self, uploads: Sequence[tuple[str, str, bytes, str | None]]
    ) -> list[OSError | None]:
        """Store small uploads received whole (``(key, content_type, data, organization)``)
        and record them in one transaction; for each, ``None`` or the error that failed it.
        Each is written under a temporary name, then moved in place."""
        errors: list[OSError | None] = []
        rows = []
        for key, content_type, data, organization_id in uploads:
            blob, temp = self.blob(key), self.temp()
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
            c.executemany(_UPSERT, rows)
        return errors

    def _folder(self, folder: Path) -> None:
        """Make a blob's folder unless this process made or saw it already."""
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
            c.executemany(_UPSERT, rows)

    def get(self, key: str) -> FileRow | None:
        with self.db.read() as c:
            row = c.execute(
                "SELECT key, content_type, size, created_at, organization_id FROM files "
                "WHERE key = ?",
                (key,),
            ).fetchone()
        return None if row is None else FileRow(*row)
