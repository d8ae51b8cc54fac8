"""The executable schema: the packaged ``schema.graphql`` with every domain's bindables."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ariadne import ScalarType, make_executable_schema
from ariadne.utils import convert_camel_case_to_snake
from graphql import GraphQLObjectType, GraphQLSchema, ValueNode, value_from_ast_untyped

from . import guard, json_input, permissions
from .compat import apply_graphql_core_compat
from .domains import (
    asset_admin,
    assets,
    issues,
    labels,
    members,
    plugins,
    projects,
    steps,
    tags,
    users,
    versions,
    workflow,
)
from .errors import ServerError
from .live import feed as label_feed
from .store.filters import parse_instant

# every module binding resolvers (a later one may add fields to an earlier one's types)
_DOMAINS = (
    users,
    projects,
    versions,
    members,
    assets,
    labels,
    issues,
    tags,
    workflow,
    steps,
    asset_admin,
    plugins,
    label_feed,
)


def schema_path() -> Path:
    """The SDL: ``aiokili/schema.graphql`` in an installed wheel (the build copies the
    repository's top-level ``schema.graphql`` there), else that top-level file of a source
    checkout (an editable install)."""
    package = Path(__file__).parents[1]
    for candidate in (package / "schema.graphql", package.parents[1] / "schema.graphql"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"schema.graphql is neither in {package} nor in its checkout")


def schema_sdl() -> str:
    return schema_path().read_text(encoding="utf-8")


def _page_size(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
        raise ValueError(f"PageSize (first) must be an integer from 1 to 1000, got {value!r}")
    return value


def _page_size_literal(node: ValueNode, _variables: Any = None) -> int:
    return _page_size(int(getattr(node, "value", 0)))


page_size = ScalarType("PageSize", value_parser=_page_size, literal_parser=_page_size_literal)


def _json_literal(node: ValueNode, variables: Any = None) -> Any:
    return json_input.check_value(value_from_ast_untyped(node, variables))


json_scalar = ScalarType("JSON", value_parser=json_input.check_value, literal_parser=_json_literal)
json_string = ScalarType(
    "JSONString", serializer=lambda v: v if isinstance(v, str) else json.dumps(v)
)


def _date_time(value: Any) -> str:
    """An ISO 8601 date or date-time, kept as given."""
    text = value.strip() if isinstance(value, str) else ""
    if parse_instant(text) is None:
        raise ValueError(
            f"DateTime must be an ISO 8601 date-time like 2024-01-31T12:00:00.000Z, got {value!r}"
        )
    return text


date_time = ScalarType("DateTime", serializer=str, value_parser=_date_time)


def _not_implemented(kind: str, name: str) -> Callable[..., Any]:
    def resolve(*_: Any, **__: Any) -> Any:
        raise ServerError.not_implemented(f"{kind} {name}")

    return resolve


def _row_resolver(snake: str, camel: str) -> Callable[..., Any]:
    """Rows are dataclasses with snake_case attributes; dicts are already GraphQL-shaped."""

    def resolve(parent: Any, *_: Any) -> Any:
        if isinstance(parent, Mapping):
            return parent.get(camel)
        return getattr(parent, snake, None)

    return resolve


def _bind_defaults(schema: GraphQLSchema) -> None:
    for type_name, named in schema.type_map.items():
        if not isinstance(named, GraphQLObjectType) or type_name.startswith("__"):
            continue
        root = named in (schema.query_type, schema.mutation_type)
        for name, field in named.fields.items():
            if field.resolve is not None:
                continue
            if root:
                kind = "The query" if named is schema.query_type else "The mutation"
                field.resolve = _not_implemented(kind, name)
            elif (snake := convert_camel_case_to_snake(name)) != name:
                field.resolve = _row_resolver(snake, name)


def build_schema() -> GraphQLSchema:
    """The executable schema: schema.graphql with the domains' resolvers."""
    schema = make_executable_schema(
        schema_sdl(),
        *[b for domain in _DOMAINS for b in domain.bindables],
        *(page_size, json_scalar, json_string, date_time),
    )
    apply_graphql_core_compat(schema)
    _bind_defaults(schema)
    guard.apply(schema, permissions.RULES)  # every root field behind its rule
    return schema
