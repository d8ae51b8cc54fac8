"""The export archive: a zip written member by member as the pages arrive (memory stays flat).

Members that can only be completed at the end (a COCO ``labels.json``, a single-file
``data.json``) are spooled to temporary files on disk and copied in by :meth:`Archive.close`.

The zip's member index (``zipfile`` keeps ~0.5 KiB per member until ``close``, 46 MiB for
the 100,000 members of a large export) is spooled too, by :class:`_FlatZip`. ``zipfile``
offers no public way to do that, so it relies on three things every CPython from 3.10 to
3.13 does, and ``tests/client/exports/test_archive.py`` checks on each of them: a member
is complete once it is in ``ZipFile.filelist`` (and ``NameToInfo``), which may then be
emptied; ``close()`` writes the central directory by iterating ``filelist`` and taking its
``len()``; ``close()`` does nothing once ``fp`` is None.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


class Spool:
    """A member built piece by piece in a temporary file, added to the archive at the end."""

    def __init__(self, directory: str, name: str) -> None:
        self.name = name
        self._file: IO[bytes] = tempfile.NamedTemporaryFile(
            dir=directory, delete=False, suffix=".part"
        )

    def write(self, data: str | bytes) -> None:
        self._file.write(data.encode("utf-8") if isinstance(data, str) else data)

    def append_file(self, path: str) -> None:
        """Copy the content of the file at ``path`` (in blocks)."""
        with open(path, "rb") as source:
            shutil.copyfileobj(source, self._file, 1 << 20)

    def close(self) -> str:
        self._file.close()
        return self._file.name


class _SpooledInfos:
    """The archive's member infos, read back from the spool file at the end: a stand-in for
    ``ZipFile.filelist`` that ``ZipFile`` iterates once and measures once when it writes
    the central directory."""

    def __init__(self, path: str, count: int) -> None:
        self._path, self._count = path, count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[zipfile.ZipInfo]:
        with open(self._path, "rb") as source:
            for _ in range(self._count):
                yield pickle.load(source)


class _FlatZip(zipfile.ZipFile):
    """A zip whose member infos (the central directory's content, ~0.5 KiB per member in
    ``zipfile``) go to a temporary file as each member is complete, so memory stays flat
    whatever the number of members; ``close`` writes the central directory from it."""

    def __init__(self, path: Path, spool: str) -> None:
        super().__init__(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self._infos_path = spool
        self._infos: IO[bytes] = open(spool, "wb")
        self._count = 0

    def spill(self) -> None:
        """Move the completed members' infos to the spool."""
        for info in self.filelist:
            pickle.dump(info, self._infos, protocol=pickle.HIGHEST_PROTOCOL)
            self._count += 1
        self.filelist.clear()
        self.NameToInfo.clear()

    def abandon(self) -> None:
        """Close the file without writing a central directory (the zip is thrown away)."""
        self._infos.close()
        fp, self.fp = self.fp, None
        if fp is not None:
            fp.close()

    def close(self) -> None:
        if self.fp is None:
            return
        self.spill()
        self._infos.close()
        self.filelist = _SpooledInfos(self._infos_path, self._count)  # type: ignore[assignment]
        super().close()


class Archive:
    """A zip archive at ``path`` (written to ``path.part`` and renamed when complete)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._partial = path.with_name(path.name + ".part")
        self.temp_dir = tempfile.mkdtemp(prefix="aiokili-export-")
        self._zip = _FlatZip(self._partial, os.path.join(self.temp_dir, "central.infos"))
        self._spools: list[Spool] = []
        self._dirs: set[str] = set()

    def _add_dirs(self, name: str) -> None:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            folder = "/".join(parts[:i]) + "/"
            if folder not in self._dirs:
                self._dirs.add(folder)
                self._zip.writestr(folder, b"")
                self._zip.spill()

    def write(self, name: str, data: str | bytes) -> None:
        """Add member ``name`` (a POSIX path inside the archive)."""
        self._add_dirs(name)
        self._zip.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
        self._zip.spill()

    def write_json(self, name: str, value: Any, *, indent: int | None = None) -> None:
        self.write(name, json.dumps(value, sort_keys=indent is not None, indent=indent))

    def write_file(self, name: str, path: str | Path) -> None:
        """Add the file at ``path`` as member ``name``, streamed from disk."""
        self._add_dirs(name)
        self._zip.write(path, name)
        self._zip.spill()

    def spool(self, name: str) -> Spool:
        spool = Spool(self.temp_dir, name)
        self._spools.append(spool)
        return spool

    def forget(self, *spools: Spool) -> None:
        """Drop spools whose content went into another one (their files are deleted)."""
        for spool in spools:
            self._spools.remove(spool)
            os.unlink(spool.close())

    def close(self) -> None:
        """Add the spooled members, finish the zip, move it in place."""
        try:
            for spool in self._spools:
                self.write_file(spool.name, spool.close())
            self._zip.close()
            os.replace(self._partial, self.path)
        finally:
            self.discard(keep_zip=True)

    def discard(self, *, keep_zip: bool = False) -> None:
        """Remove the temporary files (and the partial zip unless ``keep_zip``)."""
        if not keep_zip:
            self._zip.abandon()
            self._partial.unlink(missing_ok=True)
        for spool in self._spools:
            spool.close()
        self._spools.clear()
        shutil.rmtree(self.temp_dir, ignore_errors=True)
