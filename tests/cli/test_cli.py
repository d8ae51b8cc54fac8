"""The command line and the pytest plugin."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import aiokili
from aiokili.cli import _app
from aiokili.server import LocalServer


def test_quickstart_prints_its_summary() -> None:
    result = CliRunner().invoke(_app(), ["quickstart", "--assets", "300"])
    assert result.exit_code == 0, result.output
    assert "Imported 300 assets, appended 300 labels, streamed back 300 labels" in result.output
    assert "150 CAT" in result.output


def test_quickstart_shows_a_rate_only_for_steps_of_many_items() -> None:
    result = CliRunner().invoke(_app(), ["quickstart", "--assets", "20"])
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line.split("│")[3].strip()
            for line in result.output.splitlines() if line.startswith("│")}  # fmt: skip
    assert rows["create project"] == "-"  # one item: no "1/s"
    assert rows["import 20 assets"].replace(",", "").isdigit()
    assert rows["append 20 labels"].replace(",", "").isdigit()


def test_quickstart_rejects_bad_input() -> None:
    result = CliRunner().invoke(_app(), ["quickstart", "--assets", "0"])
    assert result.exit_code != 0
    assert "--assets" in result.output


def test_server_command_prints_endpoint_and_key(tmp_path: object) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiokili.cli", "server", "--port", "0", "--db", ":memory:"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        endpoint = proc.stdout.readline()
        key = proc.stdout.readline()
        assert endpoint.startswith("GraphQL endpoint: http://127.0.0.1:")
        assert endpoint.rstrip().endswith("/api/label/v2/graphql")
        assert key.startswith("API key: ") and len(key.split(": ")[1].strip()) > 10
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.anyio
async def test_pytest_plugin_env_fixture(kili_env: LocalServer) -> None:
    async with aiokili.AsyncKili() as kili:  # key and endpoint from the environment
        assert await kili.count_projects(project_id="none") == 0


def test_a_command_is_a_function_that_runs_alone(local_server: LocalServer) -> None:
    """Each command is a module-level function: registered on an app of its own, it runs."""
    import typer

    from aiokili.cli.projects import list_

    alone = typer.Typer()
    alone.command()(list_)
    env = {"KILI_API_KEY": local_server.api_key, "KILI_API_ENDPOINT": local_server.url}
    result = CliRunner().invoke(alone, ["--json", "--fields", "id", "--first", "1"], env=env)
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout), list)
