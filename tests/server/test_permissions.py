"""The permission table covers the schema: every root field has a rule, and every path a
rule reads names an argument the field has (a typo would leave an id unchecked)."""

from __future__ import annotations

import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
)

from aiokili.server import guard
from aiokili.server.permissions import RULES
from aiokili.server.schema import build_schema
from aiokili.server.store.access import PROJECT_ROLES

SCHEMA = build_schema()
ROOT_FIELDS = [key for key, _, _ in guard.root_fields(SCHEMA)]


def test_every_root_field_of_the_schema_has_a_rule() -> None:
    missing = sorted(set(ROOT_FIELDS) - set(RULES))
    assert not missing, f"give each a rule in aiokili/server/permissions.py: {missing}"
    stale = sorted(set(RULES) - set(ROOT_FIELDS))
    assert not stale, f"rules of no root field (renamed?): {stale}"


def test_a_schema_with_a_field_and_no_rule_is_refused() -> None:
    with pytest.raises(RuntimeError, match=r"Query\.viewer"):
        guard.apply(build_schema(), {k: v for k, v in RULES.items() if k != "Query.viewer"})


def _unwrap(kind: GraphQLInputType) -> tuple[GraphQLInputType, bool]:
    """The type under NonNull, and whether it is a list."""
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if isinstance(kind, GraphQLList):
        inner = kind.of_type
        return (inner.of_type if isinstance(inner, GraphQLNonNull) else inner), True
    return kind, False


def _follows(schema: GraphQLSchema, key: str, path: str) -> bool:
    root_name, name = key.split(".")
    root = schema.get_type(root_name)
    field = root.fields[name]  # type: ignore[union-attr]
    steps = path.split(".")
    first = steps[0].removesuffix("[]")
    if first not in field.args:
        return False
    kind, is_list = _unwrap(field.args[first].type)
    if steps[0].endswith("[]") != is_list:
        return False
    for step in steps[1:]:
        if (
            not isinstance(kind, GraphQLInputObjectType)
            or step.removesuffix("[]") not in kind.fields
        ):
            return False
        kind, is_list = _unwrap(kind.fields[step.removesuffix("[]")].type)
        if step.endswith("[]") != is_list:
            return False
    return not isinstance(kind, GraphQLInputObjectType)  # a leaf: the id itself


@pytest.mark.parametrize("key", sorted(k for k, rule in RULES.items() if rule.find))
def test_every_path_a_rule_reads_is_an_argument_of_its_field(key: str) -> None:
    wrong = [f.path for f in RULES[key].find if not _follows(SCHEMA, key, f.path)]
    assert not wrong, f"{key}: no such argument path {wrong}"


def test_rules_name_known_kinds_and_roles() -> None:
    kinds = set(guard._IN_PROJECT) | set(guard._IN_ORGANIZATION)
    for key, rule in RULES.items():
        assert {f.kind for f in rule.find} <= kinds, key
        if isinstance(rule.need, str):
            assert rule.need in {guard.ANY, guard.ORG_ADMIN, *PROJECT_ROLES}, key
        if rule.need in PROJECT_ROLES or callable(rule.need):  # a project role: where it is held
            assert any(f.kind in guard._IN_PROJECT for f in rule.find), key
