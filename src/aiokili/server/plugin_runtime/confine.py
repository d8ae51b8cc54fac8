"""How plugin runs and builds are contained on this machine, and one run's :class:`Box`.

Detected once when the plugin service starts (:meth:`Containment.detect`):

* **cgroups** (Linux, root or a delegated cgroup): each run and each build gets cgroups of
  its own, where every process it starts lands, ``setsid`` or not. Its memory cap
  (``memory_mb``) and process cap (``max_processes``) hold for all its processes together,
  its CPU weight is a tenth of a server process's, and so is that of all runs together,
  which use at most ``PluginLimits.cpus`` CPUs (busy runs cannot starve the server),
  and when it ends the whole cgroup is killed (``cgroup.kill`` on cgroup v2; on v1, every
  process listed until none is left). cgroup v2 controllers are used where the server's
  cgroup can enable them for its children; otherwise the v1 ``memory``, ``pids`` and ``cpu``
  hierarchies of a hybrid layout.
* **Landlock** (Linux 5.13+, needs no root): the run reads only the interpreter, the
  installed packages, a few system files and the plugin's own folders, writes only its
  scratch folder, and cannot signal or ptrace anything outside itself (ABI 6+).
* **root**: a run started by a root server drops every capability (``sandbox.drop_root``).

A root server without a cgroup process cap gives each run and build a user id of its own
(:mod:`.users`): ``RLIMIT_NPROC`` caps its processes together and it is killed whole by user
id. Otherwise, without cgroups, the limits are per process (``RLIMIT_AS``); a run that ends
by itself kills what it started (``sandbox.sweep``, with Landlock ABI 6+), but a run killed at its time
limit is killed by its process group only, which a ``setsid`` child escapes
(docs/plugins.md says what holds where).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..settings import PluginLimits
from . import sandbox, users

MiB = 1024 * 1024
_CONTROLLERS = ("memory", "pids", "cpu")
# a run's CPU weight against a process of the server's (cgroup v2 cpu.weight default 100,
# v1 cpu.shares 1024): a tenth, so that busy runs cannot starve the server
_CPU_WEIGHT = {2: "10", 1: "102"}
# what any Python program needs from the system, read-only (not /etc as a whole: it holds
# /etc/shadow and TLS private keys; not /proc: other processes' command lines)
_SYSTEM_READ = (
    "/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/ssl/certs", "/etc/pki",
    "/etc/ssl/openssl.cnf", "/etc/ca-certificates", "/etc/resolv.conf", "/etc/hosts",
    "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf", "/etc/services",
    "/etc/protocols", "/etc/localtime", "/etc/mime.types", "/etc/ld.so.cache",
    "/etc/passwd", "/etc/group", "/etc/os-release", "/etc/debian_version", "/etc/lsb-release",
    "/etc/redhat-release", "/etc/alpine-release", "/dev/null", "/dev/zero", "/dev/urandom", "/dev/random",
    "/sys/devices/system/cpu",
)  # fmt: skip
_SYSTEM_WRITE = ("/dev/null",)


@dataclass(frozen=True)
class _Hierarchy:
    """Our folder for runs in one cgroup hierarchy, and the limits set through it."""

    folder: Path
    version: int
    controllers: frozenset[str]


def _mounts() -> list[tuple[Path, str, set[str]]]:
    """(mount point, file system type, super options) of every cgroup mount."""
    found = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo", encoding="utf-8") as lines:
        for line in lines:
            left, _, right = line.partition(" - ")
            kind, _, options = [*right.split(), "", "", ""][:3]
            if kind in ("cgroup", "cgroup2"):
                found.append((Path(left.split()[4]), kind, set(options.split(","))))
    return found


def _own() -> dict[str, str]:
    """This process's cgroup per controller ("" for cgroup v2)."""
    own = {}
    with contextlib.suppress(OSError), open("/proc/self/cgroup", encoding="utf-8") as lines:
        for line in lines:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                own[name] = path
    return own


def _make(parent: Path, name: str) -> Path | None:
    folder = parent / name
    try:
        folder.mkdir()
    except OSError:
        return None
    return folder


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value, encoding="ascii")
    except OSError:
        return False
    return True


def _gone(name: str, at: int) -> bool:
    """Whether the server whose pid is part ``at`` of ``name`` (``aiokili-...``) is gone."""
    parts = name.split("-")
    return len(parts) > at and parts[at].isdigit() and not Path(f"/proc/{parts[at]}").exists()


def _sweep(parent: Path) -> None:
    """Empty and remove the folders a server that is gone left in ``parent`` (it was
    killed: its runs were not): every process in them is killed."""
    for stale in parent.glob("aiokili-*-*"):
        if _gone(stale.name, 1):
            runs = [(folder, 1) for folder in stale.iterdir() if folder.is_dir()]
            Box(None, runs, None).close_now()
            with contextlib.suppress(OSError):
                stale.rmdir()


