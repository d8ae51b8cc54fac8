"""The pytest plugin (aiokili.testing) as a user gets it: a sample project tested in a
subprocess by pytest, the plugin loaded through its entry point, against the local server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
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


# How a user of each pytest plugin writes the sample project: (the test module's mark, the
# decorator of their own async fixture, pytest options).
RUNNERS = {
    "anyio": ("pytest.mark.anyio", "@pytest.fixture", []),
    "pytest-asyncio-strict": (
        "pytest.mark.asyncio", "@pytest_asyncio.fixture", ["-o", "asyncio_mode=strict"],
    ),
    "pytest-asyncio-auto": (None, "@pytest.fixture", ["-o", "asyncio_mode=auto"]),
}  # fmt: skip


def _sample_for(runner: str, where: Path) -> Path:
    """The sample project, copied outside the repository (nothing of ours but the plugin),
    with the marks and decorators a user of ``runner`` writes."""
    mark, decorator, _ = RUNNERS[runner]
    project = where / "pet_triage"
    shutil.copytree(SAMPLE, project)
    tests = project / "tests" / "test_pet_triage.py"
    source = tests.read_text()
    assert "pytestmark = pytest.mark.anyio" in source
    line = "" if mark is None else f"pytestmark = {mark}"
    tests.write_text(re.sub(r"^pytestmark = pytest\.mark\.anyio.*$", line, source, flags=re.M))
    conftest = project / "tests" / "conftest.py"
    source = conftest.read_text()
    assert source.count("@pytest.fixture  # with pytest-asyncio") == 1
    source = re.sub(r"^@pytest\.fixture  # with pytest-asyncio.*$", decorator, source, flags=re.M)
    conftest.write_text("import pytest_asyncio\n" + source)
    return project


@pytest.mark.parametrize("runner", RUNNERS)
def test_sample_user_project_passes_with_the_plugin(tmp_path: Path, runner: str) -> None:
    project = _sample_for(runner, tmp_path)
    result = _run_pytest(
        project,
        *RUNNERS[runner][2],
        "-o", "asyncio_default_fixture_loop_scope=function",
        "-W", "error::pytest.PytestUnknownMarkWarning",
        "-W", "error::pytest.PytestDeprecationWarning",  # e.g. an unmarked async fixture
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"\b6 passed\b", output), output


def test_a_sync_test_asking_for_kili_is_told_how_to_mark_it(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_x(kili):\n    pass\n")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    )
    result = _run_pytest(tmp_path)
    assert result.returncode != 0
    assert (
        "the kili fixture is async: request it from an `async def` test marked "
        "`@pytest.mark.anyio` (anyio's plugin) or `@pytest.mark.asyncio` (pytest-asyncio)"
    ) in result.stdout


def test_plugin_is_loaded_from_its_entry_point(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_x(kili_server):\n    assert kili_server.url\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    assert _run_pytest(tmp_path).returncode == 0
    disabled = _run_pytest(tmp_path, "-p", "no:aiokili")
    assert disabled.returncode != 0 and "fixture 'kili_server' not found" in disabled.stdout


def test_the_faults_option_puts_the_session_server_under_faults(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text(
        "def test_x(kili_server):\n"
        "    assert kili_server.faults.spec.seed == 3\n"
        "    assert kili_server.faults.rate_limit.per_second == 10\n"
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    result = _run_pytest(tmp_path, "--kili-faults", "503=0.1;seed=3", "--kili-rate-limit", "10/s")
    assert result.returncode == 0, result.stdout
    bad = _run_pytest(tmp_path, "--kili-faults", "503=lots")
    assert bad.returncode != 0 and "the rate of 503 is 'lots'" in bad.stdout


@pytest.mark.kili_faults("CountProjects: 503=0.5; seed=2", rate_limit="6000/min")
async def test_faults_marker_gives_a_fresh_server_with_faults(
    kili: aiokili.AsyncKili, kili_server: LocalServer, kili_fresh_server: LocalServer
) -> None:
    assert kili.api_endpoint == kili_fresh_server.url != kili_server.url
    assert [await kili.count_projects() for _ in range(4)] == [0] * 4  # resent
    assert kili_fresh_server.faults.summary()["by_kind"] == {"503": 1}  # every run
    assert kili_fresh_server.faults.summary()["rate_limit"] == "6000/min"
    assert kili_server.faults.spec is None


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


async def test_the_client_can_be_left_in_another_task_than_it_entered(
    kili_server: LocalServer, kili_project: ProjectFactory
) -> None:
    # what pytest-asyncio does with an async fixture (setup and teardown in two tasks)
    project_id = await kili_project()
    client = aiokili.AsyncKili(
        api_key=kili_server.api_key, api_endpoint=kili_server.url, page_size=10
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(client.__aenter__)
    await client.append_many_to_dataset(
        project_id, content_array=["https://e.com/x.jpg"] * 35, external_id_array=None
    )
    listing = client.assets(project_id)
    assert len([a async for a in listing]) == 35  # pages prefetched in the background
    async with anyio.create_task_group() as tg:
        tg.start_soon(client.__aexit__, None, None, None)  # raised RuntimeError before
