"""``aiokili plugins ...`` and ``aiokili webhooks ...`` against the REAL local server.

Through typer's CliRunner (sync tests: the in-process server runs on its own thread) and, for
``plugins list --json`` and ``plugins logs --follow`` (Ctrl-C), as real subprocesses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from plugin_support import write_files
from support import answer, import_images, new_project
from typer.testing import CliRunner, Result

import aiokili
from aiokili.cli import _app
from aiokili.server import LocalServer

T = TypeVar("T")

RECORDER = """
from aiokili.plugins import PluginCore


class PluginHandler(PluginCore):
    def on_submit(self, label, asset_id):
        print(f"submitted {label['id']}")
        self.logger.warning("checked %s", asset_id)
"""

SEND_BACK = """
from aiokili.plugins import PluginCore


class PluginHandler(PluginCore):
    async def on_submit(self, label, asset_id):
        categories = label["jsonResponse"]["JOB"]["categories"]
        self.logger.info("category %s", categories[0]["name"])
        if categories[0]["name"] != "A":
            self.logger.warning("wrong category: back to the queue")
            await self.kili.send_back_to_queue(asset_ids=[asset_id])
            return "sent back"
        return "kept"

    def on_send_back_to_queue(self, asset_id):
        print(f"back in the queue: {asset_id}")
"""

RAISES = """
from aiokili.plugins import PluginCore


def check(label):
    raise ValueError(f"label {label['id']} is not acceptable")


class PluginHandler(PluginCore):
    def on_submit(self, label, asset_id):
        check(label)
"""


def env(server: LocalServer, **extra: str) -> dict[str, str]:
    return {"KILI_API_KEY": server.api_key, "KILI_API_ENDPOINT": server.url, **extra}


def cli(server: LocalServer, *args: str, **extra: str) -> Result:
    """``aiokili ARGS`` through typer's runner, connected to ``server`` by the environment."""
    return CliRunner().invoke(_app(), list(args), env=env(server, **extra))


def sdk(server: LocalServer, work: Callable[[aiokili.AsyncKili], Awaitable[T]]) -> T:
    """Set-up and checks through the SDK (the CLI's calls are sync, so these are too)."""

    async def go() -> T:
        async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
            return await work(kili)

    return anyio.run(go)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def one_error(result: Result) -> tuple[str, str]:
    """The error and hint lines on stderr, checking there is no traceback."""
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.output, result.output
    assert lines[0].startswith("Error: ") and lines[-1].startswith("Hint: "), lines
    return lines[0], lines[-1]


def labelled_asset(server: LocalServer, category: str) -> tuple[str, str, str]:
    """A new project with one asset labelled ``category``: project, asset and label ids."""

    async def work(kili: aiokili.AsyncKili) -> tuple[str, str, str]:
        project_id = await new_project(kili)
        (asset_id,) = await import_images(kili, project_id, 1)
        (label_id,) = await kili.append_labels(
            asset_id_array=[asset_id], json_response_array=[answer(category)]
        )
        return project_id, asset_id, str(label_id)

    return sdk(server, work)


def unlabelled_asset(server: LocalServer) -> tuple[str, str]:
    """A new project with one asset, no label: project and asset ids."""

    async def work(kili: aiokili.AsyncKili) -> tuple[str, str]:
        project_id = await new_project(kili)
        return project_id, (await import_images(kili, project_id, 1))[0]

    return sdk(server, work)


def asset_status(server: LocalServer, asset_id: str, project_id: str) -> aiokili.Status | None:
    async def work(kili: aiokili.AsyncKili) -> aiokili.Status | None:
        (asset,) = await kili.assets(project_id, asset_id=asset_id)
        return asset.status

    return sdk(server, work)


def wait_for_logs(server: LocalServer, project_id: str, name: str) -> list[dict[str, Any]]:
    """``plugins logs --json`` until the run has finished; the entries."""
    deadline = time.monotonic() + 30
    while True:
        result = cli(server, "plugins", "logs", project_id, name, "--json")
        assert result.exit_code == 0, result.output
        entries = [json.loads(line) for line in result.stdout.splitlines()]
        if any(e["content"].startswith("Run on_submit") for e in entries):
            return entries
        assert time.monotonic() < deadline, entries
        time.sleep(0.1)


# ----------------------------------------------------------------------------- the lifecycle


