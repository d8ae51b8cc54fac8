"""What a plugin's ``requirements.txt`` may say: package names and versions, installed from
the package index the server is configured with, nothing else.

Checked by the SDK before uploading and by the local server when a plugin is deployed. A
line that names a file or folder, a URL, or carries a pip option (``-r``, ``-c``, ``-e``,
``-f``, ``--index-url``, ``--extra-index-url``, ...) is refused: it would make pip read a
file of the server, run a local ``setup.py`` or install from another source. A line's
``--hash`` is allowed. Lines pip cannot parse are left to pip (the build fails with its
message).
"""

from __future__ import annotations

import re

_ARCHIVE = re.compile(r"\.(whl|zip|tar\.gz|tgz|tar\.bz2|tar)$", re.IGNORECASE)
_HASH = re.compile(r"\s--hash[=\s]\S+")
_FIX = "a plugin's requirements are package names from the package index, e.g. numpy==2.1.0"


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, content) of each line, continuations joined, comments cut."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = (pending + line).strip(), ""
        if line:
            out.append((start, line))
    if pending.strip():
        out.append((start, pending.strip()))
    return out


def _why(line: str) -> str | None:
    """Why the line installs from elsewhere than the index (None: it does not)."""
    spec = _HASH.sub("", " " + line).strip()
    if spec.startswith("-"):
        return f"the pip option {spec.split()[0].split('=')[0]}"
    if "${" in spec:
        return "an environment variable"
    if "://" in spec or re.match(r"^(file|git|hg|svn|bzr)[:+]", spec, re.IGNORECASE):
        return "a URL"
    if re.search(r"(^|[\w\]\s])@", spec):
        return "a direct reference (name @ URL)"
    name = re.split(r"[;\s]", spec, maxsplit=1)[0]
    if name.startswith((".", "/", "~", "\\")) or "/" in name or "\\" in name:
        return "a local path"
    if _ARCHIVE.search(name):
        return "a local archive"
    if " -" in spec:
        return f"the pip option {spec[spec.index(' -') + 1 :].split()[0].split('=')[0]}"
    return None


def refused_requirements(text: str) -> list[str]:
    """One message per line of ``text`` (a ``requirements.txt``) that is not a package of
    the index; empty when every line is."""
    refused = []
    for number, line in _logical_lines(text):
        why = _why(line)
        if why is not None:
            refused.append(
                f"requirements.txt line {number} ({line[:120]!r}) uses {why}: refused, {_FIX}."
            )
    return refused
