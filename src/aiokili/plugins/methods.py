"""Plugins: upload (awaiting the deployment), update, activate, list, status, build errors,
logs and webhooks of an uploaded plugin.

```python
await kili.upload_plugin("my_plugin/")  # returns once the plugin is active
await kili.activate_plugin_on_project("my_plugin", project_id)
async for entry in kili.iter_plugin_logs(project_id, "my_plugin", follow=True):
    print(entry.created_at, entry.log_type, entry.content)
```
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio

from .._core.base import Domain
from .._core.inputs import event_matchers
from .._core.selection import build_selection, page_model, with_selection
from .._core.uploads import UploadItem
from .._generated import input_types as inputs
from .._generated.fragments import Plugin, PluginLog
from .._generated.operations import LIST_PLUGINS_GQL
from ..errors import (
    GraphQLError,
    KiliInputError,
    PluginArgumentError,
    PluginBuildError,
    PluginDeployTimeout,
    PluginNameTaken,
)
from .files import (
    HANDLERS,
    check_page,
    check_text,
    handler_types,
    plugin_archive,
    plugin_files,
    plugin_name_of,
    plugin_path_of,
)

__all__ = ["PluginMethods"]

log = logging.getLogger("aiokili.plugins")

ACTIVE, FAILED = "ACTIVE", "FAILED"
DEPLOY_TIMEOUT = 600.0
"""Default seconds ``upload_plugin`` / ``update_plugin`` wait for an active plugin."""
POLL_FIRST, POLL_MOST = 0.1, 0.5
"""Status polling: first interval, then doubling up to this many seconds."""
NAME_TAKEN = "an entity Plugin already exists with value"
"""How Kili's answer to ``createPlugin`` with a name already used begins (the local server's
too). Kili sends no error code of its own for it (the official SDK, too, tells it by this
text), so it is told by the start of the error's message."""


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
            plugin_name: default: the file's name (``rule.py``, as the official SDK
                names it) or the folder's.
            verbose: log the deployment's progress (logger ``aiokili.plugins``).
            event_matcher: event subjects or patterns (e.g. ``["asset.workflow.*"]``) to
                register instead of the handler types read from the ``on_*`` methods.
            deploy_timeout: seconds to wait for an active plugin (default 600).

        Returns ``"Plugin created successfully"``. Raises :class:`~aiokili.PluginBuildError`
        (with the build errors) or :class:`~aiokili.PluginDeployTimeout`; a name already used
        raises a :class:`~aiokili.KiliInputError` pointing to ``update_plugin``.
        """
        path = plugin_path_of("upload_plugin", plugin_path, kwargs)
        files = await anyio.to_thread.run_sync(plugin_files, "upload_plugin", path)
        name = plugin_name_of("upload_plugin", path, plugin_name)
        _timeout("upload_plugin", deploy_timeout)
        runner = _runner("upload_plugin", name, files["main.py"], event_matcher)
        try:
            url = (
                await self._core.gql.create_plugin(inputs.CreatePluginData(plugin_name=name))
            ).data
        except GraphQLError as err:
            if not _name_taken(err):
                raise
            raise PluginNameTaken(
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
        path = plugin_path_of("update_plugin", plugin_path, kwargs)
        if not plugin_name:
            raise PluginArgumentError(
                "update_plugin() needs plugin_name, the name of the plugin to update (its "
                "file's or folder's name unless given at upload; list_plugins() lists them)."
            )
        files = await anyio.to_thread.run_sync(plugin_files, "update_plugin", path)
        name = plugin_name_of("update_plugin", path, plugin_name)
        _timeout("update_plugin", deploy_timeout)
        runner = _runner("update_plugin", name, files["main.py"], event_matcher)
        data = inputs.GenerateUpdateUrlData(plugin_name=name)
        url = (await self._core.gql.generate_update_url(data)).data
        await self._deploy(url, files, runner, verbose, create=False)
        await self._wait_active(name, deploy_timeout, verbose)
        return "Plugin updated successfully"

    async def _deploy(
        self,
        url: str,
        files: dict[str, bytes],
        runner: inputs.PluginRunnerData,
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
        check_text("get_plugin_status", "plugin_name", plugin_name)
        return (await self._core.gql.get_plugin_runner_status(plugin_name)).data

    async def get_plugin_build_errors(
        self,
        plugin_name: str,
        start_date: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> list[PluginLog]:
        """The plugin's build errors, since ``start_date`` (default: its creation)."""
        check_text("get_plugin_build_errors", "plugin_name", plugin_name)
        check_page("get_plugin_build_errors", start_date, limit, skip)
        data = inputs.PluginBuildErrorsData(
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
        check_text("get_plugin_logs", "project_id", project_id)
        check_text("get_plugin_logs", "plugin_name", plugin_name)
        check_page("get_plugin_logs", start_date, limit, skip)
        return await self._logs(project_id, plugin_name, start_date, limit, skip)

    async def _logs(
        self, project_id: str, plugin_name: str, start: datetime | None, limit: int, skip: int
    ) -> list[PluginLog]:
        data = inputs.PluginLogsData(
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
        check_text("iter_plugin_logs", "project_id", project_id)
        check_text("iter_plugin_logs", "plugin_name", plugin_name)
        check_page("iter_plugin_logs", start_date, page_size, 0)
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
                ``updatedAt``: every field of :class:`Plugin`); reading one left out raises
                ``AttributeError``.
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
        check_text("delete_plugin", "plugin_name", plugin_name)
        where = inputs.PluginNameWhere(plugin_name=plugin_name)
        return (await self._core.gql.delete_plugin(where)).data


def _runner(method: str, name: str, main: bytes, event_matcher: object) -> inputs.PluginRunnerData:
    """What the runner registers: the event matchers given, else the ``on_*`` handlers."""
    matcher = event_matchers(method, event_matcher)
    if matcher is not None:
        return inputs.PluginRunnerData(plugin_name=name, event_matcher=matcher)
    kinds = handler_types(main)
    if not kinds:
        raise KiliInputError(
            f"{method}(): PluginHandler defines none of {', '.join(HANDLERS)}, so nothing would "
            "ever run it: define one, or pass event_matcher=[...] for on_event plugins."
        )
    return inputs.PluginRunnerData(plugin_name=name, handler_types=kinds)


def _name_taken(error: GraphQLError) -> bool:
    """Whether ``createPlugin`` failed because a plugin of that name exists (see
    :data:`NAME_TAKEN`)."""
    return any(detail.message.startswith(NAME_TAKEN) for detail in error.errors)


def _timeout(method: str, value: object) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise KiliInputError(f"{method}(): deploy_timeout must be a number of seconds > 0.")


def _project_where(method: str, plugin_name: str, project_id: str) -> inputs.PluginProjectWhere:
    check_text(method, "plugin_name", plugin_name)
    check_text(method, "project_id", project_id)
    return inputs.PluginProjectWhere(plugin_name=plugin_name, project_id=project_id)
