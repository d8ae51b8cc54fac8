"""A plugin run is contained as a whole, tried as an attacker would: what it starts dies
with it (``setsid`` or not), a fork bomb and memory spread over processes hit the run's
caps, it cannot read the server's database or another plugin's folder, it sees only the
variables the platform gives it, and its key acts for the plugin on its own project only,
until the run ends.

The process and memory tests need cgroups (root, or a delegated cgroup) and the file tests
Landlock: each is skipped, saying why, where the machine has neither.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from plugin_support import contents, server_secret, wait_logs
from support import answer, import_images, new_project

import aiokili
from aiokili.errors import AuthenticationError, KiliInputError, PluginBuildError
from aiokili.server import LocalServer
from aiokili.server.plugin_runtime import confine, users
from aiokili.server.plugin_runtime.confine import Containment
from aiokili.server.plugin_runtime.sandbox import landlock_abi
from aiokili.server.settings import PluginLimits

pytestmark = pytest.mark.anyio

LIMITS = PluginLimits(memory_mb=256, max_processes=32, timeout_s=8)


def _cgroups() -> bool:
    found = Containment.detect(LIMITS, [])
    found.close()
    return {"memory", "pids"} <= found.controllers


needs_cgroups = pytest.mark.skipif(not _cgroups(), reason="no cgroup this process may manage")
needs_landlock = pytest.mark.skipif(landlock_abi() < 1, reason="no Landlock in this kernel")


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    os.environ["AIOKILI_PROBE_SECRET"] = "the server's own variable"
    try:
        with LocalServer(plugin_limits=LIMITS) as srv:
            yield srv
    finally:
        del os.environ["AIOKILI_PROBE_SECRET"]


@pytest.fixture
async def admin(server: LocalServer) -> AsyncIterator[aiokili.AsyncKili]:
    async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
        yield kili


def running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (dead, waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def of_session(sid: int) -> list[int]:
    """The running processes of the session ``sid`` (a run leads its own)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


async def run_once(
    kili: aiokili.AsyncKili, tmp_path: Path, name: str, body: str
) -> tuple[str, list[str]]:
    """Deploy a plugin whose ``on_submit`` runs ``body`` (indented 8 spaces), activate it
    on a new project, submit a label; the project and the run's log lines once it ended."""
    folder = tmp_path / name
    folder.mkdir()
    (folder / "main.py").write_text(
        "import json, os, subprocess, sys, time\n"
        "from aiokili.plugins import PluginCore\n\n"
        "class PluginHandler(PluginCore):\n"
        "    async def on_submit(self, label, asset_id):\n" + body
    )
    await kili.upload_plugin(folder)
    project_id = await new_project(kili)
    (asset_id,) = await import_images(kili, project_id, 1)
    await kili.activate_plugin_on_project(name, project_id)
    await kili.append_labels(asset_id_array=[asset_id], json_response_array=[answer("A")])
    entries = await wait_logs(
        kili, project_id, name, lambda es: any(c.startswith("Run ") for c in contents(es))
    )
    return project_id, contents(entries)


def said(lines: list[str], prefix: str) -> str:
    (line,) = [line for line in lines if line.startswith(prefix)]
    return line[len(prefix) :]


@needs_cgroups
async def test_what_a_run_starts_ends_with_it_setsid_and_double_fork_included(
    admin: aiokili.AsyncKili, tmp_path: Path
) -> None:
    body = (
        "        plain = subprocess.Popen(['sleep', '300'])\n"
        "        setsid = subprocess.Popen(['sleep', '301'], start_new_session=True)\n"
        "        daemon = subprocess.run(['sh', '-c', 'setsid sleep 302 >/dev/null 2>&1 & echo $!'],\n"
        "                                capture_output=True, text=True).stdout.strip()\n"
        "        print('pids', json.dumps([plain.pid, setsid.pid, int(daemon)]))\n"
    )
    _, lines = await run_once(admin, tmp_path, "leaver", body)
    pids = json.loads(said(lines, "pids "))
    assert any(line.startswith("Run on_submit finished") for line in lines), lines
    assert [pid for pid in pids if running(pid)] == []