def test_upload_list_status_activate_logs_deactivate_delete(
    local_server: LocalServer, tmp_path: Path
) -> None:
    name = unique("recorder")
    folder = write_files(tmp_path / "recorder", {"main.py": RECORDER, "helpers/__init__.py": ""})

    result = cli(local_server, "plugins", "upload", str(folder), "--name", name)
    assert result.exit_code == 0, result.output
    assert f'Plugin "{name}" uploaded: active.' in result.stdout
    assert local_server.api_key not in result.output

    listed = cli(local_server, "plugins", "list", "--json")
    assert listed.exit_code == 0, listed.output
    plugin = next(p for p in json.loads(listed.stdout) if p["name"] == name)
    assert plugin["projectIds"] == [] and plugin["id"]
    table = cli(local_server, "plugins", "list")
    assert table.exit_code == 0 and name in table.stdout and "projects" in table.stdout
    quiet = cli(local_server, "-q", "plugins", "list")
    assert name in quiet.stdout.splitlines()

    status = cli(local_server, "plugins", "status", name)
    assert (status.exit_code, status.stdout.strip()) == (0, "ACTIVE")
    status = cli(local_server, "plugins", "status", name, "--json")
    assert json.loads(status.stdout) == {"name": name, "status": "ACTIVE"}
    errors = cli(local_server, "plugins", "build-errors", name, "--json")
    assert (errors.exit_code, json.loads(errors.stdout)) == (0, [])
    errors = cli(local_server, "plugins", "build-errors", name)
    assert f'Plugin "{name}" has no build error.' in errors.stdout

    project_id, asset_id = unlabelled_asset(local_server)
    activated = cli(local_server, "plugins", "activate", name, "--project", project_id)
    assert activated.exit_code == 0, activated.output
    assert f'Plugin "{name}" active on project {project_id}.' in activated.stdout
    listed = cli(local_server, "plugins", "list", "--json")
    assert next(p for p in json.loads(listed.stdout) if p["name"] == name)["projectIds"] == [
        project_id
    ]

    async def submit(kili: aiokili.AsyncKili) -> str:
        ids = await kili.append_labels(asset_id_array=[asset_id], json_response_array=[answer("B")])
        return str(ids[0])

    label_id = sdk(local_server, submit)
    entries = wait_for_logs(local_server, project_id, name)
    contents = [e["content"] for e in entries]
    assert f"submitted {label_id}" in contents and f"checked {asset_id}" in contents
    warning = next(e for e in entries if e["content"] == f"checked {asset_id}")
    assert warning["logType"] == "WARNING" and warning["metadata"]["labelId"] == label_id

    text = cli(local_server, "plugins", "logs", project_id, name)
    assert text.exit_code == 0
    assert any(
        f"checked {asset_id}" in line and "WARNING" in line for line in text.stdout.splitlines()
    )
    since = cli(local_server, "plugins", "logs", project_id, name, "--since", "2999-01-01")
    assert (since.exit_code, since.stdout) == (0, "")

    deactivated = cli(local_server, "plugins", "deactivate", name, "--project", project_id)
    assert deactivated.exit_code == 0, deactivated.output
    assert "deactivated" in deactivated.stdout
    deleted = cli(local_server, "plugins", "delete", name)
    assert (deleted.exit_code, deleted.stdout.strip()) == (0, f'Plugin "{name}" deleted.')
    gone = cli(local_server, "plugins", "status", name)
    assert gone.exit_code == 4
    assert name in one_error(gone)[0]


def test_update_replaces_the_code_and_verbose_logs_the_deployment(
    local_server: LocalServer, tmp_path: Path
) -> None:
    name = unique("updated")
    path = write_files(tmp_path, {"rule.py": RECORDER})
    assert cli(local_server, "plugins", "upload", str(path / "rule.py"), "-n", name).exit_code == 0
    (path / "rule.py").write_text(SEND_BACK)
    result = cli(local_server, "-v", "plugins", "update", str(path / "rule.py"), "--name", name)
    assert result.exit_code == 0, result.output
    assert f'Plugin "{name}" updated: active.' in result.stdout
    assert f'INFO aiokili.plugins: Plugin "{name}" is active.' in result.stderr
    quiet = cli(local_server, "-q", "plugins", "update", str(path / "rule.py"), "--name", name)
    assert (quiet.exit_code, quiet.stdout) == (0, "")


