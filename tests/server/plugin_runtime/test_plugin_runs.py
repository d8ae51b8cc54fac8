"""The local server's plugin runner: events, live logs, caps, and official-SDK plugins.

- ``on_send_back_to_queue`` runs when an asset is sent back to the queue;
- a run's log entries are readable while it runs (a tailing reader sees its progress);
- what one run may log is capped;
- a plugin written for the official SDK runs with the real ``kili`` package when the server
  gives plugins ``plugin_requirements=["kili==26.2.4"]`` (as the platform preinstalls it):
  its sync handler calls the official client against the local server, and an
  ``@on_kili_event`` plugin gets the typed kili-events event.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_support import contents, run_over, wait_logs
from support import answer, import_images, new_project

import aiokili
from aiokili.plugins import PluginLog
from aiokili.server import LocalServer
from aiokili.server.plugin_runtime import service as plugin_runner
from aiokili.server.settings import PluginLimits

pytestmark = pytest.mark.anyio


@pytest.fixture
def kili_fresh_server() -> Iterator[LocalServer]:
    """The server of tests marked ``kili_fresh_server``: one whose runs may log 20 kB each."""
    with LocalServer(plugin_limits=PluginLimits(max_log_bytes=20_000)) as srv:
        yield srv


def plugin(tmp_path: Path, name: str, source: str) -> Path:
    """A one-file plugin, ``<name>/main.py`` (so the plugin's name is ``name``)."""
    (tmp_path / name).mkdir()
    (tmp_path / name / "main.py").write_text(source)
    return tmp_path / name


def finished(entries: list[PluginLog]) -> bool:
    return any((e.content or "").startswith("Run on_") for e in entries)


async def deployed(kili: aiokili.AsyncKili, path: Path, assets: int = 1) -> tuple[str, list[str]]:
    """Upload the plugin folder at ``path`` and activate it on a new project with ``assets``
    images; the project's id and the asset ids."""
    await kili.upload_plugin(path)
    project_id = await new_project(kili)
    asset_ids = await import_images(kili, project_id, assets)
    await kili.activate_plugin_on_project(path.name, project_id)
    return project_id, asset_ids


async def labelled_asset(kili: aiokili.AsyncKili) -> tuple[str, str]:
    project_id = await new_project(kili)
    (asset_id,) = await import_images(kili, project_id, 1)
    await kili.append_labels(asset_id_array=[asset_id], json_response_array=[answer("A")])
    return project_id, asset_id


async def test_sending_an_asset_back_runs_on_send_back_to_queue(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    source = (
        "from aiokili.plugins import PluginCore\n\n"
        "class PluginHandler(PluginCore):\n"
        "    async def on_send_back_to_queue(self, asset_id):\n"
        "        (asset,) = await self.kili.assets(self.project_id, asset_id=asset_id)\n"
        "        self.logger.info(f'back in the queue: {asset_id} {asset.status.value}')\n"
    )
    await kili.upload_plugin(plugin(tmp_path, "requeue", source))
    project_id, asset_id = await labelled_asset(kili)  # a submit: not this plugin's event
    await kili.activate_plugin_on_project("requeue", project_id)
    await kili.send_back_to_queue(asset_ids=[asset_id])
    entries = await wait_logs(kili, project_id, "requeue", finished)
    assert f"back in the queue: {asset_id} ONGOING" in contents(entries)
    assert all(e.metadata and e.metadata.asset_id == asset_id for e in entries)
    assert entries[-1].content.startswith("Run on_send_back_to_queue finished")  # type: ignore[union-attr]


async def test_a_runs_entries_are_readable_while_it_runs(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    source = (
        "import time\n"
        "from aiokili.plugins import PluginCore\n\n"
        "class PluginHandler(PluginCore):\n"
        "    def on_submit(self, label, asset_id):\n"
        "        print('started')\n"
        "        time.sleep(3)\n"
        "        print('done')\n"
    )
    project_id, [asset_id] = await deployed(kili, plugin(tmp_path, "slow", source))
    await kili.append_labels(asset_id_array=[asset_id], json_response_array=[answer("A")])
    seen: list[str] = []
    async for entry in kili.iter_plugin_logs(project_id, "slow", follow=True, poll_interval=0.05):
        seen.append(entry.content or "")
        if seen == ["started"]:  # the run is still sleeping: 'done' is not out yet
            assert "done" not in contents(await kili.get_plugin_logs(project_id, "slow"))
        if seen[-1].startswith("Run on_submit"):
            break
    assert seen[:2] == ["started", "done"] and seen[2].startswith("Run on_submit finished")


@pytest.mark.kili_fresh_server
async def test_what_one_run_logs_is_capped(kili: aiokili.AsyncKili, tmp_path: Path) -> None:
    source = (
        "from aiokili.plugins import PluginCore\n\n"
        "class PluginHandler(PluginCore):\n"
        "    def on_submit(self, label, asset_id):\n"
        "        for i in range(100_000):\n"
        "            print('x' * 100, i)\n"
    )
    project_id, [asset_id] = await deployed(kili, plugin(tmp_path, "chatty", source))
    await kili.append_labels(asset_id_array=[asset_id], json_response_array=[answer("A")])
    entries = await wait_logs(kili, project_id, "chatty", finished)
    assert len(entries) < 250  # 20 kB of the 10 MB written
    assert "Output truncated: the run wrote more than the log limit." in contents(entries)
    assert entries[-1].content.startswith("Run on_submit finished")  # type: ignore[union-attr]


async def test_only_events_after_the_activation_run_the_plugin(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    source = (
        "from aiokili.plugins import PluginCore\n\n"
        "class PluginHandler(PluginCore):\n"
        "    def on_submit(self, label, asset_id):\n"
        "        print('ran on', label['id'])\n"
    )
    await kili.upload_plugin(plugin(tmp_path, "fresh", source))
    project_id = await new_project(kili)
    first, second = await import_images(kili, project_id, 2)
    (before,) = await kili.append_labels(asset_id_array=[first], json_response_array=[answer("A")])
    await kili.activate_plugin_on_project("fresh", project_id)  # right after: same poll
    (after,) = await kili.append_labels(asset_id_array=[second], json_response_array=[answer("A")])
    await wait_logs(kili, project_id, "fresh", run_over(after))
    # The witness: a label submitted once that run is over. Runs start in the order of their
    # events, so when the witness's run is over too, a run for `before` would be logged.
    (witness,) = await kili.append_labels(
        asset_id_array=[second], json_response_array=[answer("B")]
    )
    entries = await wait_logs(kili, project_id, "fresh", run_over(witness))
    ran = [c for c in contents(entries) if "ran on" in c]
    assert ran == [f"ran on {after}", f"ran on {witness}"], (before, ran)


async def test_a_failed_runs_traceback_starts_in_the_plugin(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    source = (
        "from aiokili.plugins import PluginCore\n\n"
        "def check(label):\n"
        "    raise ValueError(f\"no rule for {label['id']}\")\n\n"
        "class PluginHandler(PluginCore):\n"
        "    def on_submit(self, label, asset_id):\n"
        "        check(label)\n"
    )
    project_id, [asset_id] = await deployed(kili, plugin(tmp_path, "boom", source))
    (label_id,) = await kili.append_labels(
        asset_id_array=[asset_id], json_response_array=[answer("A")]
    )
    entries = await wait_logs(kili, project_id, "boom", finished)
    (error,) = [e.content or "" for e in entries if "Traceback" in (e.content or "")]
    frames = [line for line in error.splitlines() if line.strip().startswith("File ")]
    assert [f.split(", ")[-1] for f in frames] == ["in on_submit", "in check"], error
    assert error.endswith(f"ValueError: no rule for {label_id}")
    assert "plugin_child" not in error and "asyncio" not in error


async def test_a_burst_of_labels_is_worked_through_in_batches(
    kili: aiokili.AsyncKili, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events are read a few at a time while runs are behind; none is lost or repeated."""
    monkeypatch.setattr(plugin_runner, "BATCH", 3)
    monkeypatch.setattr(plugin_runner, "BACKLOG", 4)
    source = (
        "from aiokili.plugins import PluginCore\n\n"
        "class PluginHandler(PluginCore):\n"
        "    def on_submit(self, label, asset_id):\n"
        "        print('ran on', label['id'])\n"
    )
    project_id, assets = await deployed(kili, plugin(tmp_path, "burst", source), 12)
    labels = await kili.append_labels(
        asset_id_array=assets, json_response_array=[answer("A")] * len(assets)
    )
    entries = await wait_logs(
        kili, project_id, "burst", lambda es: sum(finished([e]) for e in es) == len(labels)
    )
    ran = sorted(c.removeprefix("ran on ") for c in contents(entries) if c.startswith("ran on"))
    assert ran == sorted(labels)


WARM = """
import sys
WARM = "aiokili" in sys.modules  # before this plugin imports anything

from aiokili.plugins import PluginCore

class PluginHandler(PluginCore):
    def on_submit(self, label, asset_id):
        print("warm" if WARM else "cold")
"""


async def test_runs_fork_from_a_warm_process_unless_the_plugin_has_packages(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    """A plugin with no packages of its own starts with aiokili already imported (forked from
    the warm process); one with a requirements.txt gets a fresh interpreter."""
    await kili.upload_plugin(plugin(tmp_path, "warm", WARM))
    with_deps = plugin(tmp_path, "cold", WARM)
    (with_deps / "requirements.txt").write_text("# nothing to install, a folder all the same\n")
    (with_deps / "deps_marker.py").write_text("")
    await kili.upload_plugin(with_deps)
    project_id = await new_project(kili)
    (asset_id,) = await import_images(kili, project_id, 1)
    for name in ("warm", "cold"):
        await kili.activate_plugin_on_project(name, project_id)
    await kili.append_labels(asset_id_array=[asset_id], json_response_array=[answer("A")])
    assert "warm" in contents(await wait_logs(kili, project_id, "warm", finished))
    assert "cold" in contents(await wait_logs(kili, project_id, "cold", finished))


async def test_shared_requirements_that_cannot_install_fail_the_build(tmp_path: Path) -> None:
    source = "from aiokili.plugins import PluginCore\nclass PluginHandler(PluginCore):\n" + (
        "    def on_submit(self, label, asset_id):\n        pass\n"
    )
    with LocalServer(plugin_requirements=["not a requirement =="]) as srv:
        async with aiokili.AsyncKili(api_key=srv.api_key, api_endpoint=srv.url) as kili:
            with pytest.raises(aiokili.PluginBuildError) as caught:
                await kili.upload_plugin(plugin(tmp_path, "any", source))
    (error,) = caught.value.errors
    assert "The packages every plugin gets (not a requirement ==)" in (error.content or "")
    assert "Invalid requirement" in (error.content or "")


# ----------------------------------------------------------------------------- official SDK

OFFICIAL_GATE = """
from kili.plugins import PluginCore

class PluginHandler(PluginCore):
    def on_submit(self, label, asset_id):
        category = label["jsonResponse"]["JOB"]["categories"][0]["name"]
        self.logger.info(f"{type(self.kili).__module__}: {category} on {asset_id}")
        if category != "A":
            self.kili.send_back_to_queue(asset_ids=[asset_id])
            self.logger.warning("sent back")
"""

OFFICIAL_EVENTS = """
from kili_events import LabelWorkflowCreatedDefaultEvent
from kili.plugins import PluginCore, on_kili_event

class PluginHandler(PluginCore):
    @on_kili_event
    def on_label(self, event: LabelWorkflowCreatedDefaultEvent) -> None:
        p = event.payload
        self.logger.info(f"{event.event} {p.label_id} {p.asset_id} {p.external_id}")
"""


async def test_a_plugin_written_for_the_official_sdk_runs_with_kili(
    kili_plugin_server: LocalServer, tmp_path: Path
) -> None:
    srv = kili_plugin_server
    async with aiokili.AsyncKili(api_key=srv.api_key, api_endpoint=srv.url) as kili:
        project_id, [good, bad] = await deployed(kili, plugin(tmp_path, "gate", OFFICIAL_GATE), 2)
        await kili.append_labels(
            asset_id_array=[good, bad], json_response_array=[answer("A"), answer("B")]
        )
        entries = await wait_logs(
            kili, project_id, "gate", lambda es: len([e for e in es if finished([e])]) == 2
        )
        assert f"kili.client: A on {good}" in contents(entries)
        assert f"kili.client: B on {bad}" in contents(entries)
        assert "sent back" in contents(entries)
        assert not [e for e in entries if e.log_type == "ERROR"], contents(entries)
        statuses = {a.id: a.status for a in await kili.assets(project_id)}
        assert statuses == {good: "LABELED", bad: "ONGOING"}  # the official client did it


async def test_an_on_kili_event_plugin_gets_typed_events(
    kili_plugin_server: LocalServer, tmp_path: Path
) -> None:
    srv = kili_plugin_server
    async with aiokili.AsyncKili(api_key=srv.api_key, api_endpoint=srv.url) as kili:
        path = plugin(tmp_path, "events", OFFICIAL_EVENTS)
        await kili.upload_plugin(path, event_matcher=["label.workflow.created.*"])
        project_id = await new_project(kili)
        (asset_id,) = await import_images(kili, project_id, 1)
        await kili.activate_plugin_on_project("events", project_id)
        (label_id,) = await kili.append_labels(
            asset_id_array=[asset_id], json_response_array=[answer("A")]
        )
        entries = await wait_logs(kili, project_id, "events", finished)
        (asset,) = await kili.assets(project_id, asset_id=asset_id)
        expected = f"label.workflow.created.default {label_id} {asset_id} {asset.external_id}"
        assert expected in contents(entries), contents(entries)


async def test_a_plugin_of_another_organization_runs_as_its_own_identity(
    kili_other_organization: aiokili.AsyncKili, tmp_path: Path
) -> None:
    source = (
        "from aiokili.plugins import PluginCore\n\n"
        "class PluginHandler(PluginCore):\n"
        "    async def on_submit(self, label, asset_id):\n"
        "        project = await self.kili.get_project(self.project_id)\n"
        "        me = await self.kili.get_current_user()\n"
        "        self.logger.info(f'{project.title} seen by {me.email} of {me.organization_id}')\n"
    )
    other = kili_other_organization
    project_id, (asset_id,) = await deployed(other, plugin(tmp_path, "theirs", source))
    await other.append_labels(asset_id_array=[asset_id], json_response_array=[answer("A")])
    entries = await wait_logs(other, project_id, "theirs", finished)
    me = await other.get_current_user()
    project = await other.get_project(project_id)
    (line,) = [c for c in contents(entries) if " seen by " in c]
    # the plugin's identity in its organization, not the organization's admin
    assert line.startswith(f"{project.title} seen by plugin-"), line
    assert line.endswith(f"@plugins.aiokili.local of {me.organization_id}"), line


@pytest.mark.anyio
async def test_a_run_that_ends_as_the_server_stops_waiting_still_has_its_exit_read() -> None:
    """The run writes its last lines and ends just after a read timed out: they are read
    (a busy machine made such runs end "with exit code None")."""
    import asyncio
    import json

    from aiokili.server.plugin_runtime import process

    reader = stdout = asyncio.StreamReader()
    lines: list[tuple[str, str]] = []

    class Ending:
        pid, stdout = 0, reader

        def alive(self) -> bool:  # the run writes its last lines and exits right now
            stdout.feed_data(json.dumps({"level": "INFO", "content": "done"}).encode() + b"\n")
            stdout.feed_data(json.dumps({"exit": 0}).encode() + b"\n")
            return False

    async def sink(batch: list[process.Line]) -> None:
        lines.extend((level, content) for level, content, _ in batch)

    output = process._Output(sink, 10_000)
    code = await process._stream(Ending(), output, lambda: False)  # type: ignore[arg-type]
    await output.flush(force=True)
    assert code == 0 and ("INFO", "done") in lines
