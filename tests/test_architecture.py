"""The shape holds: domains depend on the core only; declared names match the schema."""

from __future__ import annotations

import ast
import typing
from enum import Enum
from pathlib import Path

import pytest

from aiokili import _graphql, assets, labels, projects
from aiokili._generated import enums
from aiokili._generated.client import GeneratedClient

PACKAGE = Path(assets.__file__).parent
DOMAINS = {"projects", "assets", "labels", "issues", "users", "plugins", "webhooks", "exports",
           "subscriptions"}  # fmt: skip
# Modules that are not the core (``_*.py``) nor a domain: what combines or serves the domains.
OUTSIDE = {"__init__", "__main__", "client", "cli", "errors", "models", "quickstart", "testing"}


def domain_of(module: str) -> str | None:
    """The domain a module belongs to: ``assets``, ``asset_updates`` -> "assets"..."""
    for domain in DOMAINS:
        if module == domain or module.startswith(domain.removesuffix("s") + "_"):
            return domain
    return None


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = (node.module or "").split(".")[-1]
            names.update([base] if node.module else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".")[-1] for a in node.names)
    return names


MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_"))


def test_every_module_is_core_a_domain_or_declared() -> None:
    unplaced = [m for m in MODULES if domain_of(m) is None and m not in OUTSIDE]
    assert not unplaced, f"{unplaced}: name them after their domain, or list them in OUTSIDE"


@pytest.mark.parametrize("module", [m for m in MODULES if domain_of(m)])
def test_domain_modules_import_no_other_domain(module: str) -> None:
    domain = domain_of(module)
    imported = {domain_of(name) for name in _imported_modules(PACKAGE / f"{module}.py")}
    others = imported - {None, domain}
    assert not others, f"{module}.py imports domain(s) {others}: share it through the core"


def test_core_imports_no_domain() -> None:
    for path in PACKAGE.glob("_[!_]*.py"):
        imported = {domain_of(name) for name in _imported_modules(path)} - {None}
        assert not imported, f"{path.name} imports a domain module"


@pytest.mark.parametrize(
    ("literal", "enum"),
    [
        (projects.InputTypeName, enums.InputType),
        (projects.ComplianceTagName, enums.ComplianceTag),
        (assets.AssetStatusName, enums.Status),
        (assets.LabelTypeName, enums.LabelType),
        (labels.AssetStatusName, enums.Status),
        (labels.LabelTypeName, enums.LabelType),
    ],
)
def test_literal_names_match_the_generated_enums(literal: object, enum: type[Enum]) -> None:
    assert set(typing.get_args(literal)) == {member.value for member in enum}


@pytest.mark.parametrize("module", [projects, assets, labels])
def test_every_filter_maps_to_the_where_input(module: typing.Any) -> None:
    filters = next(
        v for k, v in vars(module).items() if k.endswith("Filters") and isinstance(v, type)
    )
    assert set(filters.__annotations__) == set(module._WHERE)


def test_every_generated_operation_has_its_result_model() -> None:
    methods = [n for n, f in vars(GeneratedClient).items() if callable(f) and not n.startswith("_")]
    assert len(_graphql.result_models()) == len(methods)
    for name, model in _graphql.result_models().items():
        assert model.__name__ == name