def test_upload_defaults_the_name_to_the_folder_and_refuses_a_taken_name(
    local_server: LocalServer, tmp_path: Path
) -> None:
    name = unique("folder")
    folder = write_files(tmp_path / name, {"main.py": RECORDER})
    result = cli(local_server, "plugins", "upload", str(folder))
    assert result.exit_code == 0, result.output
    assert f'Plugin "{name}" uploaded' in result.stdout
    again = cli(local_server, "plugins", "upload", str(folder))
    assert again.exit_code == 2
    error, hint = one_error(again)
    assert error == f'Error: A plugin named "{name}" already exists.'
    assert hint == f"Hint: `aiokili plugins update {folder} --name {name}` replaces its code."


# ----------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("files", "target", "message"),
    [
        ({"nomain/helper.py": "x = 1\n"}, "nomain", "the plugin folder '{path}' has no main.py"),
        ({}, "missing.py", "PATH '{path}' does not exist."),
        ({"notes.txt": "hi"}, "notes.txt", "PATH '{path}' must be a .py file"),
        ({"nohandler.py": "x = 1\n"}, "nohandler.py",
         "{path} defines no top-level `class PluginHandler(PluginCore)`"),
        ({"broken/main.py": RECORDER, "broken/helper.py": "def (:\n"}, "broken",
         "{path}/helper.py has a syntax error at line 1"),
    ],
)  # fmt: skip
def test_upload_rejects_a_bad_plugin_in_one_line_exit_2(
    local_server: LocalServer, tmp_path: Path, files: dict[str, str], target: str, message: str
) -> None:
    write_files(tmp_path, files)
    path = tmp_path / target
    for command in (["upload", str(path)], ["update", str(path), "--name", "x"]):
        result = cli(local_server, "plugins", *command)
        assert result.exit_code == 2, result.output
        error, hint = one_error(result)
        assert message.format(path=path) in error
        assert "PluginHandler(PluginCore)" in hint
        assert len(result.stderr.strip().splitlines()) == 2


def test_bad_plugin_is_reported_before_the_missing_api_key(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(), ["plugins", "upload", str(tmp_path)], env={"KILI_API_KEY": None}
    )
    assert result.exit_code == 2
    assert "has no main.py" in one_error(result)[0]


def test_missing_api_key_wrong_key_and_usage_errors(
    local_server: LocalServer, tmp_path: Path
) -> None:
    no_key = CliRunner().invoke(_app(), ["plugins", "list"], env={"KILI_API_KEY": None})
    assert no_key.exit_code == 2
    assert "--api-key" in one_error(no_key)[1]
    wrong = cli(local_server, "plugins", "list", "--api-key", "not-the-key")
    assert wrong.exit_code == 3
    error, hint = one_error(wrong)
    assert "API key" in error and "KILI_API_KEY" in hint
    assert "not-the-key" not in wrong.output
    usage = cli(local_server, "plugins", "activate", "name-only")
    assert usage.exit_code == 2 and "--project" in usage.output
    bad_timeout = cli(local_server, "plugins", "upload", str(tmp_path), "--timeout", "0")
    assert bad_timeout.exit_code == 2 and "--timeout" in bad_timeout.output
    since = cli(local_server, "plugins", "logs", "p", "n", "--since", "yesterday")
    assert since.exit_code == 2
    assert one_error(since)[0] == "Error: --since 'yesterday' is not an ISO 8601 date or time."


def test_unknown_plugin_or_project_exit_4(local_server: LocalServer) -> None:
    name = unique("nobody")
    for command in (["status", name], ["delete", name], ["build-errors", name]):
        result = cli(local_server, "plugins", *command)
        assert result.exit_code == 4, (command, result.output)
        error, hint = one_error(result)
        assert name in error and "aiokili plugins list" in hint
    project_id, _ = unlabelled_asset(local_server)
    result = cli(local_server, "plugins", "activate", name, "--project", project_id)
    assert result.exit_code == 4, result.output
    assert name in one_error(result)[0]


def test_an_unknown_plugin_is_not_found_without_python_advice(local_server: LocalServer) -> None:
    name = unique("nobody")
    result = cli(local_server, "plugins", "status", name)
    assert one_error(result) == (
        f'Error: Plugin "{name}" not found.',
        "Hint: `aiokili plugins list` shows the plugins.",
    )


