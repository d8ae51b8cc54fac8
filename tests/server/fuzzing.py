"""What the whole-schema fuzzer sends: documents from hypothesis-graphql, their root
arguments moved into variables, and variables replaced by arbitrary JSON.

The documents come from ``hypothesis_graphql.from_schema`` over ``schema.graphql`` (valid
ones, and ones with one schema violation each); this module only supplies the custom
scalars' values and turns a document into a request body.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import graphql
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from aiokili.server.schema import schema_sdl

SCHEMA = graphql.build_schema(schema_sdl())
SCALARS = ("DateTime", "JSON", "PageSize", "JSONString")

_NAMES = st.from_regex(r"[_A-Za-z][_0-9A-Za-z]{0,8}", fullmatch=True)
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# Literal objects of a GraphQL document have names as keys.
_LITERAL_JSON = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_NAMES, inner, max_size=3),
    max_leaves=8,
)


def to_node(value: Any) -> graphql.ValueNode:
    """The GraphQL literal of a JSON value (object keys must be names)."""
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        return nodes.Float(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([to_node(v) for v in value])
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=to_node(v))
            for k, v in value.items()
        ]
    )


_DATES = st.one_of(
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.dates().map(str),
    st.text(max_size=20),
)
# Any JSON text, Python's extensions included (NaN, Infinity), some deeply nested.
_JSON_TEXTS = st.one_of(
    JSON_VALUES.map(json.dumps),
    st.recursive(
        st.floats() | st.integers() | st.none(),
        lambda inner: st.lists(inner, max_size=2) | st.dictionaries(_NAMES, inner, max_size=2),
    ).map(json.dumps),
    st.integers(min_value=1, max_value=3000).map(lambda n: '{"a":' * n + "1" + "}" * n),
)
_TERMS = st.builds(
    "{}.{}.count {} {}".format,
    st.sampled_from(["JOB_0", "JOB_1"]),
    st.sampled_from(["A", "B"]),
    st.sampled_from(["==", ">=", "<=", ">", "<"]),
    st.integers(min_value=0, max_value=2**70),
)
# Kili's category search (labels' ``search``), well formed or not
_SEARCHES = st.recursive(
    _TERMS,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=4).map(" OR ".join),
        st.lists(inner, min_size=2, max_size=4).map(" AND ".join),
        inner.map("({})".format),
        inner.map("({}".format),
    ),
    max_leaves=12,
)
STRINGS = st.one_of(st.text(max_size=20), _DATES, _JSON_TEXTS, _SEARCHES)


def scalars(ids: Sequence[str]) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    """Strategies of the custom scalars' literals; ``ID`` mostly names stored objects."""
    return {
        "ID": (st.sampled_from(list(ids)) | st.text(max_size=12)).map(nodes.String),
        "String": STRINGS.map(nodes.String),
        "DateTime": _DATES.map(nodes.String),
        "JSON": _LITERAL_JSON.map(to_node),
        "PageSize": st.integers(min_value=-3, max_value=1100).map(nodes.Int),
        "JSONString": (JSON_VALUES.map(json.dumps) | st.text(max_size=20)).map(nodes.String),
    }


_ROOTS = (SCHEMA.query_type, SCHEMA.mutation_type)
ROOT_FIELDS = sorted(name for root in _ROOTS if root for name in root.fields)
_WITH_ARGUMENTS = {name for root in _ROOTS if root for name, f in root.fields.items() if f.args}


def documents(ids: Sequence[str]) -> st.SearchStrategy[graphql.DocumentNode]:
    """Operations on one root field (drawn evenly from the whole schema), valid or with one
    violation each."""
    custom = scalars(ids)

    def on(name: str) -> st.SearchStrategy[graphql.DocumentNode]:
        return st.one_of(
            *(
                from_schema(SCHEMA, fields=[name], custom_scalars=custom, print_ast=_same, mode=m)
                for m in (Mode.POSITIVE, Mode.NEGATIVE)
                if m is Mode.POSITIVE or name in _WITH_ARGUMENTS
            )
        )

    return st.sampled_from(ROOT_FIELDS).flatmap(on)


def _same(document: graphql.DocumentNode) -> graphql.DocumentNode:
    return document


@dataclass
class Request:
    """A request body: ``query`` and its ``variables``."""

    query: str
    variables: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"query": self.query, "variables": self.variables}


def hoisted(document: graphql.DocumentNode) -> Request:
    """The document with the root fields' known arguments passed as variables."""
    count = 0
    variables: dict[str, Any] = {}
    definitions: list[graphql.VariableDefinitionNode] = []
    for op in document.definitions:
        if not isinstance(op, graphql.OperationDefinitionNode):
            continue
        root = SCHEMA.get_root_type(op.operation)
        for selection in op.selection_set.selections:
            if not isinstance(selection, graphql.FieldNode) or root is None:
                continue
            known = root.fields.get(selection.name.value)
            arguments = []
            for argument in selection.arguments or ():
                definition = known.args.get(argument.name.value) if known else None
                if definition is None or _has_variables(argument.value):
                    arguments.append(argument)
                    continue
                name = f"v{count}"
                count += 1
                variables[name] = graphql.value_from_ast_untyped(argument.value)
                definitions.append(
                    graphql.VariableDefinitionNode(
                        variable=graphql.VariableNode(name=graphql.NameNode(value=name)),
                        type=graphql.parse_type(str(definition.type)),
                    )
                )
                arguments.append(
                    graphql.ArgumentNode(
                        name=argument.name,
                        value=graphql.VariableNode(name=graphql.NameNode(value=name)),
                    )
                )
            selection.arguments = tuple(arguments)
        op.variable_definitions = (*(op.variable_definitions or ()), *definitions)
    return Request(graphql.print_ast(document), variables)


def mutate(variables: dict[str, Any], data: st.DataObject) -> None:
    """Replace one value anywhere in ``variables`` (a leaf or a whole object) by any JSON."""
    places: list[tuple[Any, Any]] = []
    pending: list[Any] = [variables]
    while pending:
        holder = pending.pop()
        keys = holder.keys() if isinstance(holder, dict) else range(len(holder))
        for key in keys:
            places.append((holder, key))
            if isinstance(holder[key], (dict, list)):
                pending.append(holder[key])
    if places:
        holder, key = data.draw(st.sampled_from(places), label="mutated place")
        holder[key] = data.draw(JSON_VALUES | STRINGS, label="mutated value")


def _has_variables(node: graphql.ValueNode) -> bool:
    if isinstance(node, graphql.VariableNode):
        return True
    if isinstance(node, graphql.ListValueNode):
        return any(_has_variables(v) for v in node.values)
    if isinstance(node, graphql.ObjectValueNode):
        return any(_has_variables(f.value) for f in node.fields)
    return False


# The interface of the projects the fuzzer and the hostile-input tests write labels to.
ONTOLOGY = {
    "jobs": {
        "JOB_0": {
            "mlTask": "CLASSIFICATION",
            "content": {"categories": {"A": {"name": "A"}, "B": {"name": "B"}}, "input": "radio"},
            "required": 1,
            "isChild": False,
        }
    }
}
