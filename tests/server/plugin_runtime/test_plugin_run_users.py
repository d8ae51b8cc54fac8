"""Run users: a root server that cannot make cgroups with a process cap (a container with a
read-only cgroup file system) gives each run a user id of its own. Tried as an attacker
would, with the machine's cgroups hidden from the server: a fork bomb stops at the run's
process cap, ``setsid`` children die at the time limit and when the run ends, the run is
not root, and what a killed server left runs no more once a server starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import test_plugin_containment as containment
from plugin_support import server_secret
from test_plugin_containment import LIMITS, of_session, run_once, running, said

import aiokili
from aiokili.server import LocalServer
from aiokili.server.plugin_runtime import confine, users

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(users.pool() is None, reason="run users need a root server on Linux"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(confine, "_hierarchies", lambda tag: [])  # as if no cgroup were ours
        with LocalServer(plugin_limits=LIMITS) as srv:
            yield srv


@pytest.fixture
async def admin(server: LocalServer) -> AsyncIterator[aiokili.AsyncKili]:
    async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
        yield kili


async def test_a_run_is_a_user_of_its_own_not_root(
    admin: aiokili.AsyncKili, tmp_path: Path
) -> None:
    body = "        print('ids', json.dumps([os.getuid(), os.geteuid(), os.getgid()]))\n"
    _, lines = await run_once(admin, tmp_path, "whoami", body)
    uid, euid, gid = json.loads(said(lines, "ids "))
    assert uid == euid == gid and uid >= 100_000, lines
    assert any(line.startswith("Run on_submit finished") for line in lines), lines


async def test_a_fork_bomb_stops_at_the_runs_process_cap_and_is_swept(
    admin: aiokili.AsyncKili, tmp_path: Path
) -> None:
    body = (  # new sessions on every fork: a process group kill would miss them all
        "        print('uid', os.getuid(), flush=True)\n"
        "        forked, refused = 0, None\n"
        "        for _ in range(200):\n"
        "            try:\n"
        "                if os.fork() == 0:\n"
        "                    os.setsid()\n"
        "                    while True:\n"
        "                        try:\n"
        "                            if os.fork() == 0:\n"
        "                                os.setsid()\n"
        "                        except OSError:\n"
        "                            time.sleep(0.01)\n"
        "                forked += 1\n"
        "            except OSError as exc:\n"
        "                refused = exc.strerror\n"
        "                break\n"
        "        print('forked', forked, 'then', refused, flush=True)\n"
    )
    _, lines = await run_once(admin, tmp_path, "bomb", body)
    count, _, why = said(lines, "forked ").partition(" then ")
    assert int(count) < LIMITS.max_processes and why == "Resource temporarily unavailable"
    assert users.processes_of(int(said(lines, "uid "))) == []
    assert (await admin.count_projects()) >= 1


async def test_setsid_children_die_with_a_run_that_ends(
    admin: aiokili.AsyncKili, tmp_path: Path
) -> None:
    body = (
        "        setsid = subprocess.Popen(['sleep', '301'], start_new_session=True)\n"
        "        daemon = subprocess.run(['sh', '-c', 'setsid sleep 302 >/dev/null 2>&1 & echo $!'],\n"
        "                                capture_output=True, text=True).stdout.strip()\n"
        "        print('pids', json.dumps([setsid.pid, int(daemon)]))\n"
    )
    _, lines = await run_once(admin, tmp_path, "leaver", body)
    assert any(line.startswith("Run on_submit finished") for line in lines), lines
    assert [pid for pid in json.loads(said(lines, "pids ")) if running(pid)] == []


async def test_a_setsid_child_dies_with_a_run_killed_at_its_time_limit(
    admin: aiokili.AsyncKili, tmp_path: Path
) -> None:
    body = (
        "        child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        "        print('pid', child.pid, 'session', os.getsid(child.pid), flush=True)\n"
        "        time.sleep(300)\n"
    )
    _, lines = await run_once(admin, tmp_path, "sleeper", body)
    assert f"Run killed: over the time limit of {LIMITS.timeout_s:g} s." in lines
    pid, _, session = said(lines, "pid ").partition(" session ")
    assert not running(int(pid)) and of_session(int(session)) == []


def test_what_a_killed_servers_run_user_left_is_killed_when_a_server_starts() -> None:
    """A server killed with SIGKILL leaves its runs' user ids in their scratch folders'
    names; the next server kills what still runs as them."""
    ids = users.pool()
    assert ids is not None
    uid = users.draw(ids, set())
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid no process has now: the "killed server"
    scratch = Path(tempfile.mkdtemp(prefix=f"aiokili-run-{dead.pid}-{uid}-"))
    left = subprocess.Popen(
        ["sleep", "300"], user=uid, group=uid, extra_groups=[], start_new_session=True
    )
    try:
        assert users.processes_of(uid) == [left.pid]
        with LocalServer():
            pass
        assert left.wait(timeout=10) == -9
        assert not scratch.exists()
    finally:
        left.kill()


def test_a_server_that_is_not_root_gives_no_run_users(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert users.pool() is None


async def test_a_run_user_reads_not_the_database_and_signals_not_the_server(
    server: LocalServer, admin: aiokili.AsyncKili, tmp_path: Path
) -> None:
    """The two file capabilities a run user keeps do not pass Landlock."""
    if confine.sandbox.landlock_abi() < 1:
        pytest.skip("no Landlock in this kernel")
    targets = [server_secret(server), "/etc/shadow"]
    body = (
        f"        for path in {targets!r}:\n"
        "            try:\n"
        "                open(path, 'rb').read(1)\n"
        "                print('read', path)\n"
        "            except OSError as exc:\n"
        "                print('refused', path, type(exc).__name__)\n"
        f"        try:\n"
        f"            os.kill({os.getpid()}, 0)\n"
        "            print('signalled the server')\n"
        "        except OSError as exc:\n"
        "            print('signal refused', type(exc).__name__)\n"
    )
    _, lines = await run_once(admin, tmp_path, "snoop", body)
    for path in targets:
        assert f"refused {path} PermissionError" in lines, lines
    assert "signal refused PermissionError" in lines, lines


async def test_a_build_is_confined_as_a_run_user(
    server: LocalServer,
    admin: aiokili.AsyncKili,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sdist whose ``setup.py`` tries to escape, as with cgroups (same test body)."""
    if confine.sandbox.landlock_abi() < 1:
        pytest.skip("no Landlock in this kernel")
    await containment.test_a_package_from_the_index_builds_confined_like_a_run(
        server, admin, tmp_path, monkeypatch
    )