def _sweep_scratch() -> None:
    """Remove the scratch folders of the runs and builds of servers that are gone."""
    for stale in Path(tempfile.gettempdir()).glob("aiokili-*-*-*"):
        if stale.name.split("-")[1] in ("run", "build") and _gone(stale.name, 2):
            users.sweep(stale.name)
            shutil.rmtree(stale, True)


def _hierarchies(tag: str) -> list[_Hierarchy]:
    """Our run folders: a cgroup v2 one (kills runs whole; sets the limits its controllers
    allow) and v1 ones for the limits v2 cannot set here."""
    mounts, own, found = _mounts(), _own(), []
    missing = set(_CONTROLLERS)
    for mount, kind, _ in mounts:
        if kind == "cgroup2" and "" in own:
            _sweep(mount / own[""].lstrip("/"))
            folder = _make(mount / own[""].lstrip("/"), tag)
            if folder is None:
                continue
            offered = set((folder / "cgroup.controllers").read_text().split()) & missing
            enabled = {c for c in offered if _write(folder / "cgroup.subtree_control", f"+{c}")}
            found.append(_Hierarchy(folder, 2, frozenset(enabled)))
            missing -= enabled
            break
    for controller in sorted(missing):
        for mount, kind, options in mounts:
            if kind == "cgroup" and controller in options and controller in own:
                _sweep(mount / own[controller].lstrip("/"))
                folder = _make(mount / own[controller].lstrip("/"), tag)
                if folder is not None:
                    found.append(_Hierarchy(folder, 1, frozenset({controller})))
                break
    return found


@dataclass
class Containment:
    """What contains plugin runs here (see the module docstring)."""

    limits: PluginLimits
    hierarchies: list[_Hierarchy] = field(default_factory=list)
    landlock_abi: int = 0
    protected: tuple[Path, ...] = ()
    boxes: set[Box] = field(default_factory=set)  # open ones
    user_ids: range | None = None  # run users (see .users), where cgroups have no pids
    _read: list[str] | None = None  # the packages' folders, found once

    @classmethod
    def detect(cls, limits: PluginLimits, protected: list[Path]) -> Containment:
        """Probe the machine: make our cgroup folders if we can, read the Landlock ABI.
        ``protected``: what no run may read (the database, the files folder)."""
        tag = f"aiokili-{os.getpid()}-{secrets.token_hex(3)}"
        hierarchies = []
        if sys.platform.startswith("linux"):
            hierarchies = _hierarchies(tag)
            _sweep_scratch()
        resolved = tuple(p.resolve() for p in protected)
        found = cls(limits, hierarchies, sandbox.landlock_abi(), resolved)
        for hierarchy in hierarchies:
            if "cpu" in hierarchy.controllers:
                _cap_cpu(hierarchy, limits.cpus or max(0.5, (os.cpu_count() or 1) / 2))
        if "pids" not in found.controllers:
            found.user_ids = users.pool()
        return found

    @property
    def controllers(self) -> set[str]:
        return {c for h in self.hierarchies for c in h.controllers}

    def read_paths(self, own: list[Path]) -> list[str]:
        """What a run may read: the interpreter, the packages on the server's path, the
        system files of ``_SYSTEM_READ`` and ``own`` (the plugin's folders); never a folder
        holding a protected path."""
        if self._read is None:
            self._read = self._packages()
        return [*self._read, *_SYSTEM_READ, *(str(p) for p in own)]

    def _packages(self) -> list[str]:
        places = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        places |= {p for p in sysconfig.get_paths().values() if p}
        places |= {p for p in sys.path if p and os.path.isabs(p)}
        places.discard(os.getcwd())
        places.discard(os.path.dirname(os.path.abspath(sys.argv[0] or ".")))
        allowed = []
        for place in sorted(places):
            path = Path(place).resolve()
            if path.exists() and not any(p.is_relative_to(path) for p in self.protected):
                allowed.append(str(path))
        return allowed

    def box(self, what: str) -> Box:
        """A new box (cgroups, scratch folder) for one run or build."""
        uid = None
        if self.user_ids is not None:
            uid = users.draw(self.user_ids, {b.uid for b in self.boxes if b.uid is not None})
        scratch = Path(tempfile.mkdtemp(prefix=users.folder_name(what, uid)))
        name = f"{what}-{secrets.token_hex(6)}"
        folders = []
        for hierarchy in self.hierarchies:
            folder = _make(hierarchy.folder, name)
            if folder is None:
                continue
            if "memory" in hierarchy.controllers:
                _memory(folder, hierarchy.version, self.limits.memory_mb * MiB)
            if "pids" in hierarchy.controllers:
                _write(folder / "pids.max", str(self.limits.max_processes))
            if "cpu" in hierarchy.controllers:
                weight = "cpu.weight" if hierarchy.version == 2 else "cpu.shares"
                _write(folder / weight, _CPU_WEIGHT[hierarchy.version])
            folders.append((folder, hierarchy.version))
        box = Box(self, folders, scratch, uid)
        self.boxes.add(box)
        return box

    def close(self) -> None:
        """Kill what is still in a box (the server stops: no run outlives it), then remove
        our cgroup folders."""
        for box in list(self.boxes):
            box.close_now()
        for hierarchy in self.hierarchies:
            with contextlib.suppress(OSError):
                hierarchy.folder.rmdir()


