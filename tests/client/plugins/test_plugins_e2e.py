"""Plugins and webhooks end to end: the aiokili SDK against the REAL local server (issue 7).

Every test goes through ``AsyncKili`` (``upload_plugin``, ``activate_plugin_on_project``,
``append_labels``, ``get_plugin_logs``...) and asserts what a user sees: the plugin's effect
on the project, its typed log entries, the errors raised. The server builds and runs the
plugins for real (a subprocess per run, under the memory and time limits).

Waits poll with generous deadlines; plugin names are unique within the test session's
server (``kili_server``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
import pytest
from plugin_support import contents, of_label, run_over, wait_logs, write_files
from support import answer, import_images, new_project

import aiokili
from aiokili.plugins import Plugin, PluginLog
from aiokili.server import LocalServer
from aiokili.server.plugin_runtime import service

pytestmark = pytest.mark.anyio

DEADLINE = 60.0
"""Seconds any wait may take before the test fails (runs take well under a second)."""
RUN_TIMEOUT_S = 3.0
"""The time limit of the ``slow_server``'s plugin runs."""

Entries = list[PluginLog]
T = TypeVar("T")


# ----------------------------------------------------------------------------- fixtures


# The tests use aiokili's pytest plugin: ``kili`` on the session's ``kili_server``, which has
# the platform's limits (512 MB, 60 s per run).


@pytest.fixture
def slow_server() -> Iterator[LocalServer]:
    """A server whose plugin runs are killed after ``RUN_TIMEOUT_S`` seconds."""
    with LocalServer(plugin_timeout_s=RUN_TIMEOUT_S) as srv:
        yield srv


def client_of(server: LocalServer) -> aiokili.AsyncKili:
    return aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url)


# ----------------------------------------------------------------------------- helpers


def plugin_file(tmp_path: Path, name: str, body: str) -> Path:
    """The file ``name`` holding a PluginHandler whose class body is ``body``; uploaded, the
    plugin is named after the file (``rule.py``), as with the official SDK."""
    source = "from aiokili.plugins import PluginCore\n\n\nclass PluginHandler(PluginCore):\n"
    return write_files(tmp_path, {name: source + body}) / name


async def project_with_assets(kili: aiokili.AsyncKili, n: int = 1) -> tuple[str, list[str]]:
    project_id = await new_project(kili)
    return project_id, await import_images(kili, project_id, n)


async def submit(
    kili: aiokili.AsyncKili, asset_id: str, category: str, label_type: str = "DEFAULT"
) -> str:
    """Append one label through the SDK; its id."""
    (label_id,) = await kili.append_labels(
        asset_id_array=[asset_id],
        json_response_array=[answer(category)],
        label_type=label_type,  # type: ignore[arg-type]
    )
    return str(label_id)


async def all_logs(kili: aiokili.AsyncKili, project_id: str, name: str) -> Entries:
    return await kili.get_plugin_logs(project_id, name, limit=10_000)


async def poll(probe: Callable[[], Awaitable[T]], until: Callable[[T], bool]) -> T:
    """Call ``probe`` until ``until(value)``; fail with the last value after ``DEADLINE``."""
    deadline = time.monotonic() + DEADLINE
    while True:
        value = await probe()
        if until(value):
            return value
        assert time.monotonic() < deadline, value
        await anyio.sleep(0.05)


# ----------------------------------------------------------------------------- acceptance

GATEKEEPER_MAIN = """
from aiokili.plugins import PluginCore

from helpers.rules import why_rejected


class PluginHandler(PluginCore):
    async def on_submit(self, label, asset_id):
        reason = why_rejected(label["jsonResponse"])
        if reason is None:
            self.logger.info(f"{asset_id} accepted")
            return
        self.logger.warning(f"{asset_id} sent back to the queue: {reason}")
        await self.kili.send_back_to_queue(asset_ids=[asset_id])

    async def on_review(self, label, asset_id):
        self.logger.info(f"review {label['id']} of {label['reviewedLabel']['id']}")

    def on_send_back_to_queue(self, asset_id):
        self.logger.info(f"{asset_id} is back in the queue")
"""
GATEKEEPER_RULES = """
def why_rejected(response):
    names = [c["name"] for c in response.get("JOB", {}).get("categories", [])]
    return None if names == ["A"] else f"category {names} is not A"
"""


