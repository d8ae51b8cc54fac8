"""The plugin service: builds uploaded plugins and runs them on new labels, off the request path.

Started by the app's lifespan (:func:`PluginService.run`), it polls two things every
``poll_s`` seconds, both cheap indexed reads:

* plugins in status ``DEPLOYING`` (set by ``createPluginRunner`` / ``updatePluginRunner``):
  the zip is unpacked safely (no absolute paths or ``..``, at most ``max_files`` files and
  ``max_unpacked_bytes`` bytes), ``main.py`` must define ``class PluginHandler(...)``, and
  ``requirements.txt`` is installed with ``pip install --target`` into the plugin's own
  ``deps`` folder. The plugin's environment is the server's interpreter with that folder
  first on ``sys.path``: no venv is created (seconds saved per build; a plugin without
  requirements builds in milliseconds), aiokili (and kili, when installed) stay importable,
  and a plugin's packages still shadow the server's. A failure becomes build errors
  (pip's own message included) and status ``FAILED``; success, ``ACTIVE``.
* labels appended since the last poll: a ``DEFAULT`` label is an ``onSubmit`` event, a
  ``REVIEW`` label an ``onReview`` one. Each active plugin of the label's project handling
  that event runs in its own subprocess (see :mod:`plugin_child`) under the memory and
  time limits; webhooks get a POST. Everything the run says becomes log entries.

Runs are bounded by ``concurrency`` so a burst of labels cannot starve the server.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from .._http import RetryPolicy
from ..errors import APIError
from .db import in_thread, new_id, now
from .domains.plugins import ACTIVE, DEPLOYING, FAILED, LogEntry, PluginRow
from .settings import PluginLimits

if TYPE_CHECKING:
    from .store import Store

# The child runs by path, not ``-m``: importing the ``aiokili.server`` package (Starlette,
# ariadne, uvicorn) would add ~0.1 s to every run; ``run_path`` (unlike ``python file``)
# does not put this folder, whose ``http.py`` would shadow the stdlib's, on sys.path.
_CHILD = Path(__file__).with_name("plugin_child.py")
_CHILD_BOOT = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')"
_EVENTS = {"DEFAULT": ("onSubmit", "on_submit"), "REVIEW": ("onReview", "on_review")}


class BuildError(Exception):
    """A reason the archive cannot become a runnable plugin."""


def unpack(archive: Path, dest: Path, limits: PluginLimits) -> None:
    """Extract ``archive`` into ``dest``, refusing escapes, links and oversized content."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise BuildError(f"The uploaded archive is not a valid zip file: {exc}") from exc
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > limits.max_files:
            raise BuildError(f"The archive holds {len(members)} files, over the limit of "
                             f"{limits.max_files}.")  # fmt: skip
        total = 0
        for member in members:
            path = PurePosixPath(member.filename.replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts or not path.parts:
                raise BuildError(f"Refused archive member {member.filename!r}: its path "
                                 "leaves the plugin folder.")  # fmt: skip
            if (member.external_attr >> 16) & 0o170000 == 0o120000:
                raise BuildError(f"Refused archive member {member.filename!r}: symbolic link.")
            target = dest.joinpath(*path.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, target.open("wb") as out:
                while chunk := src.read(1024 * 1024):
                    total += len(chunk)
                    if total > limits.max_unpacked_bytes:
                        raise BuildError(
                            f"The archive unpacks to more than {limits.max_unpacked_bytes:,} "
                            "bytes (the limit)."
                        )
                    out.write(chunk)


def check_entry_point(src: Path) -> None:
    """``main.py`` must exist, compile, and define ``class PluginHandler`` with a base class."""
    main = src / "main.py"
    if not main.is_file():
        raise BuildError("The plugin has no main.py at the root of its archive.")
    try:
        tree = ast.parse(main.read_text(encoding="utf-8"), "main.py")
    except (SyntaxError, UnicodeDecodeError) as exc:
        raise BuildError(f"main.py does not compile: {exc}") from exc
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "PluginHandler" and node.bases:
            return
    raise BuildError("main.py must define `class PluginHandler(PluginCore)` at top level.")


def label_payload(row: dict[str, Any], reviewed_id: str | None) -> dict[str, Any]:
    """The ``label`` dict a handler gets, shaped as the plugin documentation describes."""
    response = json.loads(row["json_response"] or "{}")
    label: dict[str, Any] = {
        "id": row["id"],
        "labelType": row["label_type"],
        "numberOfAnnotations": _annotations(response),
        "authorId": row["author_id"],
        "modelName": row["model_name"],
        "jsonResponse": response,
        "secondsToLabel": row["seconds_to_label"],
        "isSentBackToQueue": False,
        "search": {"id": reviewed_id} if reviewed_id else {},
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "version": 0,
        "isLatestReviewLabelForUser": row["label_type"] == "REVIEW",
        "isLatestLabelForUser": True,
        "isLatestDefaultLabelForUser": row["label_type"] == "DEFAULT",
        "readPermissionsFromProject": True,
    }
    if row["label_type"] == "REVIEW":
        label["reviewedLabel"] = {"id": reviewed_id}
    return label


def _annotations(response: Any) -> int:
    count = 0
    for job in response.values() if isinstance(response, dict) else ():
        if isinstance(job, dict):
            count += len(job.get("annotations") or []) + len(job.get("categories") or [])
    return count


class PluginService:
    """Builds and runs plugins for one store (see the module docstring)."""

    def __init__(self, store: Store, api_url: str, api_key: str, limits: PluginLimits) -> None:
        self.store, self.api_url, self.api_key, self.limits = store, api_url, api_key, limits
        self.root = store.db.files_dir / "_plugins"
        self._cursor: int | None = None
        self._runs = anyio.Semaphore(limits.concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._building: set[str] = set()

    # -- the loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Poll for builds and labels until cancelled (the lifespan's task)."""
        try:
            while True:
                try:
                    await self.tick()
                except Exception as exc:  # never let one bad row stop the service
                    print(f"aiokili plugin service: {exc!r}", file=sys.stderr)
                await anyio.sleep(self.limits.poll_s)
        finally:
            for task in list(self._tasks):
                task.cancel()

    async def tick(self) -> None:
        for plugin in await in_thread(self.store.plugins.with_status, DEPLOYING):
            self._spawn(self.build(plugin))  # once per upload: see _building
        await self._new_labels()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- builds -----------------------------------------------------------------------------

    async def build(self, plugin: PluginRow) -> None:
        key = f"build:{plugin.id}:{plugin.version}"
        if key in self._building:
            return
        self._building.add(key)
        try:
            errors = await self._build(plugin)
        except Exception as exc:  # a server bug must still end the deploy
            errors = [f"Internal build error: {exc!r}"]
        if errors:
            await self.store.db.run_write(self.store.plugins.add_logs, [
                LogEntry(plugin.name, "build", "ERROR", text) for text in errors])  # fmt: skip
        await self.store.db.run_write(
            self.store.plugins.finish_deploy, plugin.id, plugin.version,
            FAILED if errors else ACTIVE,
        )  # fmt: skip

    def plugin_dir(self, plugin: PluginRow) -> Path:
        return self.root / plugin.id / str(plugin.version)

    async def _build(self, plugin: PluginRow) -> list[str]:
        where = self.plugin_dir(plugin)
        src = where / "src"
        archive = self.store.files.blob(plugin.archive_key or "")
        try:
            await in_thread(shutil.rmtree, where, True)
            src.mkdir(parents=True)
            await in_thread(unpack, archive, src, self.limits)
            await in_thread(check_entry_point, src)
        except BuildError as exc:
            return [str(exc)]
        requirements = src / "requirements.txt"
        if requirements.is_file() and requirements.read_text(encoding="utf-8").strip():
            return await self._pip(requirements, where / "deps")
        return []

    async def _pip(self, requirements: Path, target: Path) -> list[str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
            "--quiet", "--target", str(target), "-r", str(requirements),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            output, _ = await asyncio.wait_for(process.communicate(), self.limits.pip_timeout_s)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            return [f"pip install -r requirements.txt took over {self.limits.pip_timeout_s:g} s."]
        if process.returncode != 0:
            message = output.decode(errors="replace").strip()
            return [f"pip install -r requirements.txt failed (exit {process.returncode}):\n"
                    f"{message}"]  # fmt: skip
        return []

    # -- events -----------------------------------------------------------------------------

    def _read_labels(self) -> list[dict[str, Any]]:
        """Labels appended since the last call (DEFAULT / REVIEW of projects with plugins)."""
        with self.store.db.read() as c:
            top = c.execute("SELECT COALESCE(MAX(seq), 0) FROM labels").fetchone()[0]
            if self._cursor is None or top <= self._cursor:
                self._cursor = top
                return []
            start, self._cursor = self._cursor, top
            cols = ("id, project_id, asset_id, author_id, label_type, json_response, model_name, "
                    "seconds_to_label, created_at, updated_at, seq")  # fmt: skip
            found = c.execute(
                f"SELECT {cols} FROM labels WHERE seq > ? AND seq <= ? AND label_type IN "
                "('DEFAULT', 'REVIEW') AND project_id IN (SELECT project_id FROM plugin_projects)"
                " ORDER BY seq", (start, top)).fetchall()  # fmt: skip
            names = [n.strip() for n in cols.split(",")]
            rows = [dict(zip(names, r, strict=True)) for r in found]
            for row in rows:
                reviewed = None
                if row["label_type"] == "REVIEW":
                    hit = c.execute(
                        "SELECT id FROM labels WHERE asset_id = ? AND label_type = 'DEFAULT' AND "
                        "seq < ? ORDER BY seq DESC LIMIT 1", (row["asset_id"], row["seq"])
                    ).fetchone()  # fmt: skip
                    reviewed = hit[0] if hit else None
                row["reviewed_id"] = reviewed
        return rows

    async def _new_labels(self) -> None:
        rows = await in_thread(self._read_labels)
        if not rows:
            return
        active = await in_thread(
            self.store.plugins.active_on, sorted({r["project_id"] for r in rows})
        )
        for row in rows:
            handler_type, method = _EVENTS[row["label_type"]]
            for plugin in active.get(row["project_id"], []):
                if handler_type not in plugin.handler_types:
                    continue
                label = label_payload(row, row["reviewed_id"])
                if plugin.webhook_url is not None:
                    self._spawn(self.post_webhook(plugin, handler_type, row, label))
                else:
                    self._spawn(self.run_plugin(plugin, method, row, label))

    def _entries(
        self, plugin: PluginRow, row: dict[str, Any], run_id: str, lines: list[tuple[str, str]]
    ) -> list[LogEntry]:
        return [LogEntry(plugin.name, "run", level, content, row["project_id"], run_id,
                         row["asset_id"], row["id"], now()) for level, content in lines]  # fmt: skip

    async def run_plugin(
        self, plugin: PluginRow, method: str, row: dict[str, Any], label: dict[str, Any]
    ) -> None:
        """One run in its own process; its output, errors and kills become log entries."""
        run_id = new_id()
        async with self._runs:
            lines = await self._run_process(plugin, method, row, label)
        await self.store.db.run_write(
            self.store.plugins.add_logs, self._entries(plugin, row, run_id, lines)
        )

    async def _run_process(
        self, plugin: PluginRow, method: str, row: dict[str, Any], label: dict[str, Any]
    ) -> list[tuple[str, str]]:
        where = self.plugin_dir(plugin)
        deps = where / "deps"
        path = [str(deps)] if deps.is_dir() else []
        inherited = os.environ.get("PYTHONPATH")
        env = {**os.environ, "KILI_API_ENDPOINT": self.api_url, "KILI_API_KEY": self.api_key,
               "PYTHONPATH": os.pathsep.join([*path, *([inherited] if inherited else [])]),
               "PYTHONUNBUFFERED": "1",
               # RLIMIT_AS counts address space: glibc's per-thread 64 MiB malloc arenas
               # would eat the cap of a run that starts a few threads (HTTP, DNS)
               "MALLOC_ARENA_MAX": "2"}  # fmt: skip
        job = {"method": method, "label": label, "assetId": row["asset_id"],
               "projectId": row["project_id"], "memoryMb": self.limits.memory_mb,
               "pluginName": plugin.name}  # fmt: skip
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CHILD_BOOT, str(_CHILD), str(where / "src"),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, cwd=str(where / "src"),
            start_new_session=True,
        )  # fmt: skip
        # output is read as it comes, so what a killed run printed is kept
        readers = [asyncio.ensure_future(_read_all(s)) for s in (process.stdout, process.stderr)]
        assert process.stdin is not None
        process.stdin.write(json.dumps(job).encode())
        process.stdin.close()
        killed = False
        try:
            await asyncio.wait_for(process.wait(), self.limits.timeout_s)
        except asyncio.TimeoutError:
            killed = True
            _kill_group(process)
            await process.wait()
        except BaseException:  # the server stops: no run outlives it
            _kill_group(process)
            raise
        out, err = await asyncio.gather(*readers)
        lines = _parse(out.decode(errors="replace"))
        if err.strip():
            lines.append(("ERROR", err.decode(errors="replace").strip()))
        if killed:
            lines.append(("ERROR", f"Run killed: over the time limit of "
                          f"{self.limits.timeout_s:g} s."))  # fmt: skip
        elif process.returncode == 3:
            lines.append(("ERROR", f"Run killed: over the memory limit of "
                          f"{self.limits.memory_mb} MB."))  # fmt: skip
        elif process.returncode not in (0, 1):
            lines.append(("ERROR", f"Run ended with exit code {process.returncode}."))
        took = time.monotonic() - started
        ok = process.returncode == 0 and not killed
        outcome = "finished" if ok else f"failed (exit code {process.returncode})"
        lines.append(("INFO" if ok else "ERROR", f"Run {method} {outcome} in {took:.2f} s."))
        return lines

    async def post_webhook(
        self, plugin: PluginRow, event: str, row: dict[str, Any], label: dict[str, Any]
    ) -> None:
        """POST the event to the webhook (bounded retries); the outcome is logged like a run."""
        run_id = new_id()
        body = {"eventType": event, "logPayload": {"runId": run_id, "projectId": row["project_id"]},
                "payload": {"label": label, "asset_id": row["asset_id"]}}  # fmt: skip
        headers = {"Authorization": plugin.webhook_header} if plugin.webhook_header else {}
        url = plugin.webhook_url or ""
        policy = RetryPolicy(self.limits.webhook_retries, self.limits.webhook_timeout_s)
        outcome: tuple[str, str]
        async with httpx.AsyncClient(timeout=self.limits.webhook_timeout_s) as http:
            try:
                # deliveries are at least once: a 5xx or a lost answer is sent again
                response = await policy.send(
                    lambda: http.post(url, json=body, headers=headers),
                    idempotent=True, what=f"webhook {url}",
                )  # fmt: skip
            except APIError as exc:
                outcome = ("ERROR", f"Webhook {event} to {url} failed: {exc}")
            else:
                code = response.status_code
                outcome = (
                    ("INFO", f"Webhook {event} delivered to {url} (HTTP {code}).")
                    if code < 400
                    else ("ERROR", f"Webhook {event} to {url} answered HTTP {code}.")
                )
        await self.store.db.run_write(
            self.store.plugins.add_logs, self._entries(plugin, row, run_id, [outcome])
        )


def _kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGKILL the run and whatever it started (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def _read_all(stream: asyncio.StreamReader | None) -> bytes:
    chunks = []
    while stream is not None and (chunk := await stream.read(65536)):
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(out: str) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for line in out.splitlines():
        try:
            item = json.loads(line)
            lines.append((str(item["level"]), str(item["content"])))
        except (ValueError, KeyError, TypeError):
            if line.strip():
                lines.append(("INFO", line))
    return lines
