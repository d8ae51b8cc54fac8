"""A plugin's files, checked locally before any upload: the seeds' argument errors, ``main.py``
and ``class PluginHandler(PluginCore)``, syntax, the handler types; and the zip sent."""

from __future__ import annotations

import ast
import io
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from .._generated.enums import PluginHandlerType
from ..errors import KiliInputError, PluginArgumentError
from .requirements import refused_requirements

HANDLERS = {
    "on_submit": PluginHandlerType.onSubmit,
    "on_review": PluginHandlerType.onReview,
    "on_custom_interface_click": PluginHandlerType.onCustomInterfaceClick,
    "on_send_back_to_queue": PluginHandlerType.onSendBackToQueue,
}
"""Handler method name → the handler type registered for it."""
SKIPPED_DIRS = {"__pycache__", ".git", ".venv", "venv", ".mypy_cache", ".pytest_cache"}


def plugin_path_of(method: str, plugin_path: object, kwargs: dict[str, Any]) -> Path:
    """The seeds' checks (a :class:`PluginArgumentError`, ``file_path`` with the seed's
    message), then the path's type."""
    if kwargs.get("file_path"):
        raise PluginArgumentError(
            '"file_path" has been deprecated for "plugin_path", please use "plugin_path" instead'
        )
    if kwargs:
        raise PluginArgumentError(
            f"{method}() got unexpected keyword argument(s) {', '.join(kwargs)}"
        )
    if not plugin_path:
        raise PluginArgumentError(
            f"{method}() needs plugin_path: a .py file, or a folder holding a main.py."
        )
    if not isinstance(plugin_path, (str, Path)):
        raise KiliInputError(
            f"{method}(): plugin_path must be a str or Path, got {type(plugin_path).__name__}."
        )
    return Path(plugin_path)


def plugin_files(method: str, path: Path) -> dict[str, bytes]:
    """The archive's members (name → bytes) of a plugin file or folder, checked."""
    if not path.exists():
        raise KiliInputError(f"{method}(): plugin_path {str(path)!r} does not exist.")
    if path.is_file():
        if path.suffix != ".py":
            raise KiliInputError(
                f"{method}(): plugin_path {str(path)!r} must be a .py file or a folder "
                "holding a main.py."
            )
        files = {"main.py": path.read_bytes()}
        sources = {"main.py": (path, files["main.py"])}
    else:
        if not (path / "main.py").is_file():
            raise KiliInputError(
                f"{method}(): the plugin folder {str(path)!r} has no main.py: a folder plugin "
                "needs a main.py at its root (with class PluginHandler(PluginCore))."
            )
        files, sources = {}, {}
        for file in sorted(path.rglob("*")):
            relative = file.relative_to(path)
            if not file.is_file() or SKIPPED_DIRS.intersection(relative.parts[:-1]):
                continue
            name = relative.as_posix()
            if file.suffix == ".py" or name == "requirements.txt":
                files[name] = file.read_bytes()
                if file.suffix == ".py":
                    sources[name] = (file, files[name])
    trees = {}
    for name, (file, data) in sources.items():
        try:
            trees[name] = ast.parse(data, filename=str(file))
        except SyntaxError as err:
            raise KiliInputError(
                f"{method}(): {file} has a syntax error at line {err.lineno}: {err.msg}."
            ) from err
    handler_class(method, trees["main.py"], sources["main.py"][0])
    if refused := refused_requirements(files.get("requirements.txt", b"").decode(errors="replace")):
        raise KiliInputError(f"{method}(): {path / 'requirements.txt'}: " + " ".join(refused))
    return files


def handler_class(method: str, tree: ast.Module, file: Path) -> ast.ClassDef:
    """The module's top-level ``class PluginHandler(PluginCore)``, else KiliInputError."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "PluginHandler":
            bases = {ast.unparse(base).rsplit(".", 1)[-1] for base in node.bases}
            if "PluginCore" in bases:
                return node
    raise KiliInputError(
        f"{method}(): {file} defines no top-level `class PluginHandler(PluginCore)`; add one "
        "(from aiokili.plugins import PluginCore, or from kili.plugins import PluginCore)."
    )


def handler_types(main_source: bytes) -> list[PluginHandlerType]:
    """The handler types of a checked ``main.py``: the ``on_*`` methods it defines."""
    handler = handler_class("upload_plugin", ast.parse(main_source), Path("main.py"))
    names = {n.name for n in handler.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return [kind for name, kind in HANDLERS.items() if name in names]


def plugin_archive(files: dict[str, bytes]) -> bytes:
    """A zip (in memory) of ``files``, deflated, in a stable order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(name, files[name])
    return buffer.getvalue()


def plugin_name_of(method: str, plugin_path: Path, plugin_name: object) -> str:
    """``plugin_name``, else the file's name (``rule.py``, as kili 26.2.4 names it) or the
    folder's."""
    if plugin_name is None:
        return plugin_path.resolve().name
    if not isinstance(plugin_name, str) or not plugin_name.strip():
        raise KiliInputError(f"{method}(): plugin_name must be a non-empty string.")
    return plugin_name


def check_text(method: str, name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise KiliInputError(f"{method}(): {name} must be a non-empty string, got {value!r}.")
    return value


def check_page(method: str, start_date: object, limit: object, skip: object) -> None:
    if start_date is not None and not isinstance(start_date, datetime):
        raise KiliInputError(
            f"{method}(): start_date must be a datetime (e.g. datetime(2024, 1, 1)), "
            f"got {type(start_date).__name__}."
        )
    for name, value in (("limit", limit), ("skip", skip)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise KiliInputError(f"{method}(): {name} must be an integer >= 0, got {value!r}.")