def test_a_failing_build_exits_1_with_its_errors(local_server: LocalServer, tmp_path: Path) -> None:
    name = unique("badreq")
    folder = write_files(tmp_path / "badreq", {"main.py": RECORDER,
                                         "requirements.txt": "this is not a requirement ==\n"})  # fmt: skip
    result = cli(local_server, "plugins", "upload", str(folder), "--name", name)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f'Error: Plugin "{name}" failed to build (1 build error(s)).'
    assert "pip install -r requirements.txt failed" in result.stderr
    assert lines[-1] == (
        f"Hint: Fix the plugin, then `aiokili plugins update {folder} --name {name}`; "
        f"`aiokili plugins build-errors {name}` lists every error."
    )
    assert "Traceback" not in result.output
    status = cli(local_server, "plugins", "status", name)
    assert status.stdout.strip() == "FAILED"
    errors = cli(local_server, "plugins", "build-errors", name, "--json")
    (entry,) = json.loads(errors.stdout)
    assert entry["logType"] == "ERROR" and "Invalid requirement" in entry["content"]


def test_a_deployment_over_the_timeout_exits_5(local_server: LocalServer, tmp_path: Path) -> None:
    name = unique("slow")
    # pip needs far more than 50 ms to fail on this
    folder = write_files(
        tmp_path / "slow", {"main.py": RECORDER, "requirements.txt": "not valid ==\n"}
    )
    result = cli(local_server, "plugins", "upload", str(folder), "-n", name, "--timeout", "0.05")
    assert result.exit_code == 5, result.output
    error, hint = one_error(result)
    assert error.startswith(f'Error: Plugin "{name}" was not active after 0.05 s')
    assert "aiokili plugins status" in hint
    assert "get_plugin_status()" not in error
    assert hint == (
        f"Hint: It may still be deploying: `aiokili plugins status {name}`; or wait longer "
        "with --timeout."
    )


# ----------------------------------------------------------------------------- the local harness


def test_plugins_test_sends_the_asset_back_to_queue(
    local_server: LocalServer, tmp_path: Path
) -> None:
    path = write_files(tmp_path, {"gate.py": SEND_BACK}) / "gate.py"
    project_id, asset_id, _ = labelled_asset(local_server, "B")
    assert asset_status(local_server, asset_id, project_id) == aiokili.Status.LABELED

    result = cli(local_server, "plugins", "test", str(path), "--project", project_id,
                 "--asset", asset_id)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "INFO     category B",
        "WARNING  wrong category: back to the queue",
        "on_submit returned 'sent back'",
    ]
    assert asset_status(local_server, asset_id, project_id) == aiokili.Status.ONGOING

    back = cli(local_server, "plugins", "test", str(path), "-p", project_id, "-a", asset_id,
               "--event", "on_send_back_to_queue", "--json")  # fmt: skip
    assert back.exit_code == 0, back.output
    assert json.loads(back.stdout) == {
        "event": "on_send_back_to_queue",
        "logs": [{"level": "INFO", "message": f"back in the queue: {asset_id}"}],
        "returned": None,
        "error": None,
    }


def test_plugins_test_label_sources(local_server: LocalServer, tmp_path: Path) -> None:
    path = write_files(tmp_path, {"gate.py": SEND_BACK}) / "gate.py"
    project_id, asset_id, label_id = labelled_asset(local_server, "A")
    base = ["plugins", "test", str(path), "-p", project_id, "-a", asset_id, "--json"]

    by_id = cli(local_server, *base, "--label-id", label_id)
    assert json.loads(by_id.stdout)["returned"] == "kept"
    inline = json.dumps({"id": "L", "jsonResponse": answer("B")})
    sent = cli(local_server, *base, "--label-json", inline)
    assert json.loads(sent.stdout)["returned"] == "sent back"
    label_file = tmp_path / "label.json"
    label_file.write_text(json.dumps({"id": "L", "jsonResponse": answer("A")}))
    from_file = cli(local_server, *base, "--label-json", str(label_file))
    assert json.loads(from_file.stdout)["returned"] == "kept"

    bad_json = cli(local_server, *base, "--label-json", "{not json")
    assert bad_json.exit_code == 2
    assert "--label-json is neither a JSON file nor JSON text" in one_error(bad_json)[0]
    not_object = cli(local_server, *base, "--label-json", "[1]")
    assert not_object.exit_code == 2 and "JSON object" in one_error(not_object)[0]
    both = cli(local_server, *base, "--label-json", inline, "--label-id", label_id)
    assert both.exit_code == 2 and "not both" in both.stderr
    unknown = cli(local_server, *base, "--label-id", "no-such-label")
    assert unknown.exit_code == 4 and "no-such-label" in one_error(unknown)[0]

    other_project, bare = unlabelled_asset(local_server)
    no_label = cli(local_server, "plugins", "test", str(path), "-p", other_project, "-a", bare)
    assert no_label.exit_code == 2
    error, hint = one_error(no_label)
    assert bare in error and "--label-json or --label-id" in hint
    bad_event = cli(local_server, *base, "--event", "on_click")
    assert bad_event.exit_code == 2 and "--event" in bad_event.output


