"""``python -m aiokili.server.store.migrations``: regenerate ``head.sql`` from the revisions."""

from __future__ import annotations

import tempfile
from pathlib import Path

from . import SNAPSHOT, _run_revisions, schema_statements, snapshot_text

with tempfile.TemporaryDirectory() as folder:
    path = str(Path(folder) / "head.sqlite3")
    _run_revisions(path, None)
    SNAPSHOT.write_text(snapshot_text(schema_statements(path)))
print(f"wrote {SNAPSHOT}")