async def test_acceptance_a_folder_plugin_sends_back_the_asset_failing_its_rule(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    folder = write_files(
        tmp_path / "gatekeeper",
        {
            "main.py": GATEKEEPER_MAIN,
            "helpers/__init__.py": "",
            "helpers/rules.py": GATEKEEPER_RULES,
        },
    )
    assert await kili.upload_plugin(folder) == "Plugin created successfully"
    assert await kili.get_plugin_status("gatekeeper") == "ACTIVE"  # no waiting left to do
    (listed,) = [p for p in await kili.list_plugins() if p.name == "gatekeeper"]
    assert listed.project_ids == []

    project_id, (good, bad) = await project_with_assets(kili, 2)
    result = await kili.activate_plugin_on_project("gatekeeper", project_id)
    assert result is not None and "gatekeeper" in result
    (listed,) = [p for p in await kili.list_plugins() if p.name == "gatekeeper"]
    assert listed.project_ids == [project_id]

    good_label, bad_label = await kili.append_labels(
        asset_id_array=[good, bad], json_response_array=[answer("A"), answer("B")]
    )
    entries = await wait_logs(
        kili, project_id, "gatekeeper",
        lambda es: run_over(good_label)(es) and run_over(bad_label)(es),
    )  # fmt: skip

    # the rule failed on `bad`: back to the queue; `good` keeps its status
    assert (await kili.get_asset(bad)).status == aiokili.Status.ONGOING
    assert (await kili.get_asset(good)).status == aiokili.Status.LABELED
    statuses = {a.id: a.status for a in await kili.assets(project_id)}
    assert statuses == {good: aiokili.Status.LABELED, bad: aiokili.Status.ONGOING}

    # the run's entries: typed, with the run, project, asset and label, at their level
    run = of_label(entries, bad_label)
    assert all(isinstance(e, PluginLog) for e in run)
    assert [(e.log_type, e.content) for e in run][0] == (
        "WARNING", f"{bad} sent back to the queue: category ['B'] is not A",
    )  # fmt: skip
    assert run[-1].log_type == "INFO" and (run[-1].content or "").startswith(
        "Run on_submit finished in "
    )
    assert len({e.run_id for e in run}) == 1 and run[0].run_id
    for entry in run:
        assert entry.project_id == project_id and entry.plugin_name == "gatekeeper"
        assert (entry.asset_id, entry.label_id, entry.run_id) == (bad, bad_label, run[0].run_id)
        assert entry.metadata and entry.metadata.asset_id == bad  # where the API puts them
        dumped = entry.model_dump(by_alias=True)  # in dumps too (the CLI's --json)
        assert (dumped["assetId"], dumped["labelId"]) == (bad, bad_label)
        assert entry.created_at and entry.created_at.tzinfo is not None
        assert abs((datetime.now(timezone.utc) - entry.created_at).total_seconds()) < 600
    accepted = of_label(entries, good_label)
    assert contents(accepted)[0] == f"{good} accepted"
    assert accepted[0].run_id != run[0].run_id  # one run per label

    # sending it back is itself an event: on_send_back_to_queue(asset_id) runs
    entries = await poll(
        lambda: all_logs(kili, project_id, "gatekeeper"),
        lambda es: any(e.content == f"{bad} is back in the queue" for e in es),
    )
    (back,) = [e for e in entries if e.content == f"{bad} is back in the queue"]
    assert back.metadata and back.metadata.asset_id == bad and back.metadata.label_id is None
    assert (back.asset_id, back.label_id) == (bad, None)
    assert back.run_id and back.run_id != run[0].run_id  # a run of its own

    # a review: on_review gets the reviewed label's id
    review_label = await submit(kili, good, "A", "REVIEW")
    entries = await wait_logs(kili, project_id, "gatekeeper", run_over(review_label, "on_review"))
    assert contents(of_label(entries, review_label))[0] == f"review {review_label} of {good_label}"


async def test_upload_verbose_logs_the_deployment_and_quiet_does_not(
    kili: aiokili.AsyncKili, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = plugin_file(
        tmp_path, "chatty.py", "    def on_submit(self, label, asset_id):\n        pass\n"
    )
    with caplog.at_level(logging.INFO, "aiokili.plugins"):
        await kili.upload_plugin(path)
        messages = [r.getMessage() for r in caplog.records if r.name == "aiokili.plugins"]
        assert messages[-1] == 'Plugin "chatty.py" is active.'
        assert any("uploaded" in m for m in messages)
        caplog.clear()
        assert await kili.update_plugin(path, "chatty.py", verbose=False) == (
            "Plugin updated successfully"
        )
        assert not [r for r in caplog.records if r.name == "aiokili.plugins"]


# ----------------------------------------------------------------------------- lifecycle

PRINT_VERSION = "    def on_submit(self, label, asset_id):\n        print('{version}')\n"


async def test_update_plugin_changes_what_the_next_run_does(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    v1 = plugin_file(tmp_path / "v1", "versioned.py", PRINT_VERSION.format(version="v1"))
    v2 = plugin_file(tmp_path / "v2", "versioned.py", PRINT_VERSION.format(version="v2"))
    await kili.upload_plugin(v1)
    project_id, (asset_id,) = await project_with_assets(kili)
    await kili.activate_plugin_on_project("versioned.py", project_id)
    first = await submit(kili, asset_id, "A")
    entries = await wait_logs(kili, project_id, "versioned.py", run_over(first))
    assert contents(of_label(entries, first))[0] == "v1"
    since = datetime.now(timezone.utc)

    assert await kili.update_plugin(v2, "versioned.py") == "Plugin updated successfully"
    assert await kili.get_plugin_status("versioned.py") == "ACTIVE"
    second = await submit(kili, asset_id, "B")
    entries = await wait_logs(kili, project_id, "versioned.py", run_over(second))
    assert contents(of_label(entries, second))[0] == "v2"
    # still active on the project after the update; start_date keeps the new run only
    later = await kili.get_plugin_logs(project_id, "versioned.py", start_date=since)
    assert {e.metadata.label_id for e in later if e.metadata} == {second}
    naive = since.replace(tzinfo=None)  # a naive start_date is UTC
    assert await kili.get_plugin_logs(project_id, "versioned.py", start_date=naive) == later


async def test_deactivate_stops_runs_on_that_project_only(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    body = "    def on_submit(self, label, asset_id):\n        print(f'ran on {asset_id}')\n"
    await kili.upload_plugin(plugin_file(tmp_path, "two_projects.py", body))
    await kili.upload_plugin(plugin_file(tmp_path, "witness.py", body))
    p1, (a1,) = await project_with_assets(kili)
    p2, (a2,) = await project_with_assets(kili)
    for project_id in (p1, p2):
        await kili.activate_plugin_on_project("two_projects.py", project_id)
    await kili.activate_plugin_on_project("witness.py", p1)
    result = await kili.deactivate_plugin_on_project("two_projects.py", p1)
    assert result is not None and "two_projects.py" in result
    (listed,) = [p for p in await kili.list_plugins() if p.name == "two_projects.py"]
    assert listed.project_ids == [p2]

    l1 = await submit(kili, a1, "A")
    l2 = await submit(kili, a2, "A")
    on_p2 = await wait_logs(kili, p2, "two_projects.py", run_over(l2))
    assert contents(of_label(on_p2, l2))[0] == f"ran on {a2}"  # still runs on p2
    await wait_logs(kili, p1, "witness.py", run_over(l1))  # p1's label was seen and run...
    # ...and a later one too: runs start in the order of their events, so once the witness's
    # run for this later label is over, a run of the deactivated plugin for l1 would be logged.
    later = await submit(kili, a1, "B")
    await wait_logs(kili, p1, "witness.py", run_over(later))
    assert await all_logs(kili, p1, "two_projects.py") == []  # ...but not by the deactivated one


async def test_delete_plugin_removes_it_and_later_calls_name_it(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    await kili.upload_plugin(plugin_file(tmp_path, "doomed.py", PRINT_VERSION.format(version="x")))
    project_id, _ = await project_with_assets(kili)
    await kili.activate_plugin_on_project("doomed.py", project_id)
    result = await kili.delete_plugin("doomed.py")
    assert result is not None and "doomed.py" in result
    assert "doomed.py" not in [p.name for p in await kili.list_plugins()]
    with pytest.raises(aiokili.NotFoundError, match=r"doomed\.py"):
        await kili.activate_plugin_on_project("doomed.py", project_id)
    with pytest.raises(aiokili.NotFoundError, match=r"doomed\.py"):
        await kili.get_plugin_status("doomed.py")
    # the name is free again
    await kili.upload_plugin(plugin_file(tmp_path, "doomed.py", PRINT_VERSION.format(version="y")))
    assert await kili.get_plugin_status("doomed.py") == "ACTIVE"


async def test_list_plugins_default_and_selected_fields(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    await kili.upload_plugin(plugin_file(tmp_path, "listed.py", PRINT_VERSION.format(version="x")))
    (full,) = [p for p in await kili.list_plugins() if p.name == "listed.py"]
    assert isinstance(full, Plugin)
    assert full.id and full.project_ids == [] and full.created_at and full.updated_at
    narrow = await kili.list_plugins(fields=["name"])
    assert "listed.py" in [p.name for p in narrow]
    assert all(p.model_fields_set == {"id", "name"} for p in narrow)
    with pytest.raises(AttributeError, match="add 'projectIds' to fields="):
        _ = narrow[0].project_ids


async def test_uploading_an_existing_name_points_to_update_plugin(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    first = plugin_file(tmp_path / "a", "taken.py", PRINT_VERSION.format(version="first"))
    second = plugin_file(tmp_path / "b", "taken.py", PRINT_VERSION.format(version="second"))
    await kili.upload_plugin(first)
    with pytest.raises(aiokili.KiliInputError) as caught:
        await kili.upload_plugin(second)
    message = str(caught.value)
    assert "kili.update_plugin(" in message and 'plugin_name="taken.py"' in message
    assert isinstance(caught.value.__cause__, aiokili.GraphQLError)
    # the existing plugin is untouched: the first code still runs
    assert [p.name for p in await kili.list_plugins()].count("taken.py") == 1
    project_id, (asset_id,) = await project_with_assets(kili)
    await kili.activate_plugin_on_project("taken.py", project_id)
    label_id = await submit(kili, asset_id, "A")
    entries = await wait_logs(kili, project_id, "taken.py", run_over(label_id))
    assert contents(of_label(entries, label_id))[0] == "first"


async def test_handler_types_come_from_the_methods_defined(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    """A plugin defining only on_review is not run on submits."""
    body = "    def on_review(self, label, asset_id):\n        print('reviewed')\n"
    await kili.upload_plugin(plugin_file(tmp_path, "reviewer.py", body))
    project_id, (asset_id,) = await project_with_assets(kili)
    await kili.activate_plugin_on_project("reviewer.py", project_id)
    submitted = await submit(kili, asset_id, "A")
    reviewed = await submit(kili, asset_id, "A", "REVIEW")
    entries = await wait_logs(kili, project_id, "reviewer.py", run_over(reviewed, "on_review"))
    assert contents(of_label(entries, reviewed))[0] == "reviewed"
    assert of_label(entries, submitted) == []


# ----------------------------------------------------------------------------- failures


async def test_a_build_failure_raises_with_pips_message(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    folder = write_files(
        tmp_path / "badreq",
        {
            "main.py": "from aiokili.plugins import PluginCore\n\n\nclass PluginHandler"
            "(PluginCore):\n    def on_submit(self, label, asset_id):\n        pass\n",
            "requirements.txt": "this is not a requirement ==\n",
        },
    )
    with pytest.raises(aiokili.PluginBuildError, match="Invalid requirement") as caught:
        await kili.upload_plugin(folder)
    assert caught.value.plugin_name == "badreq"
    assert any("Invalid requirement" in (e.content or "") for e in caught.value.errors)
    assert all(isinstance(e, PluginLog) and e.log_type == "ERROR" for e in caught.value.errors)
    assert await kili.get_plugin_status("badreq") == "FAILED"
    errors = await kili.get_plugin_build_errors("badreq")
    assert contents(errors) == contents(caught.value.errors)
    assert all(e.asset_id is None and e.label_id is None and e.run_id is None for e in errors)
    assert errors[0].plugin_name == "badreq"


async def test_a_plugin_over_the_memory_limit_is_killed(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    body = (
        "    def on_submit(self, label, asset_id):\n"
        "        print('allocating')\n"
        "        hoard = bytearray(2 * 1024 ** 3)\n"
        "        print(len(hoard))\n"
    )
    await kili.upload_plugin(plugin_file(tmp_path, "hungry.py", body))
    project_id, (asset_id,) = await project_with_assets(kili)
    await kili.activate_plugin_on_project("hungry.py", project_id)
    label_id = await submit(kili, asset_id, "A")
    run = of_label(await wait_logs(kili, project_id, "hungry.py", run_over(label_id)), label_id)
    assert contents(run)[0] == "allocating"
    killed = [e for e in run if e.content == "Run killed: over the memory limit of 512 MB."]
    assert [e.log_type for e in killed] == ["ERROR"], contents(run)
    assert (run[-1].content or "").startswith("Run on_submit failed")
    assert run[-1].log_type == "ERROR"
    assert await kili.count_assets(project_id=project_id) == 1  # the server is fine
    assert await kili.get_plugin_status("hungry.py") == "ACTIVE"


UNDER_WAY = {"run": "under way"}
HANGING = """
import time


class PluginHandler(PluginCore):
    async def on_submit(self, label, asset_id):
        await self.kili.update_properties_in_assets(
            asset_ids=[asset_id], json_metadatas=[{"run": "under way"}]
        )
        print("going to sleep")
        time.sleep(120)
"""


async def test_a_plugin_over_the_time_limit_is_killed_while_the_server_answers(
    slow_server: LocalServer, tmp_path: Path
) -> None:
    path = write_files(
        tmp_path, {"hanging.py": "from aiokili.plugins import PluginCore\n" + HANGING}
    )
    async with aiokili.AsyncKili(api_key=slow_server.api_key, api_endpoint=slow_server.url) as kili:
        await kili.upload_plugin(path / "hanging.py")
        project_id, (asset_id,) = await project_with_assets(kili)
        await kili.activate_plugin_on_project("hanging.py", project_id)
        label_id = await submit(kili, asset_id, "A")
        # mutations never wait for runs: the label is in before the run even started
        assert (await kili.get_asset(asset_id)).json_metadata != UNDER_WAY
        # the run is under way (it set the metadata)...
        await poll(lambda: kili.get_asset(asset_id), lambda a: a.json_metadata == UNDER_WAY)
        # ...and sleeping: the server answers meanwhile, other requests go on
        for _ in range(3):
            assert await kili.count_assets(project_id=project_id) == 1
        await kili.update_properties_in_assets(asset_ids=[asset_id], json_metadatas=[{"n": 3}])
        answered = datetime.now(timezone.utc)
        run = await wait_logs(kili, project_id, "hanging.py", run_over(label_id))
        assert contents(run)[0] == "going to sleep"  # what it printed before the kill is kept
        (killed,) = [e for e in run if e.content == "Run killed: over the time limit of 3 s."]
        assert killed.log_type == "ERROR", contents(run)
        assert killed.created_at and answered < killed.created_at  # all answered before the kill
        assert (run[-1].content or "").startswith("Run on_submit failed")
        assert (await kili.get_asset(asset_id)).json_metadata == {"n": 3}


RAISER = """
    def on_submit(self, label, asset_id):
        if label["jsonResponse"]["JOB"]["categories"][0]["name"] == "B":
            raise ValueError(f"bad label {label['id']}")
        print(f"fine {label['id']}")
"""


async def test_a_plugin_that_raises_logs_the_traceback_and_keeps_running(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    await kili.upload_plugin(plugin_file(tmp_path, "raiser.py", RAISER))
    project_id, (asset_id,) = await project_with_assets(kili)
    await kili.activate_plugin_on_project("raiser.py", project_id)
    bad = await submit(kili, asset_id, "B")
    run = of_label(await wait_logs(kili, project_id, "raiser.py", run_over(bad)), bad)
    (error,) = [e for e in run if "Traceback" in (e.content or "")]
    assert error.log_type == "ERROR"
    assert f"ValueError: bad label {bad}" in (error.content or "")
    assert 'main.py", line' in (error.content or "")  # the frame in the plugin's code
    assert (run[-1].content or "").startswith("Run on_submit failed")
    assert await kili.get_plugin_status("raiser.py") == "ACTIVE"

    good = await submit(kili, asset_id, "A")
    run = of_label(await wait_logs(kili, project_id, "raiser.py", run_over(good)), good)
    assert contents(run)[0] == f"fine {good}"
    assert (run[-1].content or "").startswith("Run on_submit finished")


# ----------------------------------------------------------------------------- webhooks


class Receiver:
    """A local HTTP receiver (a thread): records POSTs per path, answers scripted statuses."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self.script: dict[str, list[int]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                receiver.received.append((self.path, dict(self.headers), body))
                codes = receiver.script.get(self.path) or [200]
                code = codes.pop(0) if len(codes) > 1 else codes[0]
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.http.server_port}"

    def on(self, path: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        return [(h, b) for p, h, b in self.received if p == path]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    thread = threading.Thread(target=rec.http.serve_forever, daemon=True)
    thread.start()
    yield rec
    rec.http.shutdown()
    thread.join()


async def test_a_webhook_receives_the_event_with_its_header_and_follows_updates(
    kili: aiokili.AsyncKili, receiver: Receiver
) -> None:
    await kili.create_webhook(f"{receiver.base}/hook", "hook", header="Bearer s3cret")
    assert await kili.get_plugin_status("hook") == "ACTIVE"
    assert "hook" in [p.name for p in await kili.list_plugins()]
    project_id, (asset_id,) = await project_with_assets(kili)
    await kili.activate_plugin_on_project("hook", project_id)
    label_id = await submit(kili, asset_id, "A")
    (entry,) = await wait_logs(kili, project_id, "hook", bool)
    assert entry.log_type == "INFO"
    assert entry.content == f"Webhook onSubmit delivered to {receiver.base}/hook (HTTP 200)."
    assert entry.metadata and (entry.metadata.asset_id, entry.metadata.label_id) == (
        asset_id, label_id,
    )  # fmt: skip
    ((headers, body),) = receiver.on("/hook")
    assert headers["Authorization"] == "Bearer s3cret"
    assert body["eventType"] == "onSubmit"
    assert body["logPayload"] == {"runId": entry.run_id, "projectId": project_id}
    assert body["payload"]["asset_id"] == asset_id
    assert body["payload"]["label"]["id"] == label_id
    assert body["payload"]["label"]["jsonResponse"] == answer("A")

    await kili.update_webhook(
        f"{receiver.base}/hook2", "hook", new_header="Bearer n3w", handler_types=["onReview"]
    )
    resubmitted = await submit(kili, asset_id, "B")  # onSubmit is no longer selected
    reviewed = await submit(kili, asset_id, "A", "REVIEW")
    await wait_logs(kili, project_id, "hook", lambda es: len(es) >= 2)
    # The witness: a review sent once the first one was delivered, so after a delivery for the
    # submit would have been; once it is delivered too, that one would have shown.
    witness = await submit(kili, asset_id, "B", "REVIEW")
    entries = await wait_logs(kili, project_id, "hook", lambda es: len(es) >= 3)
    assert len(entries) == 3  # no delivery for the submit
    assert entries[1].content == f"Webhook onReview delivered to {receiver.base}/hook2 (HTTP 200)."
    assert len(receiver.on("/hook")) == 1
    (headers, body), (_, witnessed) = receiver.on("/hook2")
    assert headers["Authorization"] == "Bearer n3w"
    assert body["eventType"] == "onReview" and body["payload"]["label"]["id"] == reviewed
    assert body["payload"]["label"]["reviewedLabel"] == {"id": resubmitted}
    assert witnessed["payload"]["label"]["id"] == witness


async def test_a_webhook_answering_503_once_is_delivered_after_a_retry(
    kili: aiokili.AsyncKili, receiver: Receiver
) -> None:
    receiver.script["/flaky"] = [503, 200]
    await kili.create_webhook(f"{receiver.base}/flaky", "flaky", handler_types=["onSubmit"])
    project_id, (asset_id,) = await project_with_assets(kili)
    await kili.activate_plugin_on_project("flaky", project_id)
    await submit(kili, asset_id, "A")
    (entry,) = await wait_logs(kili, project_id, "flaky", bool)
    assert (entry.log_type, entry.content) == (
        "INFO", f"Webhook onSubmit delivered to {receiver.base}/flaky (HTTP 200).",
    )  # fmt: skip
    first, second = receiver.on("/flaky")  # the same event, sent twice
    assert first[1] == second[1] and first[1]["logPayload"]["runId"] == entry.run_id


async def test_webhook_deliveries_share_one_http_client(
    kili: aiokili.AsyncKili, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[object] = []

    class Counted(httpx.AsyncClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(service.httpx, "AsyncClient", Counted)  # the server runs in-process
    await kili.create_webhook(f"{receiver.base}/shared", "shared", handler_types=["onSubmit"])
    project_id, asset_ids = await project_with_assets(kili, 3)
    await kili.activate_plugin_on_project("shared", project_id)
    for asset_id in asset_ids:
        await submit(kili, asset_id, "A")
    await wait_logs(kili, project_id, "shared", lambda entries: len(entries) >= 3)
    assert len(receiver.on("/shared")) == 3
    assert made == []  # before: a new client (and connection pool) per delivery


async def test_a_webhook_answering_400_is_not_retried_and_logged_as_an_error(
    kili: aiokili.AsyncKili, receiver: Receiver
) -> None:
    receiver.script["/reject"] = [400]
    await kili.create_webhook(f"{receiver.base}/reject", "reject")
    project_id, (asset_id,) = await project_with_assets(kili)
    await kili.activate_plugin_on_project("reject", project_id)
    await submit(kili, asset_id, "A")
    (entry,) = await wait_logs(kili, project_id, "reject", bool)
    assert entry.log_type == "ERROR"
    assert "400" in (entry.content or "") and f"{receiver.base}/reject" in (entry.content or "")
    assert len(receiver.on("/reject")) == 1  # the outcome is final: no retry


ON_EVENT = """
    def on_submit(self, label, asset_id):
        print("on_submit")

    def on_event(self, event):
        print(f"{event['event']} {event['payload']['labelId']} {event['projectId']}")
"""


async def test_event_matchers_replace_handler_types(
    kili: aiokili.AsyncKili, tmp_path: Path, receiver: Receiver
) -> None:
    """A plugin or webhook registered with event_matcher gets the matching events only."""
    path = plugin_file(tmp_path, "on_events.py", ON_EVENT)
    review_events = ["label.workflow.created.rev*", "label.workflow.created.review"]
    await kili.upload_plugin(path, event_matcher=review_events)
    url = f"{receiver.base}/events"
    await kili.create_webhook(url, "event_hook", event_matcher=["label.workflow.created.default"])
    project_id, (asset_id,) = await project_with_assets(kili)
    await kili.activate_plugin_on_project("on_events.py", project_id)
    await kili.activate_plugin_on_project("event_hook", project_id)
    submitted = await submit(kili, asset_id, "A")
    reviewed = await submit(kili, asset_id, "A", "REVIEW")

    entries = await wait_logs(kili, project_id, "on_events.py", run_over(reviewed, "on_event"))
    assert contents(of_label(entries, reviewed))[0] == (
        f"label.workflow.created.review {reviewed} {project_id}"
    )
    (delivered,) = await wait_logs(kili, project_id, "event_hook", bool)
    assert delivered.content == (
        f"Webhook label.workflow.created.default delivered to {url} (HTTP 200)."
    )
    # The witnesses: a submit and a review sent once both were handled, so after a run for the
    # submit and a POST for the review would have been; once they are handled too, those
    # would have shown.
    later = await submit(kili, asset_id, "B")
    later_review = await submit(kili, asset_id, "B", "REVIEW")
    await wait_logs(kili, project_id, "on_events.py", run_over(later_review, "on_event"))
    posts = await wait_logs(kili, project_id, "event_hook", lambda es: len(es) >= 2)
    # on_submit is not run (the matchers replace the handler types); a POST per submit only
    assert of_label(await all_logs(kili, project_id, "on_events.py"), submitted) == []
    assert of_label(await all_logs(kili, project_id, "on_events.py"), later) == []
    assert len(posts) == 2  # for the two submits: none for the reviews
    (_, body), (_, later_body) = receiver.on("/events")
    assert body["eventType"] == "label.workflow.created.default"
    assert body["payload"]["label"]["id"] == submitted
    assert later_body["payload"]["label"]["id"] == later


# ----------------------------------------------------------------------------- logs


async def test_iter_plugin_logs_pages_through_all_and_follows_new_runs(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    body = (
        "    def on_submit(self, label, asset_id):\n"
        "        for i in range(3):\n"
        "            print(f'{label[\"id\"]} line {i}')\n"
    )
    await kili.upload_plugin(plugin_file(tmp_path, "talkative.py", body))
    project_id, (a1, a2) = await project_with_assets(kili, 2)
    await kili.activate_plugin_on_project("talkative.py", project_id)
    first = await submit(kili, a1, "A")
    second = await submit(kili, a2, "A")
    stored = await wait_logs(
        kili, project_id, "talkative.py", lambda es: run_over(first)(es) and run_over(second)(es)
    )
    assert len(stored) == 8  # 2 runs of 3 lines + their "Run ... finished"
    every = [e async for e in kili.iter_plugin_logs(project_id, "talkative.py", page_size=3)]
    assert every == stored
    assert [
        e async for e in kili.iter_plugin_logs(project_id, "talkative.py", page_size=8)
    ] == stored

    seen: Entries = []
    third = None
    with anyio.fail_after(DEADLINE):
        async for entry in kili.iter_plugin_logs(
            project_id, "talkative.py", follow=True, page_size=3, poll_interval=0.1
        ):
            seen.append(entry)
            if len(seen) == len(stored):  # the past is out: a run happens while we tail
                third = await submit(kili, a1, "B")
            if third and entry.metadata and entry.metadata.label_id == third:
                break
    assert seen[: len(stored)] == stored
    assert seen[-1].content == f"{third} line 0"


# ----------------------------------------------------------------------------- clients


async def test_two_clients_at_once_on_the_same_server(
    kili_server: LocalServer, tmp_path: Path
) -> None:
    path = plugin_file(tmp_path, "shared.py", PRINT_VERSION.format(version="shared run"))
    async with client_of(kili_server) as author, client_of(kili_server) as operator:
        project_id, (asset_id,) = await project_with_assets(operator)
        uploaded: list[str] = []

        async def upload() -> None:
            uploaded.append(await author.upload_plugin(path))

        async def activate_once_listed() -> None:
            names = lambda plugins: "shared.py" in [p.name for p in plugins]  # noqa: E731
            await poll(lambda: operator.list_plugins(fields=["name"]), names)
            await operator.activate_plugin_on_project("shared.py", project_id)

        with anyio.fail_after(DEADLINE):
            async with anyio.create_task_group() as tg:
                tg.start_soon(upload)
                tg.start_soon(activate_once_listed)
        assert uploaded == ["Plugin created successfully"]
        (listed,) = [p for p in await author.list_plugins() if p.name == "shared.py"]
        assert listed.project_ids == [project_id]
        label_id = await submit(operator, asset_id, "A")
        entries = await wait_logs(author, project_id, "shared.py", run_over(label_id))
        assert contents(of_label(entries, label_id))[0] == "shared run"


async def test_errors_are_caught_the_way_users_write_them(
    kili_server: LocalServer, tmp_path: Path
) -> None:
    caught: list[Exception] = []
    try:
        async with client_of(kili_server) as kili:
            await kili.upload_plugin(tmp_path / "missing_plugin.py")
    except aiokili.KiliInputError as err:
        caught.append(err)
    assert len(caught) == 1 and "missing_plugin.py" in str(caught[0])

    path = plugin_file(tmp_path, "twice.py", PRINT_VERSION.format(version="x"))
    try:
        async with client_of(kili_server) as kili:
            await kili.upload_plugin(path)
            await kili.upload_plugin(path)  # the server refuses the name
    except aiokili.KiliInputError as err:
        caught.append(err)
    assert len(caught) == 2 and "kili.update_plugin(" in str(caught[1])

    bad = write_files(tmp_path / "broken", {
        "main.py": "from aiokili.plugins import PluginCore\n\n\nclass PluginHandler(PluginCore):"
                   "\n    def on_submit(self, label, asset_id):\n        pass\n",
        "requirements.txt": "not a requirement ==\n",
    })  # fmt: skip
    try:
        async with client_of(kili_server) as kili:
            await kili.upload_plugin(bad)
    except aiokili.PluginBuildError as err:
        caught.append(err)
    assert len(caught) == 3 and "Invalid requirement" in str(caught[2])