@needs_cgroups
async def test_a_setsid_child_dies_with_a_run_killed_at_its_time_limit(
    admin: aiokili.AsyncKili, tmp_path: Path
) -> None:
    body = (
        "        child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        "        print('pid', child.pid, flush=True)\n"
        "        time.sleep(300)\n"
    )
    _, lines = await run_once(admin, tmp_path, "sleeper", body)
    assert f"Run killed: over the time limit of {LIMITS.timeout_s:g} s." in lines
    assert not running(int(said(lines, "pid ")))


@needs_cgroups
async def test_a_fork_bomb_is_held_to_the_process_cap_and_swept(
    admin: aiokili.AsyncKili, tmp_path: Path
) -> None:
    body = (
        "        print('session', os.getsid(0), flush=True)\n"
        "        forked, refused = 0, None\n"
        "        for _ in range(200):\n"
        "            try:\n"
        "                if os.fork() == 0:\n"
        "                    while True:\n"  # every child forks too, forever
        "                        try:\n"
        "                            os.fork()\n"
        "                        except OSError:\n"
        "                            time.sleep(0.01)\n"
        "                forked += 1\n"
        "            except OSError as exc:\n"
        "                refused = exc.strerror\n"
        "                break\n"
        "        print('forked', forked, 'then', refused, flush=True)\n"
    )
    _, lines = await run_once(admin, tmp_path, "bomb", body)
    forked = said(lines, "forked ")
    count, _, why = forked.partition(" then ")
    assert int(count) < LIMITS.max_processes and why == "Resource temporarily unavailable"
    assert of_session(int(said(lines, "session "))) == []
    assert (await admin.count_projects()) >= 1  # the server answers meanwhile and after


@needs_cgroups
async def test_memory_spread_over_processes_is_capped_for_the_run_as_a_whole(
    admin: aiokili.AsyncKili, tmp_path: Path
) -> None:
    body = (  # 8 processes of 80 MiB each: each under the cap, together far over it
        "        children = []\n"
        "        for _ in range(8):\n"
        "            pid = os.fork()\n"
        "            if pid == 0:\n"
        "                hog = bytearray(80 * 1024 * 1024)\n"
        "                for i in range(0, len(hog), 4096):\n"
        "                    hog[i] = 1\n"
        "                time.sleep(30)\n"
        "                os._exit(0)\n"
        "            children.append(pid)\n"
        "        for pid in children:\n"
        "            os.waitpid(pid, 0)\n"
        "        print('all eight held their memory')\n"
    )
    _, lines = await run_once(admin, tmp_path, "hog", body)
    assert "all eight held their memory" not in lines
    assert (
        f"Run killed: over the memory limit of {LIMITS.memory_mb} MB "
        "(all its processes together)." in lines
    ), lines


@needs_landlock
async def test_a_run_reads_neither_the_database_nor_another_plugins_folder(
    server: LocalServer, admin: aiokili.AsyncKili, tmp_path: Path
) -> None:
    await run_once(admin, tmp_path, "neighbour", "        print('secret 42')\n")
    files = server.store.db.files_dir
    (theirs,) = [p for p in files.glob("_plugins/*/*/src/main.py") if "secret 42" in p.read_text()]
    targets = [server_secret(server), str(theirs), str(files), "/etc/shadow"]
    body = (
        f"        for path in {targets!r}:\n"
        "            try:\n"
        "                os.listdir(path) if os.path.isdir(path) else open(path, 'rb').read(1)\n"
        "                print('read', path)\n"
        "            except OSError as exc:\n"
        "                print('refused', path, type(exc).__name__)\n"
    )
    _, lines = await run_once(admin, tmp_path, "snoop", body)
    assert [line for line in lines if line.startswith("read ")] == []
    for path in targets:
        assert f"refused {path} PermissionError" in lines


async def test_a_run_sees_only_the_endpoint_and_a_key_of_its_own(
    server: LocalServer, admin: aiokili.AsyncKili, tmp_path: Path
) -> None:
    body = "        print('env', json.dumps(dict(os.environ)))\n"
    _, lines = await run_once(admin, tmp_path, "env", body)
    env = json.loads(said(lines, "env "))
    assert "AIOKILI_PROBE_SECRET" not in env
    assert env["KILI_API_ENDPOINT"] == server.url
    assert env["KILI_API_KEY"] != server.api_key
    platform = {"PATH", "HOME", "TMPDIR", "LANG", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}
    assert (
        set(env)
        <= {"KILI_API_ENDPOINT", "KILI_API_KEY", "MALLOC_ARENA_MAX", "PYTHONPATH"} | platform
    )


