"""Standing checks: generated client in sync, mypy --strict (the package, a user's script,
every docs sample), ruff."""

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
    """The user's script indexes ``json_response``, reads ``asset.status.value``, parses
    labels... with no cast and no ``type: ignore``."""
    script = (ROOT / "tests/typing/user_script.py").read_text()
    assert "# type: ignore" not in script and "cast(" not in script
    assert 'json_response["JOB"]' in script and "asset.status.value" in script
    assert 'output_format="parsed_label"' in script
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_catches_mistakes_in_user_code() -> None:
    result = run(sys.executable, "-m", "mypy", "--strict", "tests/typing/bad_user_script.py")
    assert '"Label" has no attribute "no_such_field"' in result.stdout
    assert 'incompatible type "int"; expected "str"' in result.stdout
    assert 'Unexpected keyword argument "auhtor_in"' in result.stdout  # filters are typed
    assert "Literal['DONE']" in result.stdout
    assert '(expression has type "list[Label]", variable has type "list[Asset]")' in result.stdout
    assert '"dict[str, Any]" has no attribute "split"' in result.stdout  # a dict, not Any
    assert '(expression has type "None", variable has type "Status")' in result.stdout
    assert "Found 7 errors in 1 file" in result.stdout  # and nothing else


def test_mypy_strict_on_every_docs_sample(tmp_path: Path) -> None:
    """Each ```python sample of docs/*.md, on its own (as copied alone into a file), passes
    ``mypy --strict`` with the project's settings. Samples marked ``no-run`` are the
    official SDK's code (``kili``, not installed here), so they are not checked."""
    from test_docs import DOCS, samples

    names: dict[str, str] = {}
    for page in sorted(DOCS.glob("*.md")):
        for sample in samples(page):
            if sample.kind == "no-run":
                continue
            name = f"docs_{page.stem.replace('-', '_')}_{sample.line}.py"
            (tmp_path / name).write_text(sample.code)
            names[name] = f"docs/{page.name}, the sample at line {sample.line}"
    assert len(names) >= 20, names
    result = run(
        sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"),
        "--cache-dir", str(ROOT / ".mypy_cache"), *sorted(names), cwd=tmp_path,
    )  # fmt: skip
    failing = sorted({names[line.split(":")[0]] for line in result.stdout.splitlines()
                      if line.split(":")[0] in names})  # fmt: skip
    assert result.returncode == 0 and not failing, "\n".join(failing) + "\n" + result.stdout


@pytest.mark.parametrize("command", [("check",), ("format", "--check")])
def test_ruff(command: tuple[str, ...]) -> None:
    result = run(sys.executable, "-m", "ruff", *command, "src", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr
