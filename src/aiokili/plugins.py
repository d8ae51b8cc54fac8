"""Plugins: upload (awaiting the deployment), update, activate, list, status, build errors,
logs; :class:`PluginCore` for plugin authors and :func:`run_locally` to try one.

```python
await kili.upload_plugin("my_plugin/")  # returns once the plugin is active
await kili.activate_plugin_on_project("my_plugin", project_id)
async for entry in kili.iter_plugin_logs(project_id, "my_plugin", follow=True):
    print(entry.created_at, entry.log_type, entry.content)
```
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import io
import logging
import sys
import uuid
import zipfile
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
from pydantic import BaseModel

from ._core import Domain
from ._generated.enums import PluginHandlerType
from ._generated.fragments import Plugin, PluginLog
from ._generated.input_types import (
    CreatePluginData,
    GenerateUpdateUrlData,
    PluginBuildErrorsData,
    PluginLogsData,
    PluginNameWhere,
    PluginProjectWhere,
    PluginRunnerData,
)
from ._generated.operations import LIST_PLUGINS_GQL
from ._selection import build_selection, page_model, with_selection
from ._uploads import UploadItem
from .errors import GraphQLError, KiliInputError, PluginBuildError, PluginDeployTimeout

if TYPE_CHECKING:
    from .client import AsyncKili

__all__ = ["Plugin", "PluginCore", "PluginLog", "PluginMethods", "run_locally"]

log = logging.getLogger("aiokili.plugins")

HANDLERS = {
    "on_submit": PluginHandlerType.onSubmit,
    "on_review": PluginHandlerType.onReview,
    "on_custom_interface_click": PluginHandlerType.onCustomInterfaceClick,
    "on_send_back_to_queue": PluginHandlerType.onSendBackToQueue,
}
"""Handler method name → the handler type registered for it."""
ACTIVE, FAILED = "ACTIVE", "FAILED"
DEPLOY_TIMEOUT = 600.0
"""Default seconds ``upload_plugin`` / ``update_plugin`` wait for an active plugin."""
POLL_FIRST, POLL_MOST = 0.1, 5.0
"""Status polling: first interval, then doubling up to this many seconds."""
SKIPPED_DIRS = {"__pycache__", ".git", ".venv", "venv", ".mypy_cache", ".pytest_cache"}
Event = Literal["on_submit", "on_review", "on_custom_interface_click"]


# ----------------------------------------------------------------------------- local checks


def _nullish(method: str, plugin_path: object, kwargs: dict[str, Any]) -> Path:
    """The seeds' checks, with their messages (``TypeError``) then the path's type."""
    if kwargs.get("file_path"):
        raise TypeError(
            '"file_path" has been deprecated for "plugin_path", please use "plugin_path" instead'
        )
    if kwargs:
        raise TypeError(f"{method}() got unexpected keyword argument(s) {', '.join(kwargs)}")
    if not plugin_path:
        raise TypeError('"plugin_path is nullish, please provide a value')
    if not isinstance(plugin_path, (str, Path)):
        raise KiliInputError(
            f"{method}(): plugin_path must be a str or Path, got {type(plugin_path).__name__}."
        )
    return Path(plugin_path)


def _plugin_files(method: str, path: Path) -> dict[str, bytes]:
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
    _handler_class(method, trees["main.py"], sources["main.py"][0])
    return files


def _handler_class(method: str, tree: ast.Module, file: Path) -> ast.ClassDef:
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
    handler = _handler_class("upload_plugin", ast.parse(main_source), Path("main.py"))
    names = {n.name for n in handler.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return [kind for name, kind in HANDLERS.items() if name in names]


def event_matchers(method: str, value: object) -> list[str] | None:
    """``event_matcher`` checked: None, or a list of non-empty strings (sorted, unique)."""
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise KiliInputError(
            f"{method}(): event_matcher must be a list of event subjects, e.g. "
            f"['asset.skipped'], got {type(value).__name__}."
        )
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise KiliInputError(f"{method}(): event_matcher[{index}] must be a non-empty string.")
    if not value:
        raise KiliInputError(f"{method}(): event_matcher is empty (or give None).")
    return sorted(set(value))


def plugin_archive(files: dict[str, bytes]) -> bytes:
    """A zip (in memory) of ``files``, deflated, in a stable order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(name, files[name])
    return buffer.getvalue()