def test_plugins_test_on_an_unknown_asset_is_not_found(
    local_server: LocalServer, tmp_path: Path
) -> None:
    path = write_files(tmp_path, {"gate.py": SEND_BACK}) / "gate.py"
    project_id, _ = unlabelled_asset(local_server)
    for extra in ([], ["--label-json", json.dumps(answer("A"))]):
        result = cli(local_server, "plugins", "test", str(path), "-p", project_id,
                     "-a", "no-such-asset", *extra)  # fmt: skip
        assert result.exit_code == 4, result.output
        assert one_error(result) == (
            f'Error: Asset "no-such-asset" not found in project {project_id}.',
            f"Hint: `aiokili assets list {project_id}` shows its assets.",
        )


def test_plugins_test_takes_a_bare_json_response(local_server: LocalServer, tmp_path: Path) -> None:
    path = write_files(tmp_path, {"gate.py": SEND_BACK}) / "gate.py"
    project_id, asset_id, _ = labelled_asset(local_server, "A")
    base = ["plugins", "test", str(path), "-p", project_id, "-a", asset_id, "--json"]
    bare = cli(local_server, *base, "--label-json", json.dumps(answer("B")))
    assert bare.exit_code == 0, bare.output
    assert json.loads(bare.stdout)["returned"] == "sent back"
    kept = cli(local_server, *base, "--label-json", json.dumps(answer("A")))
    assert json.loads(kept.stdout)["returned"] == "kept"
    not_object = cli(local_server, *base, "--label-json", "[1]")
    assert one_error(not_object)[0] == (
        "Error: --label-json must hold a JSON object: a label, or its json response."
    )
    shown = CliRunner().invoke(_app(), ["plugins", "test", "--help"], env={"COLUMNS": "200"})
    assert (
        """or only its json response, e.g. '{"JOB": {"categories": [{"name": "A"}]}}'."""
        in " ".join(shown.stdout.split())
    )


def test_plugins_test_shows_the_handlers_traceback_and_exits_1(
    local_server: LocalServer, tmp_path: Path
) -> None:
    path = write_files(tmp_path / "raiser", {"main.py": RAISES}) / ""
    project_id, asset_id, label_id = labelled_asset(local_server, "A")
    result = cli(local_server, "plugins", "test", str(path), "-p", project_id, "-a", asset_id)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert f'File "{path / "main.py"}", line 6, in check' in result.stderr
    assert "aiokili/plugin_core.py" not in result.stderr  # from the plugin's code on
    lines = result.stderr.strip().splitlines()
    assert lines[-2] == f"Error: on_submit raised ValueError: label {label_id} is not acceptable"
    assert lines[-1].startswith("Hint: ")

    as_json = cli(local_server, "plugins", "test", str(path), "-p", project_id, "-a", asset_id,
                  "--json")  # fmt: skip
    assert as_json.exit_code == 1
    error = json.loads(as_json.stdout)["error"]
    assert error["type"] == "ValueError" and "in check" in error["traceback"]


# ----------------------------------------------------------------------------- webhooks


def test_webhooks_create_update_and_bad_input(local_server: LocalServer) -> None:
    name = unique("hook")
    created = cli(local_server, "webhooks", "create", "https://hooks.example/in", "--name", name,
                  "--header", "Bearer s3cret", "--handler-type", "onSubmit")  # fmt: skip
    assert created.exit_code == 0, created.output
    assert f'Webhook "{name}" created' in created.stdout and "s3cret" not in created.output
    listed = json.loads(cli(local_server, "plugins", "list", "--json").stdout)
    assert name in [p["name"] for p in listed]
    updated = cli(local_server, "webhooks", "update", "https://hooks.example/v2", "--name", name,
                  "--event-matcher", "asset.skipped")  # fmt: skip
    assert (updated.exit_code, updated.stdout.strip()) == (0, f'Webhook "{name}" updated.')

    not_url = cli(local_server, "webhooks", "create", "hooks.example", "--name", name)
    assert not_url.exit_code == 2
    assert one_error(not_url)[0].startswith("Error: URL must be an http(s) URL")
    bad_type = cli(local_server, "webhooks", "create", "https://h.example", "--name", name,
                   "--handler-type", "onSubmitt")  # fmt: skip
    assert bad_type.exit_code == 2
    assert "--handler-type[0] is 'onSubmitt'" in one_error(bad_type)[0]
    assert cli(local_server, "plugins", "delete", name).exit_code == 0


