"""File names made from external ids: an export's archive members (``labels/<name>.json``,
media files...) and the media files ``assets(download_media=True)`` writes.

An external id is any text; a member name must be safe to extract anywhere. A name is the
external id itself when it is made of letters, digits, ``.``, ``_`` and ``-`` only, does
not start with a dot, is at most ``MAX_NAME`` characters long and no other external id of
the export took it (compared case-insensitively, as on macOS and Windows file systems).
Otherwise it is the id with every other character replaced by ``_``, cut to ``MAX_NAME``
characters, plus ``-`` and 10 hex digits of the id's SHA-256: ``a b`` becomes
``a_b-<digits>`` and never collides with ``a_b``. No name holds ``/``, ``\\``, ``..`` as a
path part, or starts with ``/``.

An export's archive keeps the names that are not the external id itself (its image extension
aside, in YOLO) in ``external_ids.json`` (``{"a_b-<digits>": "a b"}``), written only when
there is one.
"""

from __future__ import annotations

import hashlib
import re
import threading

MAX_NAME = 100
MAPPING = "external_ids.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class MemberNames:
    """The member name of each external id of one export (the same for the same id)."""

    def __init__(self) -> None:
        self._names: dict[tuple[str, str], str] = {}
        self._taken: set[str] = set()
        self._lock = threading.Lock()  # writers run in worker threads
        self.renamed: dict[str, str] = {}  # name -> external id, where they differ

    def name(self, external_id: str, base: str | None = None) -> str:
        """The name for ``external_id``; ``base`` (default the id itself) is what the name
        is made from (e.g. the id without its image extension)."""
        base = external_id if base is None else base
        with self._lock:
            found = self._names.get((external_id, base))
            if found is None:
                found = self._names[(external_id, base)] = self._new(external_id, base)
            return found

    def _new(self, external_id: str, base: str) -> str:
        name = base
        if not _safe(name) or name.casefold() in self._taken:
            digest = hashlib.sha256(external_id.encode("utf-8", "surrogatepass")).hexdigest()
            stem = _UNSAFE.sub("_", base)[:MAX_NAME]
            stem = "_" * (len(stem) - len(stem.lstrip("."))) + stem.lstrip(".") or "asset"
            name = f"{stem}-{digest[:10]}"
            number = 1
            while name.casefold() in self._taken:  # the same id under another base...
                number += 1
                name = f"{stem}-{digest[:10]}-{number}"
        self._taken.add(name.casefold())
        if name != base:
            self.renamed[name] = external_id
        return name


def _safe(name: str) -> bool:
    return 0 < len(name) <= MAX_NAME and not name.startswith(".") and not _UNSAFE.search(name)
