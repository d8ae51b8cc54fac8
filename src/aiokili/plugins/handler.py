"""The plugin author's side: :class:`PluginCore`, and :func:`run_locally` to try a plugin here
without uploading it."""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
import typing
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
from pydantic import BaseModel

from ..errors import KiliInputError
from .files import check_text, plugin_files, plugin_path_of

if TYPE_CHECKING:
    from ..client import AsyncKili

Event = Literal["on_submit", "on_review", "on_custom_interface_click", "on_send_back_to_queue"]
EVENTS: tuple[Event, ...] = typing.get_args(Event)


class PluginCore:
    """Base of a plugin's ``PluginHandler``: override the handlers you need.

    ```python
    from aiokili.plugins import PluginCore

    class PluginHandler(PluginCore):
        async def on_submit(self, label: dict, asset_id: str) -> None:
            if not label["jsonResponse"]:
                await self.kili.send_back_to_queue(asset_ids=[asset_id])
    ```

    Each handler may be ``def`` or ``async def``. A custom ``__init__`` must call
    ``super().__init__(kili, project_id, logger)``.

    Attributes:
        kili: an :class:`~aiokili.AsyncKili` for the plugin's calls.
        project_id: the project the plugin runs on.
        logger: what it logs becomes the run's log entries.
    """

    def __init__(
        self, kili: AsyncKili, project_id: str, logger: logging.Logger | None = None
    ) -> None:
        self.kili = kili
        self.project_id = project_id
        self.logger = logger or logging.getLogger("aiokili.plugin")

    def on_submit(self, label: dict[str, Any], asset_id: str) -> Any:
        """A default label was submitted on ``asset_id``."""
        self.logger.warning("Method not implemented. Define a custom on_submit on your plugin")

    def on_review(self, label: dict[str, Any], asset_id: str) -> Any:
        """A review label was submitted; ``label["reviewedLabel"]["id"]`` is the reviewed one."""
        self.logger.warning("Method not implemented. Define a custom on_review on your plugin")

    def on_custom_interface_click(self, label: dict[str, Any], asset_id: str) -> Any:
        """(beta) A custom interface's button was clicked; ``label`` has ``id`` and
        ``jsonResponse``."""
        self.logger.warning("Handler is in active development.")

    def on_send_back_to_queue(self, asset_id: str) -> Any:
        """(beta) ``asset_id`` was sent back to the labeling queue."""
        self.logger.warning("Handler is in active development.")


def plugin_label(label: dict[str, Any] | BaseModel) -> dict[str, Any]:
    """The ``label`` dict a handler gets, from a label model or dict (``author.id`` becomes
    ``authorId``, the keys are camelCase as on the platform)."""
    data = (
        label.model_dump(by_alias=True, mode="json")
        if isinstance(label, BaseModel)
        else dict(label)
    )
    author = data.pop("author", None)
    if isinstance(author, dict) and "authorId" not in data:
        data["authorId"] = author.get("id")
    return data


def _load_handler(main: Path) -> type[PluginCore]:
    """Import the plugin's main module under a fresh name (its folder is on sys.path)."""
    name = f"_aiokili_plugin_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, main)
    if spec is None or spec.loader is None:  # pragma: no cover - checked .py file
        raise KiliInputError(f"run_locally(): cannot load {main}.")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as err:
        if err.name not in ("kili", "kili.plugins"):
            raise
        raise KiliInputError(
            f"run_locally(): {main} imports {err.name}, which is not installed here. Write "
            "`from aiokili.plugins import PluginCore` (self.kili is then an AsyncKili), or "
            "install kili to run plugins written for the official SDK."
        ) from err
    handler: type[PluginCore] = module.PluginHandler
    return handler


async def run_locally(
    plugin_path: str | Path,
    label: dict[str, Any] | BaseModel,
    asset_id: str,
    project_id: str,
    *,
    kili: AsyncKili,
    event: Event = "on_submit",
    logger: logging.Logger | None = None,
) -> Any:
    """Run a plugin's handler once, here, without uploading it (to test it).

    The plugin is checked like :meth:`PluginMethods.upload_plugin` checks it, imported,
    built as ``PluginHandler(kili, project_id, logger)`` and its ``event`` handler called
    with the label (a dict as the platform sends it, or a :class:`~aiokili.Label`, turned
    into that dict) and ``asset_id`` (``on_send_back_to_queue`` gets ``asset_id`` only;
    ``label`` is then ignored). Returns what the handler returns; its exceptions
    propagate. The plugin's folder is on ``sys.path`` during the run, and the modules it
    imported from there are forgotten afterwards (two plugins may both have a ``helpers``).
    """
    path = plugin_path_of("run_locally", plugin_path, {})
    await anyio.to_thread.run_sync(plugin_files, "run_locally", path)
    if event not in EVENTS:
        raise KiliInputError(f"run_locally(): event must be one of {', '.join(EVENTS)}.")
    check_text("run_locally", "asset_id", asset_id)
    check_text("run_locally", "project_id", project_id)
    if not isinstance(label, (dict, BaseModel)):
        raise KiliInputError("run_locally(): label must be a dict or a Label.")
    folder = path if path.is_dir() else path.parent
    before = set(sys.modules)
    sys.path.insert(0, str(folder))
    try:  # the folder stays importable while the handler runs (lazy imports)
        handler = _load_handler(folder / "main.py" if path.is_dir() else path)
        method = getattr(handler(kili, project_id, logger), event)
        args = (asset_id,) if event == "on_send_back_to_queue" else (plugin_label(label), asset_id)
        result = method(*args)
        if inspect.isawaitable(result):
            result = await result
    finally:
        sys.path.remove(str(folder))
        _forget_modules(set(sys.modules) - before, folder)
    return result


def _forget_modules(names: set[str], folder: Path) -> None:
    """Drop the modules imported from ``folder`` (another plugin may have a "helpers" too)."""
    root = folder.resolve()
    for name in names:
        file = getattr(sys.modules.get(name), "__file__", None)
        if file and Path(file).resolve().is_relative_to(root):
            del sys.modules[name]
