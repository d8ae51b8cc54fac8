"""Packaging: the official SDK's cached venv (creation logic) and the wheel's contents.

The full wheel check (build, install non-editable in a fresh venv, run the quickstart from
outside the repository) is ``.ci/wheel-check``, run by ``.ci/run``; set AIOKILI_WHEEL_CHECK=1
to also run it from pytest (slow).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import zipfile

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]
from email.parser import Parser
from pathlib import Path

import official_env
import pytest

ROOT = Path(__file__).resolve().parents[1]

# Stands in for the (pip-installing) creation, to test locking and readiness offline.
_HARNESS = textwrap.dedent(
    """
    import json, os, sys, time
    sys.path.insert(0, sys.argv[1])
    import official_env

    def fake_create(venv, log):
        with open(os.environ["CREATIONS"], "a") as f:
            f.write(str(venv) + "\\n")
        official_env.shutil.rmtree(venv, ignore_errors=True)
        (venv / "bin").mkdir(parents=True)
        time.sleep(float(sys.argv[2]))
        if sys.argv[3] == "crash":
            os._exit(3)
        os.symlink(sys.executable, venv / "bin" / "python")
        marker = official_env._expected_marker()
        (venv / official_env._MARKER).write_text(json.dumps(marker))

    official_env._create = fake_create
    print(official_env.ensure(log=None))
    """
)


def _ensure(cache: Path, creations: Path, delay: float, mode: str = "ok") -> subprocess.Popen[str]:
    env = {**os.environ, "AIOKILI_CACHE_DIR": str(cache), "CREATIONS": str(creations)}
    return subprocess.Popen(
        [sys.executable, "-c", _HARNESS, str(ROOT / "tests"), str(delay), mode],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_official_env_is_created_once_when_processes_race(tmp_path: Path) -> None:
    creations = tmp_path / "creations.txt"
    procs = [_ensure(tmp_path / "cache", creations, 1.0) for _ in range(3)]
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0]
    assert len(set(outputs)) == 1 and outputs[0].endswith("/bin/python")
    assert len(creations.read_text().splitlines()) == 1
    # Ready: the next call creates nothing.
    again = _ensure(tmp_path / "cache", creations, 0.0)
    assert again.communicate(timeout=60)[0].strip() == outputs[0]
    assert len(creations.read_text().splitlines()) == 1


def test_an_interrupted_creation_is_started_over(tmp_path: Path) -> None:
    creations = tmp_path / "creations.txt"
    crashed = _ensure(tmp_path / "cache", creations, 0.0, "crash")
    crashed.communicate(timeout=60)
    assert crashed.returncode == 3
    done = _ensure(tmp_path / "cache", creations, 0.0)
    assert done.communicate(timeout=60)[0].strip().endswith("/bin/python")
    assert done.returncode == 0
    assert len(creations.read_text().splitlines()) == 2


def test_official_env_cli_prints_the_python(tmp_path: Path) -> None:
    """`python tests/official_env.py` is what benchmarks call; it must print one path."""
    expected = official_env.python_for_tests()  # skips / fails as the other official tests
    out = subprocess.run(
        [sys.executable, str(ROOT / "tests/official_env.py")],
        capture_output=True, text=True, timeout=1500, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    python = Path(out.stdout.strip())
    assert python == expected
    version = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('kili'))"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout.strip()  # fmt: skip
    assert version == official_env.KILI_VERSION


@pytest.mark.skipif(
    os.environ.get("AIOKILI_WHEEL_CHECK") != "1",
    reason="slow; .ci/run runs .ci/wheel-check (AIOKILI_WHEEL_CHECK=1 runs it here)",
)
def test_wheel_check_script() -> None:
    result = subprocess.run(
        ["bash", str(ROOT / ".ci/wheel-check")], capture_output=True, text=True, timeout=1800
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]


def test_wheel_contents_and_metadata(tmp_path: Path) -> None:
    """Build the wheel (no deps, a few seconds) and read what it ships and declares."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("aiokili-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (dist_info,) = {n.split("/")[0] for n in names if ".dist-info/" in n}
        metadata = Parser().parsestr(zf.read(f"{dist_info}/METADATA").decode())
        entry_points = zf.read(f"{dist_info}/entry_points.txt").decode()
    for shipped in ("aiokili/schema.graphql", "aiokili/py.typed", "aiokili/server/app.py",
                    "aiokili/_generated/client.py", "aiokili/_generated/inputs/asset_where.py",
                    "aiokili/cli/__init__.py",
                    "aiokili/cli/__main__.py", "aiokili/cli/plugins.py",
                    # the schema's revisions, applied by the server at start
                    "aiokili/server/store/migrations/env.py",
                    "aiokili/server/store/migrations/script.py.mako",
                    "aiokili/server/store/migrations/head.sql",
                    "aiokili/server/store/migrations/versions/r0001_schema.py"):  # fmt: skip
        assert shipped in names, shipped
    assert not [n for n in names if n.startswith(("tests/", "src/")) or "__pycache__" in n]
    assert metadata["Requires-Python"] == ">=3.10"
    assert {"server", "cli", "dev", "pandas", "docs", "exports"} <= set(
        metadata.get_all("Provides-Extra") or []
    )
    requires = metadata.get_all("Requires-Dist") or []
    core = sorted(r.split(">")[0].split("<")[0] for r in requires if "extra ==" not in r)
    assert core == ["anyio", "graphql-core", "httpx", "httpx-aiohttp", "pydantic", "websockets"], (
        requires
    )
    assert metadata["License-Expression"] == "Apache-2.0"
    assert "[console_scripts]\naiokili = aiokili.cli:main" in entry_points
    assert "[pytest11]\naiokili = aiokili.testing" in entry_points
    # What a user (and PyPI) reads: the license text shipped, classifiers, links.
    assert f"{dist_info}/licenses/LICENSE" in names
    assert metadata.get_all("License-File") == ["LICENSE"]
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers and "Framework :: Pytest" in classifiers
    pythons = sorted(c.rsplit(" ", 1)[1] for c in classifiers if re.fullmatch(r".*:: 3\.\d+", c))
    assert pythons == list(SUPPORTED_PYTHONS), classifiers
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Documentation", "Source", "Issues", "Changelog"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values()), urls
    assert metadata["Summary"] and "aiokili" in (metadata.get_payload() or "")  # the README


# The versions we state (classifiers, README) are the ones CI runs: .ci/run tests the oldest
# (3.10) in a virtualenv of its own and the machine's python3 (3.11); the newer ones it finds
# (3.12 to 3.14) get the wheel check only, which the README says.
SUPPORTED_PYTHONS = ("3.10", "3.11")


def test_supported_pythons_are_stated_and_tested() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == f">={SUPPORTED_PYTHONS[0]}"
    ci = (ROOT / ".ci/run").read_text()
    assert f"python{SUPPORTED_PYTHONS[0]}" in ci and "sys.version_info[:2] == (3, 10)" in ci
    readme = (ROOT / "README.md").read_text()
    assert f"Python {SUPPORTED_PYTHONS[0]} or" in readme
    assert (
        "for minor in 12 13 14" in ci and "installs and runs the wheel on 3.12 and 3.13" in readme
    )


def test_changelog_has_the_current_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert re.search(rf"^## \[?{re.escape(version)}\]?", changelog, re.M), version
    from aiokili import __version__

    assert __version__ == version
