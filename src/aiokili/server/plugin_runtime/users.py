"""Run users: where a root server cannot make cgroups with a process cap (a container
whose cgroup file system is read-only, say), each run and build gets a user id of its own.

* Its processes together are capped by ``RLIMIT_NPROC``, which the kernel counts per user:
  a fork bomb stops at the run's ``max_processes``, whatever session or parent its
  processes have.
* It is killed whole by user id: the server lists the processes whose real, effective or
  saved user id is the run's and kills them until none is left, ``setsid`` and
  double-forked ones included, at the time limit as when the run ends.
* A server that was killed leaves the run's user id in its scratch folder's name
  (``aiokili-run-<server pid>-<uid>-...``): the next server to start kills what runs as it.

Ids are drawn at random above 100,000 from this user namespace's range, never one
``/etc/passwd`` names. (The run keeps only the capability to pass file permissions, so it
reads what it read before; Landlock decides what it may read, see ``sandbox.become``.)
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import signal
import sys

_FIRST = 100_000  # below: system and people's accounts
_LAST = 2**32 - 2  # (uid_t)-1 means "no change"


def pool() -> range | None:
    """User ids a run may get here: ``None`` unless this is a root server on Linux whose
    user namespace maps at least a thousand ids above 100,000."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return None
    best: range | None = None
    with contextlib.suppress(OSError), open("/proc/self/uid_map", encoding="ascii") as lines:
        for line in lines:
            inside, _, count = (int(part) for part in line.split())
            ids = range(max(inside, _FIRST), min(inside + count, _LAST + 1))
            if len(ids) >= 1000 and (best is None or len(ids) > len(best)):
                best = ids
    return best


def draw(ids: range, taken: set[int]) -> int:
    """A user id of ``ids`` no account and no open box uses."""
    while True:
        uid = ids[secrets.randbelow(len(ids))]
        if uid in taken:
            continue
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid


def processes_of(uid: int) -> list[int]:
    """The live processes (zombies aside) whose real, effective or saved user id is
    ``uid``, read from ``/proc/<pid>/status`` (a process made not dumpable hides its owner
    from ``/proc/<pid>``'s own, not from there)."""
    found = []
    wanted = str(uid)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", encoding="ascii", errors="replace") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if status.get("State", "").strip().startswith("Z"):
            continue
        if wanted in status.get("Uid", "").split()[:3]:
            found.append(int(entry.name))
    return found


def kill(uid: int) -> bool:
    """SIGKILL every process of ``uid`` once; whether none was left to kill."""
    pids = processes_of(uid)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return not pids


def of_scratch(name: str) -> int | None:
    """The run user id in a scratch folder's name (see the module docstring), if any."""
    parts = name.split("-")
    if len(parts) >= 5 and parts[3].isdigit() and int(parts[3]) >= _FIRST:
        return int(parts[3])
    return None


def sweep(name: str) -> None:
    """Kill what runs as the user of a dead server's scratch folder ``name`` (a few rounds:
    a fork bomb is capped by ``RLIMIT_NPROC``)."""
    uid = of_scratch(name)
    if uid is None:
        return
    for _ in range(100):
        if kill(uid):
            return


def folder_name(what: str, uid: int | None) -> str:
    """The prefix of a run's or build's scratch folder."""
    return f"aiokili-{what}-{os.getpid()}-" + ("" if uid is None else f"{uid}-")
