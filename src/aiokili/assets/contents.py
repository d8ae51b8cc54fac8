"""What an asset's content is: a URL, a local file to upload, or raw text to upload.

Decided locally, before any request, and never failing on the text itself (a 300-word
review is not a file name, even if the OS would choke on it as one).
"""

from __future__ import annotations

import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import KiliInputError

_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_MAX_PATH = 4096


@dataclass(frozen=True)
class Content:
    """One entry of ``content_array``, classified."""

    kind: Literal["url", "file", "text", "empty"]
    value: str
    path: Path | None = None

    @property
    def content_type(self) -> str:
        """MIME type to upload it with."""
        if self.path is None:
            return "text/plain; charset=utf-8"
        guessed = mimetypes.guess_type(self.path.name)[0] or "application/octet-stream"
        return "text/plain; charset=utf-8" if guessed == "text/plain" else guessed


def _existing_file(text: str) -> Path | None:
    if len(text) >= _MAX_PATH or "\n" in text or "\0" in text:
        return None
    path = Path(text).expanduser()
    try:
        return path if path.is_file() else None
    except (OSError, ValueError):  # name too long, invalid characters...
        return None


def looks_like_path(text: str) -> bool:
    """Whether ``text`` reads as a file path rather than as prose."""
    if not text or len(text) >= _MAX_PATH or any(c.isspace() for c in text):
        return False
    if text.startswith(("/", "./", "../", "~", "\\")) or _DRIVE.match(text):
        return True
    return os.sep in text or "/" in text or mimetypes.guess_type(text)[0] is not None


def classify(index: int, value: str | os.PathLike[str]) -> Content:
    """Classify ``content_array[index]`` (raises KiliInputError for a missing file)."""
    if isinstance(value, os.PathLike):
        path = Path(value).expanduser()
        if not path.is_file():
            raise KiliInputError(f"content_array[{index}]: no such file {str(path)!r}.")
        return Content("file", str(path), path)
    if not isinstance(value, str):
        raise KiliInputError(
            f"content_array[{index}] must be a URL, a file path or text, "
            f"got {type(value).__name__} {value!r:.60}."
        )
    if not value:
        return Content("empty", value)
    if value.startswith(("http://", "https://")):
        return Content("url", value)
    existing = _existing_file(value)
    if existing is not None:
        return Content("file", value, existing)
    if looks_like_path(value):
        raise KiliInputError(
            f"content_array[{index}] looks like a file path, but there is no such file: "
            f"{value!r}. Check the path."
        )
    return Content("text", value)
