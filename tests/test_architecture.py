"""The shape holds: no import circles; client domains depend on the core only, server
domains on the store and context only; declared names match the schema.

The import graph is read from the source (every ``import``, including those under
``TYPE_CHECKING`` and inside functions), with relative imports resolved to full module
names, so ``from ..store import labels`` and ``from .labels import x`` are told apart.
"""

from __future__ import annotations

import ast
import re
import typing
from enum import Enum
from pathlib import Path

import pytest

import aiokili
from aiokili import models, projects
from aiokili._core import graphql
from aiokili._generated import enums
from aiokili._generated.client import GeneratedClient
from aiokili.assets import methods as asset_methods
from aiokili.labels import methods as label_methods

PACKAGE = Path(aiokili.__file__).parent
CLIENT_DOMAINS = {"projects", "project_copy", "project_versions", "tags", "assets", "labels",
                  "issues", "users", "plugins", "webhooks", "exports", "subscriptions",
                  "members", "organizations", "workflow"}  # fmt: skip
# What is neither the core nor a domain: what combines, serves or tests the domains.
CLIENT_OUTSIDE = {"__init__", "__main__", "client", "cli", "errors", "models", "quickstart",
                  "testing", "server", "_generated"}  # fmt: skip


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "_generated" not in p.parts}


def _imports(module: str) -> set[str]:
    """The hand-written modules ``module`` imports (full names)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            submodules = [f"{stem}.{a.name}" for a in node.names if f"{stem}.{a.name}" in MODULES]
            found.update(submodules)
            if len(submodules) < len(node.names):
                found.add(stem)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in MODULES and m != module}


GRAPH = {module: _imports(module) for module in MODULES}


def _circles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def client_domain(module: str) -> str | None:
    """``aiokili.assets.imports`` -> "assets"; core, server and the rest -> None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in CLIENT_DOMAINS else None


def server_domain(module: str) -> str | None:
    """``aiokili.server.domains.labels`` -> "labels" (``common`` is shared, not a domain)."""
    parts = module.split(".")
    if parts[:3] == ["aiokili", "server", "domains"] and len(parts) > 3:
        return None if parts[3] == "common" else parts[3]
    return None


def test_no_import_circle_between_hand_written_modules() -> None:
    assert not _circles(), "import circles (break each at the lower module)"


def test_the_graph_sees_relative_and_type_checking_imports() -> None:
    # the checks above are only as good as the graph: pin a few known edges
    assert "aiokili._core.listing" in GRAPH["aiokili.labels.methods"]
    assert "aiokili.client" in GRAPH["aiokili.plugins.handler"]  # under TYPE_CHECKING
    assert "aiokili.server.store.labels" in GRAPH["aiokili.server.domains.labels"]


def test_every_top_level_module_is_core_a_domain_or_declared() -> None:
    top = {m.split(".")[1] for m in MODULES if m.count(".") >= 1}
    unplaced = top - CLIENT_DOMAINS - CLIENT_OUTSIDE - {"_core"}
    assert not unplaced, f"{unplaced}: put them in the core, a domain, or CLIENT_OUTSIDE"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if client_domain(m)))
def test_client_domains_import_no_other_domain(module: str) -> None:
    others = {client_domain(m) for m in GRAPH[module]} - {None, client_domain(module)}
    assert not others, f"{module} imports the domain(s) {others}: share it through the core"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("aiokili._core")))
def test_the_core_imports_no_domain_and_nothing_above_it(module: str) -> None:
    above = {m for m in GRAPH[module] if client_domain(m) or m.split(".")[1] in CLIENT_OUTSIDE}
    assert above <= {"aiokili.errors", "aiokili.models"}, f"{module} imports {above}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if server_domain(m)))
def test_server_domains_import_no_other_domain(module: str) -> None:
    others = {server_domain(m) for m in GRAPH[module]} - {None, server_domain(module)}
    assert not others, f"{module} imports the server domain(s) {others}"


@pytest.mark.parametrize(
    "module",
    sorted(m for m in MODULES if m.startswith(("aiokili.server.store", "aiokili.server.context"))),
)
def test_store_and_context_import_no_resolvers(module: str) -> None:
    """The typed context and the store sit under the resolvers that use them."""
    above = {m for m in GRAPH[module] if m.startswith(("aiokili.server.domains", "aiokili.server.live.feed", "aiokili.server.schema", "aiokili.server.http", "aiokili.server.app"))}  # fmt: skip
    assert not above, f"{module} imports {above}"


def test_the_client_does_not_import_the_server() -> None:
    client_side = [m for m in MODULES if not m.startswith(("aiokili.server", "aiokili.cli",
                                                            "aiokili.testing", "aiokili.quickstart"))]  # fmt: skip
    leaking = {m: GRAPH[m] for m in client_side if any(x.startswith("aiokili.server") for x in GRAPH[m])}  # fmt: skip
    assert not leaking


@pytest.mark.parametrize(
    ("literal", "enum"),
    [
        (models.InputTypeName, enums.InputType),
        (models.ComplianceTagName, enums.ComplianceTag),
        (models.AssetStatusName, enums.Status),
        (models.LabelTypeName, enums.LabelType),
        (models.StepStatusName, enums.StatusInStep),
        (models.IssueTypeName, enums.IssueType),
        (models.IssueStatusName, enums.IssueStatus),
    ],
)
def test_literal_names_match_the_generated_enums(literal: object, enum: type[Enum]) -> None:
    assert set(typing.get_args(literal)) == {member.value for member in enum}


@pytest.mark.parametrize("module", [projects, asset_methods, label_methods])
def test_every_filter_maps_to_the_where_input(module: typing.Any) -> None:
    filters = next(
        v for k, v in vars(module).items() if k.endswith("Filters") and isinstance(v, type)
    )
    assert set(filters.__annotations__) == set(module._WHERE)


def test_every_generated_operation_has_its_result_model() -> None:
    methods = [f for n, f in vars(GeneratedClient).items() if callable(f) and not n.startswith("_")]
    assert len(methods) > 50
    for method in methods:  # -> "CountProjects", or AsyncIterator["LabelCreatedOrUpdated"]
        name = re.findall(r"\w+", str(method.__annotations__["return"]))[-1]
        model = graphql.result_model(name)
        assert model is not None and model.__name__ == name, name
    assert graphql.result_model("NoSuchOperation") is None
