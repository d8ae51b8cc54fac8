"""What a plugin run or build does to itself before any plugin code runs (standard library
only: it is loaded by path in the run's process, and runs pip for builds).

:func:`confine` applies a spec the server made (``confine.Containment.spec``), in order:

1. join the run's cgroups (its memory and process limits, and how it is killed whole);
2. per-process limits: address space (``RLIMIT_AS``), file size (``RLIMIT_FSIZE``);
3. ``umask 077`` and no new privileges (``PR_SET_NO_NEW_PRIVS``: no setuid binary gains any);
4. Landlock: the process and all it starts read only the interpreter, the installed
   packages, a few system files and the plugin's own folders, and write only the run's
   scratch folder; it cannot signal or ptrace processes outside the run;
5. when it runs as root: every capability dropped, for good (bounding set emptied,
   securebits locked), so it cannot lift its limits, leave its cgroups or load modules;
   or, where the spec gives the run a user id of its own (no cgroup process cap here), it
   becomes that user with ``RLIMIT_NPROC`` capping its processes together (:func:`become`).

``python sandbox.py SPEC_JSON -- PROGRAM ARGS...`` confines itself then ``exec``s the program
(builds run pip this way). Any step that fails raises: a run is never started half confined.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys
import time
from collections.abc import Iterable
from typing import Any

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # same on arm64
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS, _PR_CAPBSET_DROP, _PR_SET_SECUREBITS = 38, 24, 28
_PR_SET_KEEPCAPS, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_RAISE = 8, 47, 2
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2
_SECUREBITS_LOCKED = 0b11101111  # NOROOT, NO_SETUID_FIXUP, KEEP_CAPS locked, NO_AMBIENT_RAISE
_CAP_VERSION_3 = 0x20080522

# Landlock filesystem rights (ABI 1 first; REFER: 2, TRUNCATE: 3, IOCTL_DEV: 5)
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | 1 << 14 | 1 << 15
_READ = _EXECUTE | _READ_FILE | _READ_DIR
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6


class ConfinementError(OSError):
    """A step of the confinement could not be applied."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> int:
    if result < 0:
        errno = ctypes.get_errno()
        raise ConfinementError(errno, f"{what}: {os.strerror(errno)}")
    return result


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: not available)."""
    if not sys.platform.startswith("linux"):
        return 0
    result = _libc().syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    return max(int(result), 0)


def _handled_fs(abi: int) -> int:
    return (1 << {1: 13, 2: 14, 3: 15, 4: 15}.get(abi, 16)) - 1


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock(read: Iterable[str], write: Iterable[str]) -> int:
    """Restrict this process and its future children to reading ``read`` and reading and
    writing ``write`` (paths that do not exist are skipped); the ABI used."""
    libc, abi = _libc(), landlock_abi()
    if abi < 1:
        raise ConfinementError(0, "Landlock is not available in this kernel")
    handled = _handled_fs(abi)
    attr = (ctypes.c_uint64 * 3)(handled, 0, _SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL)
    size = 24 if abi >= 6 else 8  # handled_access_net (ABI 4) left 0: the network is open
    ruleset = _check(
        libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0),
        "landlock_create_ruleset",
    )
    try:
        for paths, rights in ((read, _READ), (write, handled)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    is_dir = os.path.isdir(path)
                    allowed = rights & handled if is_dir else rights & handled & _FILE_RIGHTS
                    rule = _PathBeneath(allowed, fd)
                    _check(
                        libc.syscall(
                            _SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0
                        ),
                        f"landlock_add_rule {path}",
                    )
                finally:
                    os.close(fd)
        _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        _check(libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


def drop_root() -> None:
    """Drop every capability of a root process, for good (also across ``exec``)."""
    libc = _libc()
    _check(libc.prctl(_PR_SET_SECUREBITS, _SECUREBITS_LOCKED, 0, 0, 0), "securebits")
    for cap in range(64):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) < 0:
            break  # past the last capability this kernel knows
    header = (ctypes.c_uint32 * 2)(_CAP_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: none (two words)
    _check(libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


def become(uid: int, processes: int) -> None:
    """Become user ``uid`` (a root process), capped at ``processes`` processes and threads
    of that user together (``RLIMIT_NPROC``). Every capability is dropped for good but the
    two that pass file permissions (kept across ``exec`` as ambient ones), so the run reads
    the files it read as root; Landlock decides which (without Landlock it reads what the
    server's user reads, as a run of a root server without run users does)."""
    libc = _libc()
    keep = (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH)
    for cap in range(64):
        if cap not in keep and libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) < 0:
            break  # past the last capability this kernel knows
    _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _check(libc.prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0), "keepcaps")
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    mask = sum(1 << cap for cap in keep)
    header = (ctypes.c_uint32 * 2)(_CAP_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)(mask, mask, mask, 0, 0, 0)  # effective, permitted, inheritable
    _check(libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")
    for cap in keep:
        _check(libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_RAISE, cap, 0, 0), "ambient")


def _join(procs: Iterable[str]) -> None:
    for path in procs:
        with open(path, "w", encoding="ascii") as handle:
            handle.write(str(os.getpid()))


def _limit(kind: int, value: int | None) -> None:
    if value:
        resource.setrlimit(kind, (value, value))


def confine(spec: dict[str, Any]) -> None:
    """Apply ``spec`` to this process (see the module docstring); raises if a step fails."""
    _join(spec.get("procs") or ())
    _limit(resource.RLIMIT_AS, spec.get("addressSpace"))
    _limit(resource.RLIMIT_FSIZE, spec.get("fileSize"))
    os.umask(0o077)
    if spec.get("landlock"):
        landlock(spec.get("read") or (), spec.get("write") or ())
    if os.geteuid() == 0 and spec.get("user") is not None:
        become(int(spec["user"]), int(spec["processes"]))
    elif os.geteuid() == 0:
        drop_root()


def sweep() -> None:
    """Kill every process this one started, ``setsid`` or double-forked ones included:
    ``kill(-1)`` reaches only the processes of this Landlock domain when signals are scoped
    (ABI 6+; the caller checks), i.e. this process's descendants. For machines without
    cgroups; a few rounds catch what was forking meanwhile."""
    for _ in range(10):
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            return
        time.sleep(0.005)


def main(argv: list[str]) -> int:
    """``SPEC_JSON -- PROGRAM ARGS...``: confine, then ``exec`` the program."""
    split = argv.index("--")
    confine(json.loads(argv[split - 1]))
    program = argv[split + 1 :]
    os.execv(program[0], program)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv))