def _cap_cpu(hierarchy: _Hierarchy, cpus: float) -> None:
    """All runs and builds together: a tenth of a server process's CPU weight, and at most
    ``cpus`` CPUs (so busy runs leave the server its share whatever their number)."""
    folder, period = hierarchy.folder, 100_000
    quota = str(max(1_000, round(cpus * period)))
    if hierarchy.version == 2:
        _write(folder / "cpu.weight", _CPU_WEIGHT[2])
        _write(folder / "cpu.max", f"{quota} {period}")
    else:
        _write(folder / "cpu.shares", _CPU_WEIGHT[1])
        _write(folder / "cpu.cfs_period_us", str(period))
        _write(folder / "cpu.cfs_quota_us", quota)


def _memory(folder: Path, version: int, limit: int) -> None:
    if version == 2:
        _write(folder / "memory.max", str(limit))
        _write(folder / "memory.swap.max", "0")
        _write(folder / "memory.oom.group", "1")  # one process over: the run is over
    else:
        _write(folder / "memory.limit_in_bytes", str(limit))
        _write(folder / "memory.memsw.limit_in_bytes", str(limit))


@dataclass(eq=False)
class Box:
    """The cgroups and scratch folder of one run or build."""

    containment: Containment | None  # None: a stale box being swept
    folders: list[tuple[Path, int]]
    scratch: Path | None
    uid: int | None = None  # its own user id (see .users), where cgroups have no pids

    def spec(self, own: list[Path], write: tuple[Path, ...] = ()) -> dict[str, Any]:
        """What the process does to itself (:func:`sandbox.confine`) before plugin code."""
        containment = self.containment
        assert containment is not None and self.scratch is not None
        limits = containment.limits
        return {
            "procs": [str(folder / "cgroup.procs") for folder, _ in self.folders],
            "addressSpace": limits.memory_mb * MiB,
            "fileSize": limits.max_file_mb * MiB,
            "landlock": containment.landlock_abi > 0,
            "read": containment.read_paths(own),
            "write": [str(self.scratch), *_SYSTEM_WRITE, *(str(p) for p in write)],
            # no cgroup to kill the run whole: its first process kills its descendants
            # when it ends, through Landlock's signal scoping (see sandbox.sweep)
            "sweep": not self.folders and containment.landlock_abi >= 6,
            # its own user: RLIMIT_NPROC caps its processes together
            "user": self.uid,
            "processes": limits.max_processes,
        }

    def env(self) -> dict[str, str]:
        """The variables every run or build gets, besides its own (never the server's)."""
        assert self.scratch is not None
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.scratch),
            "TMPDIR": str(self.scratch),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            # RLIMIT_AS counts address space: glibc's per-thread 64 MiB malloc arenas would
            # eat the cap of a run that starts a few threads (HTTP, DNS)
            "MALLOC_ARENA_MAX": "2",
        }

    def out_of_memory(self) -> bool:
        """Whether the kernel killed a process of the box for going over its memory cap."""
        for folder, version in self.folders:
            name = "memory.events" if version == 2 else "memory.oom_control"
            with contextlib.suppress(OSError):
                for line in (folder / name).read_text().splitlines():
                    key, _, count = line.partition(" ")
                    if key == "oom_kill" and int(count or 0) > 0:
                        return True
        return False

    def kill(self) -> None:
        """SIGKILL every process in the box now (those it is still starting: see ``close``)."""
        if self.uid is not None:
            users.kill(self.uid)
        for folder, version in self.folders:
            if version == 2 and _write(folder / "cgroup.kill", "1"):
                return
        for folder, _ in self.folders:
            for pid in _pids(folder):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def _empty(self) -> bool:
        """Kill what is in the box; whether it is empty and removed (scratch aside)."""
        self.kill()
        left = []
        for folder, version in self.folders:
            try:
                folder.rmdir()  # refused while a process (or a dying one) is in it
            except FileNotFoundError:
                pass
            except OSError:
                left.append((folder, version))
        self.folders = left
        return not left and (self.uid is None or not users.processes_of(self.uid))

    async def close(self) -> None:
        """Kill what is left until the box is empty, then remove it and its scratch folder.
        (A fork bomb is capped by ``pids.max``: a few rounds empty it.)"""
        for _ in range(1000):
            if self._empty():
                break
            await asyncio.sleep(0.005)
        self._closed()
        if self.scratch is not None:
            await asyncio.to_thread(shutil.rmtree, self.scratch, True)

    def close_now(self) -> None:
        """:meth:`close`, blocking (the server is stopping: no awaiting any more)."""
        for _ in range(1000):
            if self._empty():
                break
            time.sleep(0.005)
        self._closed()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, True)

    def _closed(self) -> None:
        if self.containment is not None:
            self.containment.boxes.discard(self)


def _pids(folder: Path) -> list[int]:
    try:
        return [int(p) for p in (folder / "cgroup.procs").read_text().split()]
    except OSError:
        return []
