"""Compatibility shims between ariadne, graphql-core and the official SDK's graphql-core."""

from __future__ import annotations

import math
from typing import Any

from graphql import (
    DirectiveLocation,
    GraphQLDirective,
    GraphQLEnumType,
    GraphQLError,
    GraphQLFloat,
    GraphQLSchema,
    ValueNode,
)


def apply_graphql_core_compat(schema: GraphQLSchema) -> None:
    """Patch ``schema`` in place for the library versions in use.

    * ariadne 1.1 replaces ``parse_value`` of enum types with a one-argument function,
      while graphql-core >= 3.2.7 passes an extra ``hide_suggestions`` argument: every
      enum-typed variable was refused.
    * graphql-core 3.2.14 advertises ``DIRECTIVE_DEFINITION`` among the locations of the
      built-in ``@deprecated``; clients on older graphql-core (the official SDK pins
      3.2.6) crash building the introspected schema (``KeyError: 'DIRECTIVE_DEFINITION'``).
    * graphql-core's ``Float`` refuses infinite values from variables but reads a literal
      such as ``1e400`` as ``inf``, which it then cannot answer (a stored
      ``secondsToLabel`` failed every later read): such literals are refused too (the
      built-in ``Float`` is shared by every schema of the process).
    """
    if GraphQLFloat.parse_literal is not _finite_float_literal:
        _builtin_float_literal.append(GraphQLFloat.parse_literal)
        GraphQLFloat.parse_literal = _finite_float_literal  # type: ignore[method-assign]
    for named in schema.type_map.values():
        if isinstance(named, GraphQLEnumType):
            original = named.parse_value

            def parse_value(value: Any, *_extra: Any, _original: Any = original) -> Any:
                return _original(value)

            named.parse_value = parse_value  # type: ignore[method-assign,assignment]
    schema.directives = tuple(_without_directive_definition(d) for d in schema.directives)


_builtin_float_literal: list[Any] = []


def _finite_float_literal(node: ValueNode, variables: Any = None) -> float:
    value: float = _builtin_float_literal[0](node, variables)
    if not math.isfinite(value):
        raise GraphQLError(f"Float cannot represent non-finite value: {value}")
    return value


def _without_directive_definition(directive: GraphQLDirective) -> GraphQLDirective:
    location = getattr(DirectiveLocation, "DIRECTIVE_DEFINITION", None)  # absent before 3.2.7
    if directive.name != "deprecated" or location not in directive.locations:
        return directive
    return GraphQLDirective(
        name=directive.name,
        locations=[x for x in directive.locations if x is not location],
        args=directive.args,
        is_repeatable=directive.is_repeatable,
        description=directive.description,
    )