async def test_a_runs_key_reaches_its_project_only_and_dies_with_the_run(
    server: LocalServer, admin: aiokili.AsyncKili, tmp_path: Path
) -> None:
    other = await new_project(admin)
    ids = await import_images(admin, other, 2)  # the worst case: the attacker knows them
    body = (
        "        print('key', os.environ['KILI_API_KEY'])\n"
        "        try:\n"
        f"            await self.kili.update_properties_in_project({other!r}, title='taken')\n"
        "            print('rename done')\n"
        "        except Exception as exc:\n"
        "            print('rename refused', type(exc).__name__)\n"
        "        try:\n"
        "            outcome = await self.kili.delete_many_from_dataset(\n"
        f"                asset_ids={ids!r}, project_id={other!r})\n"
        "            print('deleted', len(outcome.succeeded))\n"
        "        except Exception as exc:\n"
        "            print('delete refused', type(exc).__name__)\n"
        "        await self.kili.update_properties_in_project(self.project_id, title='mine')\n"
        "        print('own project renamed')\n"
    )
    project_id, lines = await run_once(admin, tmp_path, "intruder", body)
    assert "rename refused NotFoundError" in lines, lines
    assert not [line for line in lines if line.startswith("deleted ") and line != "deleted 0"]
    assert "own project renamed" in lines
    assert (await admin.get_project(other)).title != "taken"
    assert await admin.count_assets(other) == 2
    assert (await admin.get_project(project_id)).title == "mine"
    async with aiokili.AsyncKili(api_key=said(lines, "key "), api_endpoint=server.url) as late:
        with pytest.raises(AuthenticationError):
            await late.count_projects()


@pytest.mark.parametrize(
    "line",
    ["./evil", "/srv/pkg", "-r /etc/passwd", "-e .", "--index-url https://example.com/simple",
     "--extra-index-url=https://example.com", "-c constraints.txt", "-f /tmp",
     "pkg @ https://example.com/pkg.whl", "git+https://example.com/pkg.git"],
)  # fmt: skip
async def test_a_requirements_line_that_is_not_an_index_package_is_refused_before_upload(
    admin: aiokili.AsyncKili, tmp_path: Path, line: str
) -> None:
    (tmp_path / "main.py").write_text(
        "from aiokili.plugins import PluginCore\n\nclass PluginHandler(PluginCore):\n"
        "    def on_submit(self, label, asset_id):\n        pass\n"
    )
    (tmp_path / "requirements.txt").write_text(f"numpy\n{line}\n")
    with pytest.raises(KiliInputError, match=r"requirements.txt line 2 .* refused"):
        await admin.upload_plugin(tmp_path, plugin_name="refused")
    assert "refused" not in [p.name for p in await admin.list_plugins()]


async def test_the_server_refuses_to_deploy_a_plugin_whose_requirements_name_a_file(
    server: LocalServer,
) -> None:
    """What a client that does not check (the official SDK) uploads is refused at deploy."""
    headers = {"Authorization": f"X-API-Key: {server.api_key}"}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("main.py", "class PluginHandler(object):\n    pass\n")
        zf.writestr("requirements.txt", "-r /etc/passwd\n")

    async def gql(client: httpx.AsyncClient, query: str) -> dict[str, Any]:
        answer: dict[str, Any] = (
            await client.post(server.url, json={"query": query}, headers=headers)
        ).json()
        return answer

    async with httpx.AsyncClient() as client:
        made = await gql(client, 'mutation { createPlugin(data: {pluginName: "raw"}) }')
        put = await client.put(made["data"]["createPlugin"], content=archive.getvalue())
        assert put.status_code < 300
        deployed = await gql(client, 'mutation { createPluginRunner(data: {pluginName: "raw"}) }')
    (error,) = deployed["errors"]
    assert error["message"].startswith('Plugin "raw" not deployed: requirements.txt line 1')
    assert "the pip option -r: refused" in error["message"]


