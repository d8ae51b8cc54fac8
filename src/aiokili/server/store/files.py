"""Uploaded files' records (the ``files`` table) and their blobs under ``Database.files_dir``."""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

from .db import Database, now

FILES_DDL = """
CREATE TABLE IF NOT EXISTS files (
  key TEXT PRIMARY KEY, content_type TEXT, size INTEGER, created_at TEXT);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT);
"""


@dataclass(frozen=True)
class FileRow:
    key: str
    content_type: str
    size: int
    created_at: str


class FileRepository:
    """The ``files`` table and the blobs in ``Database.files_dir``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def secret(self) -> bytes:
        """The URL-signing secret, created on first use."""
        with self.db.write(append_only=True) as c:
            row = c.execute("SELECT value FROM settings WHERE name = 'signing_secret'").fetchone()
            if row is None:
                row = (secrets.token_hex(32),)
                c.execute("INSERT INTO settings VALUES ('signing_secret', ?)", row)
        return bytes.fromhex(row[0])

    def blob(self, key: str) -> Path:
        return self.db.files_dir / hashlib.sha256(key.encode()).hexdigest()

    def temp(self) -> Path:
        return self.db.files_dir / f".{uuid.uuid4().hex}.part"

    def commit(self, key: str, content_type: str, size: int, temp: Path) -> None:
        """Move a fully received upload in place and record it."""
        os.replace(temp, self.blob(key))
        with self.db.write(append_only=True) as c:
            c.execute(
                "INSERT OR REPLACE INTO files VALUES (?,?,?,?)", (key, content_type, size, now())
            )

    def get(self, key: str) -> FileRow | None:
        with self.db.read() as c:
            row = c.execute("SELECT * FROM files WHERE key = ?", (key,)).fetchone()
        return None if row is None else FileRow(*row)
