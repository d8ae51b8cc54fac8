"""The official ``kili`` SDK in a virtualenv of its own, created once and cached.

The official SDK cannot share our environment (through ``gql`` it pins graphql-core < 3.2.7,
while the server and ariadne-codegen need a newer one), and it must not: what the
compatibility tests have to catch is how *its* dependencies see our server. So it lives in
``$AIOKILI_CACHE_DIR/official-kili-<version>-<extras>-py<X.Y>`` (default cache directory:
``$XDG_CACHE_HOME/aiokili``, else ``~/.cache/aiokili``), with only ``kili[<extras>]==<version>``
installed and its dependencies resolved by pip. The extras are the official SDK's own:
``image`` (``imagesize``: without it the SDK cannot import a local image) and ``gis``
(``shapely``, ``pyproj``: ``append_labels_from_shapefiles``) and ``pandas``
(``export_labels_as_df``).

Creation happens once, under a lock file, so concurrent test runs or benchmarks wait for one
another instead of racing; a venv counts as ready only once a marker file is written at the
very end, so an interrupted creation is started over. If pip fails (no network...), the
error carries pip's output.

Command line (for benchmarks and scripts)::

    python tests/official_env.py             # prints the venv's python, creating it if needed
    python tests/official_env.py --kili-dir  # prints the installed kili package's directory
    python tests/official_env.py --rebuild   # starts over
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

KILI_VERSION = "26.2.4"
KILI_EXTRAS = ("gis", "image", "pandas")
REQUIREMENT = f"kili[{','.join(KILI_EXTRAS)}]=={KILI_VERSION}"
SKIP_VARIABLE = "AIOKILI_SKIP_OFFICIAL"
_MARKER = "aiokili-official-env.json"
_PIP_TIMEOUT = 1200  # seconds, for the whole install


class OfficialEnvError(RuntimeError):
    """The official SDK's virtualenv could not be created."""


def cache_root() -> Path:
    if explicit := os.environ.get("AIOKILI_CACHE_DIR"):
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "aiokili"


def venv_dir() -> Path:
    major, minor = sys.version_info[:2]
    extras = "-".join(KILI_EXTRAS)  # in the name: a venv without them is another one
    return cache_root() / f"official-kili-{KILI_VERSION}-{extras}-py{major}.{minor}"


def _python_in(venv: Path) -> Path:
    if sys.platform == "win32":  # pragma: no cover - CI is Linux
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def clean_env(**extra: str) -> dict[str, str]:
    """Environment for the venv's processes: nothing from ours leaks into their imports."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PIP_USER"}
        and not k.startswith("KILI_")
    }
    env["PYTHONNOUSERSITE"] = "1"
    env.update(extra)
    return env


def _expected_marker() -> dict[str, str]:
    return {"requirement": REQUIREMENT, "python": ".".join(map(str, sys.version_info[:2]))}


def _is_ready(venv: Path) -> bool:
    try:
        marker = json.loads((venv / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    # exists() is False for a dangling symlink: a base interpreter that went away.
    return bool(marker == _expected_marker() and _python_in(venv).exists())


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock held as long as the block runs (released by the OS if we die)."""
    with open(path, "a+b") as handle:
        _lock(handle)
        try:
            yield
        finally:
            _unlock(handle)


if sys.platform == "win32":  # pragma: no cover - CI is Linux
    import msvcrt

    def _lock(handle: IO[bytes]) -> None:
        while True:
            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                return
            except OSError:
                continue

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _run(step: str, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, env=clean_env(),
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OfficialEnvError(f"{step} failed: {exc}") from exc
    if result.returncode != 0:
        raise OfficialEnvError(
            f"{step} failed (exit {result.returncode}): {' '.join(args)}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )
    return result


def _create(venv: Path, log: IO[str] | None) -> None:
    shutil.rmtree(venv, ignore_errors=True)  # what an interrupted creation left
    if log:
        print(f"creating {venv} with {REQUIREMENT} (once; cached)...", file=log, flush=True)
    _run("creating the virtualenv", [sys.executable, "-m", "venv", str(venv)], 300)
    python = str(_python_in(venv))
    _run(
        f"pip install {REQUIREMENT}",
        [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
         "--progress-bar", "off", REQUIREMENT],
        _PIP_TIMEOUT,
    )  # fmt: skip
    check = "import importlib.metadata as m, kili; print(m.version('kili'))"
    got = _run("importing kili", [python, "-c", check], 120).stdout.strip()
    if got != KILI_VERSION:
        raise OfficialEnvError(f"{venv}: kili {got} installed, expected {KILI_VERSION}")
    tmp = venv / (_MARKER + ".tmp")
    tmp.write_text(json.dumps(_expected_marker()), encoding="utf-8")
    os.replace(tmp, venv / _MARKER)  # the venv is ready from here on, atomically


def ensure(*, rebuild: bool = False, log: IO[str] | None = sys.stderr) -> Path:
    """Return the official venv's python, creating the venv first if needed.

    Raises OfficialEnvError (with pip's output) if it cannot be created.
    """
    venv = venv_dir()
    if not rebuild and _is_ready(venv):
        return _python_in(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    with _locked(venv.parent / f"{venv.name}.lock"):
        # Someone else may have finished it while we waited for the lock.
        if rebuild or not _is_ready(venv):
            _create(venv, log)
    return _python_in(venv)


def kili_package_dir(python: Path) -> Path:
    """The directory of the ``kili`` package installed in the venv of ``python``."""
    code = "import os, kili; print(os.path.dirname(kili.__file__))"
    return Path(_run("locating kili", [str(python), "-c", code], 120).stdout.strip())


def skip_requested() -> bool:
    return os.environ.get(SKIP_VARIABLE, "").strip().lower() not in {"", "0", "false", "no"}


_outcome: Path | OfficialEnvError | None = None


def python_for_tests() -> Path:
    """For a pytest fixture: the venv's python; fails the test (never skips silently).

    Skips only when AIOKILI_SKIP_OFFICIAL=1, and refuses to under CI. Creation is tried once
    per test session, success or failure.
    """
    import pytest

    global _outcome
    if skip_requested():
        if os.environ.get("CI", "").strip().lower() not in {"", "0", "false"}:
            pytest.fail(f"{SKIP_VARIABLE} is set, but CI is too: CI always runs the official SDK")
        pytest.skip(f"{SKIP_VARIABLE} is set: official SDK compatibility not checked")
    if _outcome is None:
        try:
            _outcome = ensure()
        except OfficialEnvError as exc:
            _outcome = exc
    if isinstance(_outcome, OfficialEnvError):
        pytest.fail(
            f"could not create the official SDK's virtualenv ({REQUIREMENT}); set "
            f"{SKIP_VARIABLE}=1 to skip these tests without network.\n{_outcome}",
            pytrace=False,
        )
    return _outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rebuild", action="store_true", help="delete and create again")
    parser.add_argument("--kili-dir", action="store_true", help="print the kili package dir")
    args = parser.parse_args()
    try:
        python = ensure(rebuild=args.rebuild)
        print(kili_package_dir(python) if args.kili_dir else python)
    except OfficialEnvError as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
