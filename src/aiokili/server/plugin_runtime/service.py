"""The plugin service: builds uploaded plugins and runs them on events, off the request path.

Started by the app's lifespan (:meth:`PluginService.run`), it polls every ``poll_s``
seconds, with cheap indexed reads:

* plugins in status ``DEPLOYING`` (set by ``createPluginRunner`` / ``updatePluginRunner``):
  built by :class:`~.build.Builder`; then ``ACTIVE``, or ``FAILED`` with build errors.
* labels appended since the last poll, on projects that have plugins: a ``DEFAULT`` label is
  an ``onSubmit`` event, a ``REVIEW`` label an ``onReview`` one (``label["reviewedLabel"]``
  is the label it reviews);
* the event outbox (:mod:`.events`): an asset sent back to the queue is an
  ``onSendBackToQueue`` event (``on_send_back_to_queue(asset_id)``).

Plugins registered with an ``eventMatcher`` (``on_event`` / ``@on_kili_event`` plugins of
the official SDK) get the ``label.workflow.created.<type>`` events the patterns match
(``*`` matches anything), as ``{event, organizationId, projectId, userId, payload}``.

Each active plugin of the event's project that handles it runs in its own subprocess
(:mod:`.process`) under the memory and time limits, at most ``concurrency`` at once;
webhooks get a POST. Everything a run says becomes log entries as it says it. Events are
read ``BATCH`` at a time and not at all while ``BACKLOG`` deliveries wait: a burst of
100,000 labels is worked through in order, in constant memory.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import httpx
from anyio.abc import TaskGroup

from ..._core.http import RetryPolicy
from ...errors import APIError
from ..errors import logger
from ..live import events
from ..settings import PluginLimits
from ..store.db import in_thread, new_id, now
from ..store.plugins import ACTIVE, DEPLOYING, FAILED, Activation, LogEntry, PluginRow
from .build import Builder
from .confine import Containment
from .identity import Identities
from .process import Line, Zygote, run_handler
from .progress import Progress

if TYPE_CHECKING:
    from ..store import Store

_HANDLERS = {"DEFAULT": ("onSubmit", "on_submit"), "REVIEW": ("onReview", "on_review")}
_SENT_BACK = ("onSendBackToQueue", "on_send_back_to_queue")
SERVICE_LOCK = 0x616B_696C_6970  # one plugin service per database ("akilip")
LEAD_RETRY_S = 2.0  # how often a waiting worker tries to take the service over
BATCH = 256  # labels (and outbox events) read per poll
BACKLOG = 512  # deliveries waiting or running past which no more events are read
_LABEL_COLUMNS = (
    "id, project_id, asset_id, author_id, label_type, json_response, model_name, "
    "seconds_to_label, created_at, updated_at, seq"
)


@dataclass(frozen=True)
class Event:
    """Something that happened on a project, and how each kind of plugin receives it."""

    project_id: str
    asset_id: str
    label_id: str | None
    handler: tuple[str, str] | None  # (handler type, method) of on_* plugins, if any
    label: dict[str, Any] | None  # what on_submit / on_review get
    subject: str | None  # the kili event subject for eventMatcher plugins, if any
    user_id: str | None = None
    external_id: str | None = None
    label_seq: int = 0  # the label's sequence number, or
    event_seq: int = 0  # the outbox event's

    @property
    def position(self) -> tuple[str, int]:
        """Its kind and sequence number (``progress.py``)."""
        return ("labels", self.label_seq) if self.label_seq else ("events", self.event_seq)

    def after(self, activation: Activation) -> bool:
        """Whether it happened after the plugin was activated on the project."""
        if self.label_seq:
            return self.label_seq > activation.label_seq
        return self.event_seq > activation.event_seq


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
        files_dir = store.db.files_dir
        protected = [files_dir, *([Path(store.db.path)] if store.db.path else [])]
        self.containment = Containment.detect(limits, protected)
        self.builder = Builder(files_dir / "_plugins", limits, self.containment)
        self.identities = Identities(store)
        self.progress = Progress(store.db)  # how far deliveries went, kept in the database
        self._runs = anyio.Semaphore(limits.concurrency)
        self._group: TaskGroup | None = None  # builds and deliveries, inside the lifespan's
        self._pending = 0  # of them, started and not finished
        self._http: httpx.AsyncClient | None = None  # every webhook delivery's connections
        self._building: set[str] = set()
        self._leader = False
        self._next_try = 0.0
        self.zygote = Zygote() if limits.warm_start else None

    # -- the loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Poll for builds and events until cancelled (the lifespan's task); builds and
        deliveries run in a task group of its own, inside the lifespan's: cancelled with it,
        never detached."""
        webhooks = httpx.AsyncClient(timeout=self.limits.webhook_timeout_s)
        try:
            async with webhooks as self._http, anyio.create_task_group() as self._group:
                while True:
                    try:
                        await self.tick()
                    except Exception:  # never let one bad row stop the service
                        logger.exception("plugin service: a poll failed")
                    await anyio.sleep(self.limits.poll_s)
        finally:
            self._group = self._http = None
            if self.zygote is not None:
                self.zygote.stop()
            self.containment.close()

    async def tick(self) -> None:
        if not await self._leading():
            return
        if not self.progress.loaded:
            self._spawn(self.builder.prepare())  # the shared packages, before any build
            await self.store.db.run_write(self._load_progress)
        for plugin in await in_thread(self.store.plugins.with_status, DEPLOYING):
            self._spawn(self.build(plugin))  # once per upload: see _building
        if self._pending >= BACKLOG:
            return  # runs are behind: read more events once they catch up
        found, consumed = await in_thread(self._read_events)
        if found:
            await self._dispatch(found)
        await self.store.db.run_write(self.progress.save)
        if consumed:  # outbox events delivered (the stored cursor) are no longer needed
            await self.store.db.run_write(
                self._prune, min(consumed, self.progress.cursor("events"))
            )

    async def _leading(self) -> bool:
        """Whether this process runs the service: one per database; the other workers try
        every ``LEAD_RETRY_S`` and one takes over when it stops (the progress resumes)."""
        if not self._leader and anyio.current_time() < self._next_try:
            return False
        self._next_try = anyio.current_time() + LEAD_RETRY_S
        leading = await in_thread(self.store.db.lead, SERVICE_LOCK)  # held: one small read
        if self._leader and not leading:  # lost (the database restarted): another may lead
            logger.warning("plugin service: lost its lock; resuming once it is held again")
            self.progress.retire()  # runs in flight store nothing: the next leader decides
            self.progress = Progress(self.store.db)  # read again from the database then
        self._leader = leading
        return leading

    def _load_progress(self) -> None:
        with self.store.db.read() as c:
            top = c.execute("SELECT COALESCE(MAX(seq), 0) FROM labels").fetchone()[0]
            self.progress.load({"labels": int(top), "events": events.last(c)})

    def _prune(self, seq: int) -> None:
        with self.store.db.write() as c:
            events.prune(c, seq)

    def _spawn(self, coro: Any) -> None:
        """Run ``coro`` in the service's task group; its failure is logged, goes no further."""

        async def run() -> None:
            try:
                await coro
            except Exception:
                logger.exception("plugin service: %s failed", getattr(coro, "__name__", coro))
            finally:
                self._pending -= 1

        assert self._group is not None, "the service is not running"
        self._pending += 1
        self._group.start_soon(run)

    # -- builds -----------------------------------------------------------------------------

    async def build(self, plugin: PluginRow) -> None:
        key = f"build:{plugin.id}:{plugin.version}"
        if key in self._building:
            return
        self._building.add(key)
        archive = self.store.files.blob(plugin.archive_key or "")
        try:
            errors = await self.builder.build(plugin.id, plugin.version, archive)
        except Exception as exc:  # a server bug must still end the deploy
            errors = [f"Internal build error: {exc!r}"]
        if errors:
            await self.store.db.run_write(
                self.store.plugins.add_logs,
                [LogEntry(plugin.name, "build", "ERROR", text) for text in errors],
            )
        await self.store.db.run_write(
            self.store.plugins.finish_deploy,
            plugin.id,
            plugin.version,
            FAILED if errors else ACTIVE,
        )
        if not errors:  # older versions are no longer run
            for old in self.builder.folder(plugin.id, 0).parent.glob("*"):
                if old.name.isdigit() and int(old.name) < plugin.version:
                    await in_thread(shutil.rmtree, old, True)

    # -- events -----------------------------------------------------------------------------

    def _read_events(self) -> tuple[list[Event], int]:
        """Labels appended and outbox events recorded since the last call; the last outbox
        event read (0: none)."""
        read = self.progress.read
        with self.store.db.read() as c:
            top = c.execute("SELECT COALESCE(MAX(seq), 0) FROM labels").fetchone()[0]
            last_event = events.last(c)
            found, label_cursor = self._labels_since(c, read["labels"], top)
            outbox = events.since(c, read["events"], last_event, BATCH)
            found += [
                Event(project, asset, None, _SENT_BACK, None, None, event_seq=seq)
                for seq, kind, project, asset, _ in outbox
                if kind == events.SENT_BACK
            ]
        consumed = outbox[-1][0] if outbox else 0
        read["labels"] = label_cursor
        read["events"] = consumed or read["events"]
        done = self.progress.skip  # delivered before a restart or a takeover
        return [e for e in found if not done(*e.position)], consumed

    def _labels_since(self, c: Any, start: int, top: int) -> tuple[list[Event], int]:
        """The events of at most ``BATCH`` labels after ``start``, and the new cursor."""
        if top <= start:
            return [], start
        found = c.execute(
            f"SELECT {_LABEL_COLUMNS}, (SELECT external_id FROM assets WHERE id = asset_id) "
            "FROM labels WHERE seq > ? AND seq <= ? AND project_id IN "
            "(SELECT project_id FROM plugin_projects) ORDER BY seq LIMIT ?",
            (start, top, BATCH),
        ).fetchall()
        cursor = found[-1][-2] if len(found) == BATCH else top
        names = [n.strip() for n in _LABEL_COLUMNS.split(",")] + ["external_id"]
        out = []
        for values in found:
            row = dict(zip(names, values, strict=True))
            reviewed = None
            if row["label_type"] == "REVIEW":
                hit = c.execute(
                    "SELECT id FROM labels WHERE asset_id = ? AND label_type = 'DEFAULT' AND "
                    "seq < ? ORDER BY seq DESC LIMIT 1",
                    (row["asset_id"], row["seq"]),
                ).fetchone()
                reviewed = hit[0] if hit else None
            handler = _HANDLERS.get(row["label_type"])
            out.append(
                Event(
                    project_id=row["project_id"],
                    asset_id=row["asset_id"],
                    label_id=row["id"],
                    handler=handler,
                    label=label_payload(row, reviewed) if handler else None,
                    subject=f"label.workflow.created.{str(row['label_type']).lower()}",
                    user_id=row["author_id"],
                    external_id=row["external_id"],
                    label_seq=row["seq"],
                )
            )
        return out, cursor

    async def _dispatch(self, found: list[Event]) -> None:
        active = await in_thread(
            self.store.plugins.active_on, sorted({e.project_id for e in found})
        )
        for event in found:
            for activation in active.get(event.project_id, []):
                plugin = activation.plugin
                if not event.after(activation):
                    continue
                if plugin.event_matcher:
                    if event.subject and any(
                        fnmatch.fnmatchcase(event.subject, p) for p in plugin.event_matcher
                    ):
                        self._deliver(plugin, event, "on_event", event.subject)
                elif event.handler and event.handler[0] in plugin.handler_types:
                    self._deliver(plugin, event, event.handler[1], event.handler[0])

    def _deliver(self, plugin: PluginRow, event: Event, method: str, name: str) -> None:
        """Start one delivery. The progress is stored with its last log lines (one
        transaction): a delivery that ended is never done again; one cut short (the server
        stopped or died) is done again by the next service."""
        progress = self.progress
        progress.started(*event.position)
        ended = False

        async def end(entries: list[LogEntry]) -> None:
            nonlocal ended
            ended = True
            progress.finished(*event.position)
            await self.store.db.run_write(self.store.plugins.add_logs, entries, progress.store)

        async def delivery() -> None:
            try:
                await self.deliver(plugin, event, method, name, end)
            except anyio.get_cancelled_exc_class():
                raise  # cut short: delivered again by the next service
            except Exception:
                if not ended:  # a server bug: logged by _spawn, not retried for ever
                    progress.finished(*event.position)
                raise

        self._spawn(delivery())

    async def deliver(
        self,
        plugin: PluginRow,
        event: Event,
        method: str,
        name: str,
        end: Callable[[list[LogEntry]], Awaitable[None]] | None = None,
    ) -> None:
        """Run the plugin (or POST to the webhook) for one event; log what happens (the last
        lines through ``end``, when given)."""
        run_id = new_id()

        def entries_of(lines: list[Line]) -> list[LogEntry]:
            return [
                LogEntry(
                    plugin_name=plugin.name,
                    kind="run",
                    log_type=level,
                    content=content,
                    project_id=event.project_id,
                    run_id=run_id,
                    asset_id=event.asset_id,
                    label_id=event.label_id,
                    created_at=at,
                )
                for level, content, at in lines
            ]

        async def sink(lines: list[Line]) -> None:
            await self.store.db.run_write(self.store.plugins.add_logs, entries_of(lines))

        async def last(lines: list[Line]) -> None:
            await (sink(lines) if end is None else end(entries_of(lines)))

        if plugin.webhook_url is not None:
            await self.post_webhook(plugin, name, event, run_id, last)
            return
        job = {
            "method": method,
            "label": event.label,
            "assetId": event.asset_id,
            "projectId": event.project_id,
            "pluginName": plugin.name,
            "event": self._kili_event(plugin, event),
        }
        src = self.builder.folder(plugin.id, plugin.version) / "src"
        path = self.builder.import_path(plugin.id, plugin.version)
        async with self._runs:
            # the run's whole environment: the endpoint and a key of the plugin's own
            # identity, valid while the run lasts (identity.py); never the server's
            key = await self.identities.grant(plugin, self.limits.timeout_s)
            env = {"KILI_API_ENDPOINT": self.api_url, "KILI_API_KEY": key}
            box = self.containment.box("run")
            try:
                await run_handler(
                    src, path, job, env, self.limits, sink, self.zygote, box=box, final=last
                )
            finally:
                box.close_now()  # already closed by the run, unless it could not start
                with anyio.CancelScope(shield=True):  # the server stops: revoked all the same
                    await self.identities.revoke(key)

    @staticmethod
    def _kili_event(plugin: PluginRow, event: Event) -> dict[str, Any] | None:
        """The event as ``on_event`` gets it (kili-events' wire shape, camelCase)."""
        if event.subject is None or event.label_id is None:
            return None
        return {
            "event": event.subject,
            "organizationId": plugin.organization_id,
            "projectId": event.project_id,
            "userId": event.user_id,
            "payload": {
                "assetId": event.asset_id,
                "labelId": event.label_id,
                "externalId": event.external_id,
            },
        }

    async def post_webhook(
        self, plugin: PluginRow, name: str, event: Event, run_id: str, sink: Any
    ) -> None:
        """POST the event (retried by the core's policy); the outcome is logged like a run."""
        body = {
            "eventType": name,
            "logPayload": {"runId": run_id, "projectId": event.project_id},
            "payload": {"label": event.label, "asset_id": event.asset_id},
        }
        headers = {"Authorization": plugin.webhook_header} if plugin.webhook_header else {}
        url = plugin.webhook_url or ""
        policy = RetryPolicy(self.limits.webhook_retries, self.limits.webhook_timeout_s)
        http = self._http  # one client (and its connections) for every delivery
        assert http is not None, "the service is not running"
        try:
            # deliveries are at least once: a 5xx or a lost answer is sent again
            response = await policy.send(
                lambda: http.post(url, json=body, headers=headers),
                idempotent=True,
                what=f"webhook {url}",
            )
        except APIError as exc:
            outcome = ("ERROR", f"Webhook {name} to {url} failed: {exc}")
        else:
            code = response.status_code
            outcome = (
                ("INFO", f"Webhook {name} delivered to {url} (HTTP {code}).")
                if code < 400
                else ("ERROR", f"Webhook {name} to {url} answered HTTP {code}.")
            )
        await sink([(*outcome, now())])
