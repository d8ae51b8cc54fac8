"""The export archive on every supported Python: ``_FlatZip`` spools the zip's member index
through CPython's ``zipfile`` internals (see ``aiokili/exports/archive.py``), so each
interpreter the package supports writes an archive here, in a process of its own, and the
result is read back with the stock ``zipfile``: every member there with its content, the
member index really off the heap, the ZIP64 end record (archives of over 65,535 members)
right, an abandoned archive gone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import aiokili.exports.archive

SUPPORTED = ("3.10", "3.11", "3.12", "3.13")
ARCHIVE = Path(aiokili.exports.archive.__file__)

# Run with ``python CHECK archive.py``: the module needs the standard library only.
CHECK = r"""
import importlib.util
import sys
import tempfile
import tracemalloc
import zipfile
from pathlib import Path

spec = importlib.util.spec_from_file_location("archive", sys.argv[1])
archive = importlib.util.module_from_spec(spec)
spec.loader.exec_module(archive)
folder = Path(tempfile.mkdtemp())
MEMBERS = 2000

# 1. The member index leaves the heap as members complete (unspilled: ~0.5 KiB each).
out = archive.Archive(folder / "a.zip")
out.write("labels/0.json", "{}")
tracemalloc.start()
before = tracemalloc.get_traced_memory()[0]
for i in range(1, MEMBERS):
    out.write(f"labels/{i}.json", '{"i": %d}' % i)
grown = tracemalloc.get_traced_memory()[0] - before
tracemalloc.stop()
assert grown < 64 * 1024, f"{grown} bytes kept for {MEMBERS} members"

# 2. Spooled and file members, then the central directory from the spooled index; as ZIP64
# (the record of over 65,535 members: the limit lowered to reach it with few members).
spool = out.spool("labels.json")
spool.write('{"annotations": [')
spool.write("1, 2]}")
source = folder / "image.jpg"
source.write_bytes(b"\xff\xd8 jpeg")
out.write_file("images/image.jpg", source)
zipfile.ZIP_FILECOUNT_LIMIT = 100
out.close()
with zipfile.ZipFile(folder / "a.zip") as z:
    assert z.testzip() is None
    names = z.namelist()
    expected = ["labels/", *(f"labels/{i}.json" for i in range(MEMBERS)), "images/",
                "images/image.jpg", "labels.json"]
    assert names == expected, names[:5]
    assert z.read("labels/1999.json") == b'{"i": 1999}'
    assert z.read("labels.json") == b'{"annotations": [1, 2]}'
    assert z.read("images/image.jpg") == b"\xff\xd8 jpeg"
with open(folder / "a.zip", "rb") as f:
    assert b"PK\x06\x06" in f.read()  # the ZIP64 end of central directory record
assert not (folder / "a.zip.part").exists()

# 3. An abandoned archive leaves nothing behind.
gone = archive.Archive(folder / "b.zip")
gone.write("x.json", "{}")
gone.discard()
assert not (folder / "b.zip").exists() and not (folder / "b.zip.part").exists()
assert not Path(gone.temp_dir).exists()
print("ok", sys.version_info[:2])
"""


def _interpreter(version: str) -> str | None:
    """A python of ``version`` on this machine: this one, one pyenv installed, or on PATH
    (not a pyenv shim: it runs only the versions pyenv has selected)."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for candidate in sorted(root.glob(f"{version}.*/bin/python"), reverse=True):
        return str(candidate)
    found = shutil.which(f"python{version}")
    return found if found and "shims" not in Path(found).parts else None


@pytest.mark.parametrize("version", SUPPORTED)
def test_the_flat_zip_holds_on_every_supported_python(version: str, tmp_path: Path) -> None:
    python = _interpreter(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    script = tmp_path / "check_archive.py"
    script.write_text(CHECK)
    done = subprocess.run(
        [python, "-I", str(script), str(ARCHIVE)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ok")