# ----------------------------------------------------------------------------- global options


def test_version_and_help_document_the_exit_codes() -> None:
    result = CliRunner().invoke(_app(), ["--version"])
    assert (result.exit_code, result.stdout.strip()) == (0, f"aiokili {aiokili.__version__}")
    for args in ([], ["plugins"], ["webhooks"]):
        shown = CliRunner().invoke(_app(), [*args, "--help"])
        assert "Exit codes: 0 ok; 1 the operation failed" in " ".join(shown.stdout.split())
        assert "5 deployment timeout" in " ".join(shown.stdout.split())


# ----------------------------------------------------------------------------- real processes


def subprocess_env(server: LocalServer) -> dict[str, str]:
    return {**os.environ, **env(server), "COLUMNS": "100"}


def test_plugins_list_json_as_a_real_subprocess(local_server: LocalServer, tmp_path: Path) -> None:
    name = unique("listed")
    path = write_files(tmp_path, {"p.py": RECORDER}) / "p.py"
    assert cli(local_server, "plugins", "upload", str(path), "-n", name).exit_code == 0
    done = subprocess.run(
        [sys.executable, "-m", "aiokili.cli", "plugins", "list", "--json"],
        env=subprocess_env(local_server), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert name in [p["name"] for p in json.loads(done.stdout)]
    assert local_server.api_key not in done.stdout + done.stderr


def test_logs_follow_prints_new_entries_until_ctrl_c(
    local_server: LocalServer, tmp_path: Path
) -> None:
    name = unique("followed")
    path = write_files(tmp_path, {"p.py": RECORDER}) / "p.py"
    assert cli(local_server, "plugins", "upload", str(path), "-n", name).exit_code == 0
    project_id, asset_id = unlabelled_asset(local_server)
    assert cli(local_server, "plugins", "activate", name, "-p", project_id).exit_code == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiokili.cli", "plugins", "logs", project_id, name, "--follow",
         "--json"],
        env=subprocess_env(local_server), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:

        async def submit(kili: aiokili.AsyncKili) -> None:
            await kili.append_labels(asset_id_array=[asset_id], json_response_array=[answer("B")])

        time.sleep(0.5)  # the follower is up and has seen no entry yet
        sdk(local_server, submit)  # entries appear after the follower started
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["pluginName"] == name and first["projectId"] == project_id
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr


def test_server_passes_the_plugin_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """``aiokili server --plugin-memory-mb/--plugin-timeout-s/--plugin-requirement`` reach
    ``LocalServer``."""
    import aiokili.server

    seen: dict[str, Any] = {}

    def build(**kwargs: Any) -> Any:
        seen.update(kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(aiokili.server, "LocalServer", build)
    args = ["server", "--port", "0", "--db", ":memory:"]
    result = CliRunner().invoke(_app(), [*args, "--plugin-memory-mb", "256",
                                         "--plugin-timeout-s", "2.5", "--plugin-requirement",
                                         "kili==26.2.4", "--plugin-requirement", "six"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (seen["plugin_memory_mb"], seen["plugin_timeout_s"]) == (256, 2.5)
    assert seen["plugin_requirements"] == ["kili==26.2.4", "six"]
    seen.clear()
    assert CliRunner().invoke(_app(), args).exit_code == 0
    assert (seen["plugin_memory_mb"], seen["plugin_timeout_s"]) == (None, None)
    assert not seen["plugin_requirements"]
    bad = CliRunner().invoke(_app(), [*args, "--plugin-memory-mb", "0"])
    assert bad.exit_code == 2 and "--plugin-memory-mb" in bad.output


def test_plugins_test_explains_an_official_sdk_plugin(
    local_server: LocalServer, tmp_path: Path
) -> None:
    """Not the handler's fault: a usage error (exit 2), not a traceback (exit 1)."""
    official = RECORDER.replace("from aiokili.plugins", "from kili.plugins")
    path = write_files(tmp_path, {"official.py": official}) / "official.py"
    project_id, asset_id, _ = labelled_asset(local_server, "A")
    result = cli(local_server, "plugins", "test", str(path), "-p", project_id, "-a", asset_id)
    assert result.exit_code == 2, result.output
    error, _ = one_error(result)
    assert f"{path} imports kili, which is not installed here" in error
