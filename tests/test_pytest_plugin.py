"""The pytest plugin (aiokili.testing) as a user gets it: a sample project tested in a
subprocess by pytest, the plugin loaded through its entry point, against the local server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import aiokili
from aiokili.server import LocalServer
from aiokili.testing import DEFAULT_INTERFACE, ProjectFactory, project_factory

SAMPLE = Path(__file__).parent / "data" / "sample_user_project"

pytestmark = pytest.mark.anyio


def _run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KILI_", "PYTEST_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_sample_user_project_passes_with_the_plugin(tmp_path: Path) -> None:
    project = tmp_path / "pet_triage"
    shutil.copytree(SAMPLE, project)  # outside the repository: nothing of ours but the plugin
    result = _run_pytest(project, "-W", "error::pytest.PytestUnknownMarkWarning")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"\b4 passed\b", output), output


def test_plugin_is_loaded_from_its_entry_point(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_x(kili_server):\n    assert kili_server.url\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    assert _run_pytest(tmp_path).returncode == 0
    disabled = _run_pytest(tmp_path, "-p", "no:aiokili")
    assert disabled.returncode != 0 and "fixture 'kili_server' not found" in disabled.stdout


def test_suite_uses_the_plugins_server(local_server: LocalServer, kili_server: LocalServer) -> None:
    assert local_server is kili_server


async def test_kili_fixture_is_bound_to_the_session_server(
    kili: aiokili.AsyncKili, kili_server: LocalServer
) -> None:
    assert kili.api_endpoint == kili_server.url
    assert (await kili.verify()).email


@pytest.mark.kili_fresh_server
async def test_marked_test_gets_a_fresh_server(
    kili: aiokili.AsyncKili, kili_server: LocalServer, kili_project: object
) -> None:
    assert kili.api_endpoint != kili_server.url
    assert await kili.count_projects() == 0


async def test_kili_project_creates_and_cleans_up(kili: aiokili.AsyncKili) -> None:
    async with project_factory(kili) as create:  # what the kili_project fixture runs
        project_id = await create(input_type="TEXT", title="mine")
        project = await kili.get_project(project_id)
        assert (project.title, project.input_type) == ("mine", "TEXT")
        default = await kili.get_project(await create())
        assert default.json_interface == DEFAULT_INTERFACE
        assert default.input_type == "IMAGE"
        gone = await create()
        await kili.delete_project(gone)  # deleted by the test itself: no error at the end
    for deleted in (project_id, default.id):
        with pytest.raises(aiokili.NotFoundError):
            await kili.get_project(deleted)


async def test_kili_project_rejects_a_bad_input_type(kili_project: ProjectFactory) -> None:
    with pytest.raises(aiokili.KiliInputError, match="input_type"):
        await kili_project(input_type="SOUND")
