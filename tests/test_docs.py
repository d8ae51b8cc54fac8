"""The documentation site: `mkdocs build --strict` passes quietly, and every ```python sample
in docs/*.md runs alone against a local server (KILI_API_KEY / KILI_API_ENDPOINT set for it).

Each sample runs in a process of its own, as a reader who copies that one sample would run
it: nothing is shared with the page's other samples. The server is the session's, so a
sample also copes with data it did not create. A sample right after ``<!-- no-run -->`` is
not run (used sparingly: the official SDK's code, or what needs Kili's cloud); one right
after ``<!-- pytest -->`` is a test file, run by pytest with aiokili's plugin.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import inspect
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from mkdocs.config import load_config

from aiokili.server import LocalServer

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^(?P<marker><!-- (?P<kind>[\w-]+) -->\n)?```python\n(?P<code>.*?)^```$", re.M | re.S)  # fmt: skip


@dataclass
class Sample:
    page: str
    line: int  # of the sample's first line in the page
    kind: str  # "run", "no-run" or "pytest"
    code: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"

    def write(self, path: Path) -> Path:
        """The sample as a file whose line numbers are the page's (tracebacks point there)."""
        path.write_text("\n" * (self.line - 1) + self.code)
        return path


def samples(page: Path) -> list[Sample]:
    text = page.read_text()
    found = []
    for match in FENCE.finditer(text):
        kind = match["kind"] or "run"
        assert kind in ("run", "no-run", "pytest"), f"{page.name}: unknown marker {kind!r}"
        line = text.count("\n", 0, match.start("code")) + 1
        found.append(Sample(page.name, line, kind, match["code"]))
    return found


SAMPLES = [sample for page in sorted(DOCS.glob("*.md")) for sample in samples(page)]
RUN = [s for s in SAMPLES if s.kind == "run"]
PYTEST = [s for s in SAMPLES if s.kind == "pytest"]


def _env(server: LocalServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KILI_", "PYTEST_"))}
    return {**env, "KILI_API_KEY": server.api_key, "KILI_API_ENDPOINT": server.url}


@pytest.mark.parametrize("sample", RUN, ids=[str(s) for s in RUN])
def test_sample_runs_alone(sample: Sample, kili_server: LocalServer, tmp_path: Path) -> None:
    script = sample.write(tmp_path / f"{sample.page.removesuffix('.md')}.py")
    result = subprocess.run(
        [sys.executable, script.name],
        cwd=tmp_path, env=_env(kili_server), capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"sample at docs/{sample}\n{result.stderr[-5000:]}"


@pytest.mark.parametrize("sample", PYTEST, ids=[str(s) for s in PYTEST])
def test_pytest_sample_passes(sample: Sample, kili_server: LocalServer, tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    sample.write(tmp_path / "test_sample.py")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path, env=_env(kili_server), capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    where = f"pytest sample at docs/{sample}\n{result.stdout[-5000:]}"
    assert result.returncode == 0, where
    assert re.search(r"\d+ passed", result.stdout), where


def test_no_run_marker_is_used_sparingly() -> None:
    every = [s for p in DOCS.glob("*.md") for s in samples(p)]
    skipped = [s for s in every if s.kind == "no-run"]
    assert len(every) >= 10
    # At most one a page (the official SDK's code, shown side by side) and a fifth overall.
    pages = [s.page for s in skipped]
    assert len(set(pages)) == len(pages), pages
    assert len(skipped) <= max(3, len(every) // 5), [(s.page, s.line) for s in skipped]


def test_docs_build_strict_and_quiet(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    # mkdocs' own progress lines and nothing else: no warning, no plugin's remark.
    said = [line for line in result.stderr.splitlines() if line.strip()]
    progress = ("Cleaning site directory", "Building documentation to", "Documentation built in")
    assert all(re.match(rf"INFO +- +({'|'.join(progress)})", line) for line in said), said
    site = tmp_path / "site"
    migrating = (site / "migrating" / "index.html").read_text()
    assert "aiokili:methods-table" not in migrating  # the hook filled it
    assert "append_many_to_dataset" in migrating and "count_assets" in migrating
    rows = len(set(_hooks().public_methods()) | set(_hooks().SEED_METHODS))
    assert migrating.count("<tr>") >= rows + 1  # the generated table, one row per method
    assert "<code>str | None</code>" in migrating and "&amp;#124;" not in migrating
    reference = (site / "reference" / "index.html").read_text()
    for documented in ("AsyncKili", "append_labels", "KiliInputError", "LocalServer"):
        assert documented in reference, documented
    assert not [p for p in site.rglob("*") if p.suffix in (".py", ".pyc")]


def test_the_site_ships_pages_only_and_the_docs_extra_formats_signatures() -> None:
    exclude = load_config(str(ROOT / "mkdocs.yml")).exclude_docs
    assert exclude is not None
    for not_a_page in ("hooks.py", "__pycache__/hooks.cpython-310.pyc"):
        assert exclude.match_file(not_a_page), not_a_page
    # mkdocstrings lays out the reference's signatures with Black or Ruff, and says at every
    # build that it cannot when neither is installed.
    requires = importlib.metadata.requires("aiokili") or []
    extra = [r for r in requires if re.search(r"extra == .docs.", r)]
    assert any(r.startswith(("ruff", "black")) for r in extra), extra


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


def _first_columns(markdown: str) -> dict[str, list[str]]:
    """Each table of a page, by its first header cell: its first column, without backticks."""
    tables: dict[str, list[str]] = {}
    rows: list[str] | None = None
    for line in markdown.splitlines():
        cell = line.split("|")[1].strip().strip("`") if line.startswith("|") else None
        if cell is None:
            rows = None
        elif rows is None:
            rows = tables.setdefault(cell, [])
        elif not cell.startswith("---"):
            rows.append(cell)
    return tables


def test_the_pytest_page_lists_the_plugins_fixtures_and_its_marker() -> None:
    import aiokili.testing as plugin

    tables = _first_columns((DOCS / "pytest-plugin.md").read_text())
    fixtures = {
        name
        for name, value in vars(plugin).items()
        if not name.startswith("_")  # the per-plugin copies behind `kili` and `kili_project`
        and (
            type(value).__name__ == "FixtureFunctionDefinition"  # pytest >= 8.4
            or hasattr(value, "_pytestfixturefunction")
        )
    }
    assert "kili_fresh_server" in fixtures
    assert sorted(tables["Fixture"]) == sorted(fixtures)
    assert tables["Marker"] == [
        f"@pytest.mark.{plugin.FRESH_MARKER}",
        f"@pytest.mark.{plugin.FAULTS_MARKER}(spec, rate_limit=None)",
    ]


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
