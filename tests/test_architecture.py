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
DOMAINS = {"projects", "assets", "labels", "issues", "plugins", "webhooks", "exports",
           "subscriptions"}  # fmt: skip


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = (node.module or "").split(".")[-1]
            names.update([base] if node.module else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".")[-1] for a in node.names)
    return names


@pytest.mark.parametrize("domain", sorted(d for d in DOMAINS if (PACKAGE / f"{d}.py").exists()))
def test_domain_modules_import_no_other_domain(domain: str) -> None:
    others = _imported_modules(PACKAGE / f"{domain}.py") & (DOMAINS - {domain})
    assert not others, f"{domain}.py imports {others}: share it through the core instead"


def test_core_imports_no_domain() -> None:
    for path in PACKAGE.glob("_[!_]*.py"):
        assert not _imported_modules(path) & DOMAINS, f"{path.name} imports a domain module"


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
