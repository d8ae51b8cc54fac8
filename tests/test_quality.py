"""Standing checks: generated client in sync, mypy --strict, ruff."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "src" / "aiokili" / "_generated"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)


def _tree(path: Path) -> dict[str, Path]:
    return {
        str(p.relative_to(path)): p
        for p in path.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_generated_client_matches_schema_and_queries(tmp_path: Path) -> None:
    shutil.copy(ROOT / "codegen.toml", tmp_path / "codegen.toml")
    for name in ("queries", "codegen"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "src" / "aiokili").mkdir(parents=True)
    shutil.copy(ROOT / "schema.graphql", tmp_path / "schema.graphql")
    codegen = Path(sys.executable).with_name("ariadne-codegen")
    result = run(str(codegen), "--config", "codegen.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    fresh, committed = _tree(tmp_path / "src/aiokili/_generated"), _tree(GENERATED)
    assert sorted(fresh) == sorted(committed), "new or stale generated files: regenerate"
    changed = [n for n in fresh if not filecmp.cmp(fresh[n], committed[n], shallow=False)]
    assert not changed, f"regenerate with `ariadne-codegen --config codegen.toml`: {changed}"


def test_mypy_strict_on_package_and_user_script() -> None:
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_catches_mistakes_in_user_code() -> None:
    result = run(sys.executable, "-m", "mypy", "--strict", "tests/typing/bad_user_script.py")
    assert '"Label" has no attribute "no_such_field"' in result.stdout
    assert 'incompatible type "int"; expected "str"' in result.stdout
    assert 'Unexpected keyword argument "auhtor_in"' in result.stdout  # filters are typed
    assert "Literal['DONE']" in result.stdout
    assert '(expression has type "list[Label]", variable has type "list[Asset]")' in result.stdout


@pytest.mark.parametrize("command", [("check",), ("format", "--check")])
def test_ruff(command: tuple[str, ...]) -> None:
    result = run(sys.executable, "-m", "ruff", *command, "src", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr
