"""The documentation site: `mkdocs build --strict` passes, and every ```python sample in
docs/*.md runs against a local server (KILI_API_KEY / KILI_API_ENDPOINT set for it).

A page's samples run in order in one process, sharing their globals like a notebook. A sample
right after ``<!-- no-run -->`` is not run (used sparingly: the official SDK's code); one right
after ``<!-- pytest -->`` is a test file, run by pytest with aiokili's plugin.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from aiokili.server import LocalServer

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^(?P<marker><!-- (?P<kind>[\w-]+) -->\n)?```python\n(?P<code>.*?)^```$", re.M | re.S)  # fmt: skip


@dataclass
class Sample:
    page: str
    line: int
    kind: str  # "run", "no-run" or "pytest"
    code: str


def samples(page: Path) -> list[Sample]:
    text = page.read_text()
    found = []
    for match in FENCE.finditer(text):
        kind = match["kind"] or "run"
        assert kind in ("run", "no-run", "pytest"), f"{page.name}: unknown marker {kind!r}"
        line = text.count("\n", 0, match.start("code")) + 1
        found.append(Sample(page.name, line, kind, match["code"]))
    return found


PAGES = sorted(p for p in DOCS.glob("*.md") if any(s.kind != "no-run" for s in samples(p)))

# Runs a page's samples in order in one namespace; says which one failed.
_RUNNER = """
import json, sys, traceback
namespace = {"__name__": "__main__"}
for sample in json.load(open(sys.argv[1])):
    try:
        exec(compile(sample["code"], f"{sample['page']}:{sample['line']}", "exec"), namespace)
    except BaseException:
        traceback.print_exc()
        sys.exit(f"sample at {sample['page']} line {sample['line']} failed")
"""


def _env(server: LocalServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KILI_", "PYTEST_"))}
    return {**env, "KILI_API_KEY": server.api_key, "KILI_API_ENDPOINT": server.url}


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_docs_samples_run(page: Path, kili_fresh_server: LocalServer, tmp_path: Path) -> None:
    found = samples(page)
    runnable = [s.__dict__ for s in found if s.kind == "run"]
    (tmp_path / "samples.json").write_text(json.dumps(runnable))
    env = _env(kili_fresh_server)
    result = subprocess.run(
        [sys.executable, "-c", _RUNNER, "samples.json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    for i, sample in enumerate(s for s in found if s.kind == "pytest"):
        folder = tmp_path / f"pytest_{i}"
        folder.mkdir()
        (folder / "pytest.ini").write_text("[pytest]\n")
        (folder / f"test_sample_{i}.py").write_text(sample.code)
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=folder, env=env, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        where = f"pytest sample at {sample.page} line {sample.line}"
        assert result.returncode == 0, where + "\n" + result.stdout[-5000:]
        assert re.search(r"\d+ passed", result.stdout), where + "\n" + result.stdout[-5000:]


def test_no_run_marker_is_used_sparingly() -> None:
    every = [s for p in DOCS.glob("*.md") for s in samples(p)]
    skipped = [s for s in every if s.kind == "no-run"]
    assert len(every) >= 10
    # At most one a page (the official SDK's code, shown side by side) and a fifth overall.
    pages = [s.page for s in skipped]
    assert len(set(pages)) == len(pages), pages
    assert len(skipped) <= max(3, len(every) // 5), [(s.page, s.line) for s in skipped]


def test_docs_build_strict(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert "WARNING" not in result.stderr, result.stderr[-5000:]
    site = tmp_path / "site"
    migrating = (site / "migrating" / "index.html").read_text()
    assert "aiokili:methods-table" not in migrating  # the hook filled it
    assert "append_many_to_dataset" in migrating and "count_assets" in migrating
    rows = len(set(_hooks().public_methods()) | set(_hooks().SEED_METHODS))
    assert migrating.count("<tr>") >= rows + 1  # the generated table, one row per method
    reference = (site / "reference" / "index.html").read_text()
    for documented in ("AsyncKili", "append_labels", "KiliInputError", "LocalServer"):
        assert documented in reference, documented


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_methods_table_has_every_public_method_and_seed_method() -> None:
    hooks = _hooks()
    table = hooks.methods_table()
    import aiokili

    public = [
        n for n, m in inspect.getmembers(aiokili.AsyncKili) if inspect.isfunction(m) and n[0] != "_"
    ]
    assert len(public) > 40
    for name in (*public, *hooks.SEED_METHODS):
        assert f"| `{name}` |" in table, name
    rows = {line.split("|")[1].strip(" `"): line for line in table.splitlines()[2:]}
    assert "`async for x in kili.labels(project_id, ...)` or `await" in rows["labels"]
    assert "`await kili.count_labels(project_id, ...)`" in rows["count_labels"]
    assert "`Project`" in rows["create_project"]
    assert hooks.PLACEHOLDER in (DOCS / "migrating.md").read_text()


def test_every_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in DOCS.glob("*.md"):
        assert f": {page.name}" in nav, page.name


def test_python_samples_are_fenced_as_python() -> None:
    """A sample fenced ```py (or with the fence indented) would escape the samples test."""
    for page in DOCS.glob("*.md"):
        text = page.read_text()
        assert not re.search(r"^[ \t]*```[ \t]*(py|python3|pycon)[ \t]*$", text, re.M), page.name
        assert not re.search(r"^[ \t]+```python", text, re.M), page.name
        assert text.count("```python") == len(samples(page)), page.name