EVIL_SETUP = """
import os, subprocess
from setuptools import setup
child = subprocess.Popen(["sleep", "300"], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
done = []
for path, mode in [({escape!r}, "w"), ({db!r}, "rb")]:
    try:
        open(path, mode).close()
        done.append("did " + path)
    except OSError as exc:
        done.append(type(exc).__name__ + " " + path)
raise SystemExit("EVIL pid " + str(child.pid) + " " + "; ".join(done))
"""


@needs_cgroups
@needs_landlock
async def test_a_package_from_the_index_builds_confined_like_a_run(
    server: LocalServer,
    admin: aiokili.AsyncKili,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its ``setup.py`` (an sdist of the index) cannot write outside, read the database or
    leave a process behind."""
    index, package = tmp_path / "index", tmp_path / "evilpkg-1.0"
    index.mkdir()
    package.mkdir()
    escape = tmp_path / "escaped"
    secret = server_secret(server)
    setup = EVIL_SETUP.format(escape=str(escape), db=secret)
    (package / "setup.py").write_text(setup)
    (package / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: evilpkg\nVersion: 1.0\n")
    with tarfile.open(index / "evilpkg-1.0.tar.gz", "w:gz") as tar:
        tar.add(package, arcname=package.name)
    # the server's package index is this folder (setuptools: the server's own)
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")  # pip's spelling of "no isolation"
    folder = tmp_path / "evil"
    folder.mkdir()
    (folder / "main.py").write_text(
        "from aiokili.plugins import PluginCore\n\nclass PluginHandler(PluginCore):\n"
        "    def on_submit(self, label, asset_id):\n        pass\n"
    )
    (folder / "requirements.txt").write_text("evilpkg\n")
    with pytest.raises(PluginBuildError) as failed:
        await admin.upload_plugin(folder)
    (said_line,) = [line for line in str(failed.value).splitlines() if "EVIL pid" in line]
    _, _, pid, rest = said_line.split(maxsplit=3)
    assert rest == f"PermissionError {escape}; PermissionError {secret}"
    assert not escape.exists()
    assert not running(int(pid))


@needs_cgroups
async def test_no_process_of_a_run_outlives_the_server(tmp_path: Path) -> None:
    body = (
        "        child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        "        print('pids', json.dumps([os.getpid(), child.pid]), flush=True)\n"
        "        time.sleep(300)\n"
    )
    folder = tmp_path / "stayer"
    folder.mkdir()
    (folder / "main.py").write_text(
        "import json, os, subprocess, time\nfrom aiokili.plugins import PluginCore\n\n"
        "class PluginHandler(PluginCore):\n    def on_submit(self, label, asset_id):\n" + body
    )
    with LocalServer(plugin_limits=PluginLimits(timeout_s=300)) as srv:
        async with aiokili.AsyncKili(api_key=srv.api_key, api_endpoint=srv.url) as kili:
            await kili.upload_plugin(folder)
            project_id = await new_project(kili)
            (asset_id,) = await import_images(kili, project_id, 1)
            await kili.activate_plugin_on_project("stayer", project_id)
            await kili.append_labels(asset_id_array=[asset_id], json_response_array=[answer("A")])
            entries = await wait_logs(
                kili, project_id, "stayer", lambda es: any("pids" in c for c in contents(es))
            )
    pids = json.loads(said(contents(entries), "pids "))
    assert [pid for pid in pids if running(pid)] == []


@pytest.fixture
def cli_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``aiokili server`` in its own process: the process and its endpoint."""
    command = [sys.executable, "-m", "aiokili.cli", "server", "--port", "0", "--api-key", "k",
               "--db", str(tmp_path / "kili.sqlite3"), "--plugin-timeout-s", "300"]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = next(line for line in server.stdout if line.startswith("GraphQL endpoint:"))
        yield server, url.split(":", 1)[1].strip()
    finally:
        server.kill()
        server.wait()


STAYER = (
    "import json, os, subprocess, tempfile, time\nfrom aiokili.plugins import PluginCore\n\n"
    "class PluginHandler(PluginCore):\n    def on_submit(self, label, asset_id):\n"
    "        child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
    "        print('pids', json.dumps([os.getpid(), child.pid]), flush=True)\n"
    "        print('scratch', tempfile.gettempdir(), flush=True)\n"
    "        time.sleep(300)\n"
)


async def stay(url: str, tmp_path: Path) -> tuple[list[int], Path]:
    """Start a run that leaves a ``setsid`` child and sleeps; its pids and scratch folder."""
    (tmp_path / "stayer").mkdir()
    (tmp_path / "stayer" / "main.py").write_text(STAYER)
    async with aiokili.AsyncKili(api_key="k", api_endpoint=url) as kili:
        await kili.upload_plugin(tmp_path / "stayer")
        project_id = await new_project(kili)
        (asset_id,) = await import_images(kili, project_id, 1)
        await kili.activate_plugin_on_project("stayer", project_id)
        await kili.append_labels(asset_id_array=[asset_id], json_response_array=[answer("A")])
        entries = await wait_logs(
            kili, project_id, "stayer", lambda es: any("scratch" in c for c in contents(es))
        )
    lines = contents(entries)
    return json.loads(said(lines, "pids ")), Path(said(lines, "scratch "))


@needs_cgroups
async def test_no_process_of_a_run_outlives_aiokili_server_stopped_by_sigterm(
    cli_server: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    server, url = cli_server
    pids, scratch = await stay(url, tmp_path)
    server.terminate()
    assert await anyio.to_thread.run_sync(server.wait) == 0
    assert [pid for pid in pids if running(pid)] == []
    assert not scratch.exists()


@needs_cgroups
async def test_what_a_killed_server_left_is_killed_when_a_server_starts(
    cli_server: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    server, url = cli_server
    pids, scratch = await stay(url, tmp_path)
    server.kill()  # SIGKILL: the server cannot clean up
    await anyio.to_thread.run_sync(server.wait)
    assert all(running(pid) for pid in pids) and scratch.exists()
    with LocalServer():
        pass
    assert [pid for pid in pids if running(pid)] == []
    assert not scratch.exists()


@pytest.mark.skipif(landlock_abi() < 6, reason="Landlock cannot scope signals in this kernel")
async def test_without_cgroups_a_run_that_ends_still_kills_what_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback of machines where the server may not make cgroups (not root, none
    delegated): the run's first process kills its descendants as it ends."""
    monkeypatch.setattr(confine, "_hierarchies", lambda tag: [])
    monkeypatch.setattr(users, "pool", lambda: None)  # not root: no run users either
    body = (
        "        plain = subprocess.Popen(['sleep', '300'])\n"
        "        setsid = subprocess.Popen(['sleep', '301'], start_new_session=True)\n"
        "        daemon = subprocess.run(\n"
        "            ['sh', '-c', 'setsid sleep 302 >/dev/null 2>&1 & echo $!'],\n"
        "            capture_output=True, text=True).stdout.strip()\n"
        "        print('pids', json.dumps([plain.pid, setsid.pid, int(daemon)]))\n"
    )
    with LocalServer(plugin_limits=LIMITS) as srv:
        async with aiokili.AsyncKili(api_key=srv.api_key, api_endpoint=srv.url) as kili:
            _, lines = await run_once(kili, tmp_path, "leaver", body)
    assert any(line.startswith("Run on_submit finished") for line in lines), lines
    assert [pid for pid in json.loads(said(lines, "pids ")) if running(pid)] == []


@pytest.mark.skipif(
    "cpu" not in Containment.detect(LIMITS, []).controllers, reason="no cpu cgroup here"
)
def test_runs_together_are_held_to_their_cpus() -> None:
    """Two busy processes in two boxes, all runs capped at a quarter of a CPU together: the
    kernel throttles them (the server keeps the rest)."""
    found = Containment.detect(PluginLimits(cpus=0.25), [])
    try:
        (cpu,) = [h for h in found.hierarchies if "cpu" in h.controllers]
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
        try:
            for process in busy:
                box = found.box("run")
                (folder,) = [f for f, _ in box.folders if f.parent == cpu.folder]
                (folder / "cgroup.procs").write_text(str(process.pid))
            time.sleep(1.0)
            stat = dict(line.split() for line in (cpu.folder / "cpu.stat").read_text().splitlines())
        finally:
            for process in busy:
                process.kill()
                process.wait()
        assert int(stat["nr_throttled"]) > 0
    finally:
        found.close()