def _name(method: str, plugin_path: Path, plugin_name: object) -> str:
    if plugin_name is None:
        return plugin_path.stem if plugin_path.is_file() else plugin_path.resolve().name
    if not isinstance(plugin_name, str) or not plugin_name.strip():
        raise KiliInputError(f"{method}(): plugin_name must be a non-empty string.")
    return plugin_name


def _text(method: str, name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise KiliInputError(f"{method}(): {name} must be a non-empty string, got {value!r}.")
    return value


def _page(method: str, start_date: object, limit: object, skip: object) -> None:
    if start_date is not None and not isinstance(start_date, datetime):
        raise KiliInputError(
            f"{method}(): start_date must be a datetime (e.g. datetime(2024, 1, 1)), "
            f"got {type(start_date).__name__}."
        )
    for name, value in (("limit", limit), ("skip", skip)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise KiliInputError(f"{method}(): {name} must be an integer >= 0, got {value!r}.")


# ----------------------------------------------------------------------------- the domain


class PluginMethods(Domain):
    """Plugin methods of :class:`~aiokili.AsyncKili`."""

    async def upload_plugin(
        self,
        plugin_path: str | Path | None = None,
        plugin_name: str | None = None,
        verbose: bool = True,
        event_matcher: Sequence[str] | None = None,
        *,
        deploy_timeout: float = DEPLOY_TIMEOUT,
        **kwargs: Any,
    ) -> str:
        """Upload a new plugin and wait until it is active.

        Args:
            plugin_path: a ``.py`` file, or a folder with ``main.py`` (required),
                ``requirements.txt`` (optional) and other modules or sub-folders. The code
                must define ``class PluginHandler(PluginCore)``; checked before any upload.
            plugin_name: default: the file's or folder's name.
            verbose: log the deployment's progress (logger ``aiokili.plugins``).
            event_matcher: event subjects or patterns (e.g. ``["asset.workflow.*"]``) to
                register instead of the handler types read from the ``on_*`` methods.
            deploy_timeout: seconds to wait for an active plugin (default 600).

        Returns ``"Plugin created successfully"``. Raises :class:`~aiokili.PluginBuildError`
        (with the build errors) or :class:`~aiokili.PluginDeployTimeout`; a name already used
        raises a :class:`~aiokili.KiliInputError` pointing to ``update_plugin``.
        """
        path = _nullish("upload_plugin", plugin_path, kwargs)
        files = await anyio.to_thread.run_sync(_plugin_files, "upload_plugin", path)
        name = _name("upload_plugin", path, plugin_name)
        _timeout("upload_plugin", deploy_timeout)
        runner = _runner("upload_plugin", name, files["main.py"], event_matcher)
        try:
            url = (await self._core.gql.create_plugin(CreatePluginData(plugin_name=name))).data
        except GraphQLError as err:
            if "already exist" not in str(err):
                raise
            raise KiliInputError(
                f'A plugin named "{name}" already exists. Hint: A plugin with this name already '
                "exist, if you want to override it you can use the command "
                f'kili.update_plugin(plugin_path="{path}", plugin_name="{name}")'
            ) from err
        await self._deploy(url, files, runner, verbose, create=True)
        await self._wait_active(name, deploy_timeout, verbose)
        return "Plugin created successfully"

    async def update_plugin(
        self,
        plugin_path: str | Path | None = None,
        plugin_name: str | None = None,
        verbose: bool = True,
        event_matcher: Sequence[str] | None = None,
        *,
        deploy_timeout: float = DEPLOY_TIMEOUT,
        **kwargs: Any,
    ) -> str:
        """Replace an uploaded plugin's code and wait until it is active again.

        Same arguments, checks and errors as :meth:`upload_plugin`; ``plugin_name`` is
        required. Returns ``"Plugin updated successfully"``.
        """
        path = _nullish("update_plugin", plugin_path, kwargs)
        if not plugin_name:
            raise TypeError('"plugin_name is nullish, please provide a value')
        files = await anyio.to_thread.run_sync(_plugin_files, "update_plugin", path)
        name = _name("update_plugin", path, plugin_name)
        _timeout("update_plugin", deploy_timeout)
        runner = _runner("update_plugin", name, files["main.py"], event_matcher)
        data = GenerateUpdateUrlData(plugin_name=name)
        url = (await self._core.gql.generate_update_url(data)).data
        await self._deploy(url, files, runner, verbose, create=False)
        await self._wait_active(name, deploy_timeout, verbose)
        return "Plugin updated successfully"

    async def _deploy(
        self,
        url: str,
        files: dict[str, bytes],
        runner: PluginRunnerData,
        verbose: bool,
        *,
        create: bool,
    ) -> None:
        name = runner.plugin_name
        archive = plugin_archive(files)
        item = UploadItem(path=f"{name}.zip", source=archive, content_type="application/zip")
        await self._core.uploads.put(url, item)
        if verbose:
            log.info('Plugin "%s": %d file(s) uploaded (%d bytes).', name, len(files), len(archive))
        if create:
            await self._core.gql.create_plugin_runner(runner)
        else:
            await self._core.gql.update_plugin_runner(runner)

    async def _wait_active(self, name: str, limit: float, verbose: bool) -> None:
        """Poll the status until ACTIVE (return), FAILED (PluginBuildError) or timeout."""
        deadline = anyio.current_time() + limit
        interval, status, seen = POLL_FIRST, None, None
        while True:
            status = (await self._core.gql.get_plugin_runner_status(name)).data
            if status == ACTIVE:
                if verbose:
                    log.info('Plugin "%s" is active.', name)
                return
            if status == FAILED:
                raise PluginBuildError(name, await self.get_plugin_build_errors(name))
            if verbose and status != seen:
                log.info('Plugin "%s": status %s...', name, status)
            seen = status
            left = deadline - anyio.current_time()
            if left <= 0:
                raise PluginDeployTimeout(name, status, limit)
            await anyio.sleep(min(interval, left))
            interval = min(interval * 2, POLL_MOST)

    async def get_plugin_status(self, plugin_name: str, verbose: bool = True) -> str | None:
        """The plugin's deployment status (e.g. ``"DEPLOYING"``, ``"ACTIVE"``, ``"FAILED"``).

        ``verbose`` is accepted for compatibility."""
        _text("get_plugin_status", "plugin_name", plugin_name)
        return (await self._core.gql.get_plugin_runner_status(plugin_name)).data

    async def get_plugin_build_errors(
        self,
        plugin_name: str,
        start_date: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> list[PluginLog]:
        """The plugin's build errors, since ``start_date`` (default: its creation)."""
        _text("get_plugin_build_errors", "plugin_name", plugin_name)
        _page("get_plugin_build_errors", start_date, limit, skip)
        data = PluginBuildErrorsData(
            plugin_name=plugin_name, created_at=start_date, limit=limit, skip=skip
        )
        return list((await self._core.gql.get_plugin_build_errors(data)).data)

    async def get_plugin_logs(
        self,
        project_id: str,
        plugin_name: str,
        start_date: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> list[PluginLog]:
        """One page of the plugin's log entries on a project, oldest first.

        Args:
            start_date: entries from this time on (default: the plugin's creation; a naive
                datetime is taken as UTC).
            limit: at most this many entries (default 100). skip: entries to skip.
        """
        _text("get_plugin_logs", "project_id", project_id)
        _text("get_plugin_logs", "plugin_name", plugin_name)
        _page("get_plugin_logs", start_date, limit, skip)
        return await self._logs(project_id, plugin_name, start_date, limit, skip)

    async def _logs(
        self, project_id: str, plugin_name: str, start: datetime | None, limit: int, skip: int
    ) -> list[PluginLog]:
        data = PluginLogsData(
            project_id=project_id, plugin_name=plugin_name, created_at=start, limit=limit, skip=skip
        )
        return list((await self._core.gql.get_plugin_logs(data)).data)

    async def iter_plugin_logs(
        self,
        project_id: str,
        plugin_name: str,
        start_date: datetime | None = None,
        *,
        follow: bool = False,
        poll_interval: float = 1.0,
        page_size: int = 100,
    ) -> AsyncIterator[PluginLog]:
        """Every log entry of the plugin on a project, oldest first, page after page.

        With ``follow=True`` it never ends: once the entries so far are out, it asks for new
        ones every ``poll_interval`` seconds (stop with ``break`` or by cancelling).
        """
        _text("iter_plugin_logs", "project_id", project_id)
        _text("iter_plugin_logs", "plugin_name", plugin_name)
        _page("iter_plugin_logs", start_date, page_size, 0)
        if page_size < 1 or not isinstance(poll_interval, (int, float)) or poll_interval <= 0:
            raise KiliInputError(
                "iter_plugin_logs(): page_size must be >= 1 and poll_interval a number > 0."
            )
        skip = 0
        while True:
            page = await self._logs(project_id, plugin_name, start_date, page_size, skip)
            for entry in page:
                yield entry
            skip += len(page)
            if len(page) < page_size:
                if not follow:
                    return
                await anyio.sleep(poll_interval)

    async def list_plugins(self, fields: Sequence[str] | None = None) -> list[Plugin]:
        """The organization's plugins (and webhooks).

        Args:
            fields: field paths (default ``name``, ``projectIds``, ``id``, ``createdAt``,
                ``updatedAt``: every field of :class:`Plugin`); unselected ones are None.
        """
        if fields is None:
            return list((await self._core.gql.list_plugins()).data)
        if isinstance(fields, str) or not isinstance(fields, Sequence):
            raise KiliInputError(
                "list_plugins(): fields takes a list of field names, e.g. ['name']."
            )
        selection = build_selection(Plugin, tuple(fields))
        document = with_selection(LIST_PLUGINS_GQL, "Plugin", selection.text)
        model = page_model(Plugin, selection)
        result = await self._core.gql.run_typed(document, "ListPlugins", {}, model)
        return list(result.data)

    async def activate_plugin_on_project(self, plugin_name: str, project_id: str) -> str | None:
        """Run the plugin on the project's events (it stays active on its other projects)."""
        where = _project_where("activate_plugin_on_project", plugin_name, project_id)
        return (await self._core.gql.activate_plugin_on_project(where)).data

    async def deactivate_plugin_on_project(self, plugin_name: str, project_id: str) -> str | None:
        """Stop running the plugin on this project (it stays active on its other projects)."""
        where = _project_where("deactivate_plugin_on_project", plugin_name, project_id)
        return (await self._core.gql.deactivate_plugin_on_project(where)).data

    async def delete_plugin(self, plugin_name: str) -> str | None:
        """Delete the plugin; it is deactivated on every project."""
        _text("delete_plugin", "plugin_name", plugin_name)
        where = PluginNameWhere(plugin_name=plugin_name)
        return (await self._core.gql.delete_plugin(where)).data


def _runner(method: str, name: str, main: bytes, event_matcher: object) -> PluginRunnerData:
    """What the runner registers: the event matchers given, else the ``on_*`` handlers."""
    matcher = event_matchers(method, event_matcher)
    if matcher is not None:
        return PluginRunnerData(plugin_name=name, event_matcher=matcher)
    kinds = handler_types(main)
    if not kinds:
        raise KiliInputError(
            f"{method}(): PluginHandler defines none of {', '.join(HANDLERS)}, so nothing would "
            "ever run it: define one, or pass event_matcher=[...] for on_event plugins."
        )
    return PluginRunnerData(plugin_name=name, handler_types=kinds)


def _timeout(method: str, value: object) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise KiliInputError(f"{method}(): deploy_timeout must be a number of seconds > 0.")


def _project_where(method: str, plugin_name: str, project_id: str) -> PluginProjectWhere:
    _text(method, "plugin_name", plugin_name)
    _text(method, "project_id", project_id)
    return PluginProjectWhere(plugin_name=plugin_name, project_id=project_id)


# ----------------------------------------------------------------------------- authors' side


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
    into that dict) and ``asset_id``. Returns what the handler returns; its exceptions
    propagate. The plugin's folder is on ``sys.path`` during the run, and the modules it
    imported from there are forgotten afterwards (two plugins may both have a ``helpers``).
    """
    path = _nullish("run_locally", plugin_path, {})
    await anyio.to_thread.run_sync(_plugin_files, "run_locally", path)
    if event not in ("on_submit", "on_review", "on_custom_interface_click"):
        raise KiliInputError(
            "run_locally(): event must be on_submit, on_review or on_custom_interface_click."
        )
    _text("run_locally", "asset_id", asset_id)
    _text("run_locally", "project_id", project_id)
    if not isinstance(label, (dict, BaseModel)):
        raise KiliInputError("run_locally(): label must be a dict or a Label.")
    folder = path if path.is_dir() else path.parent
    before = set(sys.modules)
    sys.path.insert(0, str(folder))
    try:  # the folder stays importable while the handler runs (lazy imports)
        handler = _load_handler(folder / "main.py" if path.is_dir() else path)
        result = getattr(handler(kili, project_id, logger), event)(plugin_label(label), asset_id)
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
