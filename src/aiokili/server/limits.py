"""GraphQL cost limits, checked before standard validation, and a cache of checked documents.

graphql-core's validation is quadratic in repeated fields (OverlappingFieldsCanBeMerged),
so a few KiB of ``{ viewer { id id id ... } }`` could hold the server for minutes. Each
new document is parsed with a token cap, then its depth, field count (fragments
expanded) and cost are checked; the cost multiplies each list field by its ``first``
argument (or :attr:`QueryLimits.list_size`). Parsed and validated documents are cached
by query text, which also saves that work on every repeated operation; so are their
measures and whether they are heavy, unless a variable gives a list's ``first`` (those are
measured again with each request's variables).

Queries of estimated cost ``heavy_cost`` or more run in the heavy lane (``lane.py``), off
the server's event loop; ``max_cost`` bounds what one of them may ask.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    parse,
    validate,
)
from graphql.type.definition import GraphQLInterfaceType, GraphQLNamedType, GraphQLObjectType
from graphql.utilities import TypeInfo


@dataclass(frozen=True)
class QueryLimits:
    """Limits of one GraphQL document (the official SDK's documents stay far below)."""

    max_tokens: int = 5_000
    max_depth: int = 20
    max_fields: int = 600
    max_cost: int = 200_000  # e.g. 1,000 assets of 10 labels of 20 fields each
    heavy_cost: int = 5_000  # from this cost on, a query runs in the heavy lane
    list_size: int = 10  # assumed length of a list field without ``first``
    cache_size: int = 512


@dataclass(frozen=True)
class Measure:
    depth: int
    fields: int
    cost: int


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


class _Walker:
    """Depth, expanded field count and cost of a document (memoized per fragment)."""

    def __init__(
        self, schema: GraphQLSchema, doc: DocumentNode, variables: Mapping[str, Any], list_size: int
    ) -> None:
        self.schema, self.variables, self.list_size = schema, variables, list_size
        self.fragments = {
            d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[str, Measure] = {}
        self.visiting: set[str] = set()
        self.variable_sized = False  # whether a variable gave a `first` (not cacheable)

    def operation(self, op: OperationDefinitionNode) -> Measure:
        root = {
            "query": self.schema.query_type,
            "mutation": self.schema.mutation_type,
            "subscription": self.schema.subscription_type,
        }[op.operation.value]
        return self.selections(op.selection_set, root)

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self.schema.type_map.get(name)

    def _multiplier(self, node: FieldNode, *, listed: bool) -> int:
        for arg in node.arguments or ():
            if arg.name.value == "first":
                value: Any = arg.value
                if isinstance(value, IntValueNode):
                    return max(int(value.value), 1)
                if isinstance(value, VariableNode):
                    self.variable_sized = True
                    given = self.variables.get(value.name.value)
                    if isinstance(given, int) and not isinstance(given, bool):
                        return max(given, 1)
        return self.list_size if listed else 1

    def selections(self, node: SelectionSetNode | None, parent: GraphQLNamedType | None) -> Measure:
        depth = fields = cost = 0
        for sel in node.selections if node else ():
            if isinstance(sel, FieldNode):
                sub_type: GraphQLNamedType | None = None
                listed = False
                if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
                    definition = parent.fields.get(sel.name.value)
                    if definition is not None:
                        listed = is_list_type(get_nullable_type(definition.type))
                        sub_type = get_named_type(definition.type)
                sub = self.selections(sel.selection_set, sub_type)
                introspection = sel.name.value.startswith("__")
                weight = 1 if introspection else self._multiplier(sel, listed=listed)
                depth = max(depth, 1 + sub.depth)
                fields += 1 + sub.fields
                cost += 1 + (0 if introspection else weight * sub.cost)
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition
                sub = self.selections(
                    sel.selection_set, self._type(cond.name.value) if cond else parent
                )
                depth, fields, cost = max(depth, sub.depth), fields + sub.fields, cost + sub.cost
            elif isinstance(sel, FragmentSpreadNode):
                sub = self.fragment(sel.name.value)
                depth, fields, cost = max(depth, sub.depth), fields + sub.fields, cost + sub.cost
        return Measure(depth, fields, cost)

    def fragment(self, name: str) -> Measure:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:  # unknown or cyclic: validation says so
            return Measure(0, 0, 0)
        self.visiting.add(name)
        found = self.memo[name] = self.selections(
            definition.selection_set, self._type(definition.type_condition.name.value)
        )
        self.visiting.discard(name)
        return found


def measure(
    schema: GraphQLSchema,
    doc: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    list_size: int = 10,
) -> Measure:
    """The maxima over the document's operations (fields and cost are summed)."""
    return _measured(schema, doc, variables or {}, list_size)[0]


def _measured(
    schema: GraphQLSchema, doc: DocumentNode, variables: Mapping[str, Any], list_size: int
) -> tuple[Measure, bool]:
    """:func:`measure`, and whether the variables counted in it (then it is not cached)."""
    walker = _Walker(schema, doc, variables, list_size)
    depth = fields = cost = 0
    for definition in doc.definitions:
        if isinstance(definition, OperationDefinitionNode):
            m = walker.operation(definition)
            depth, fields, cost = max(depth, m.depth), fields + m.fields, cost + m.cost
    return Measure(depth, fields, cost), walker.variable_sized


def operation_name(doc: DocumentNode) -> str:
    """The first operation's name, or its first root field for an anonymous operation."""
    for definition in doc.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if definition.name:
                return definition.name.value
            first = definition.selection_set.selections[0]
            return first.name.value if isinstance(first, FieldNode) else "-"
    return "-"


@dataclass
class _Entry:
    """A parsed document of the cache, with what is known of it whatever the variables."""

    doc: DocumentNode
    measure: Measure | None  # None: a variable gives a `first` (measured per request)
    heavy: dict[str, bool]  # operationName ("" for none) -> whether it is heavy


class DocumentCache:
    """Ariadne ``query_parser`` / ``query_validator`` hooks with limits and an LRU cache."""

    def __init__(self, schema: GraphQLSchema, limits: QueryLimits) -> None:
        self.schema, self.limits = schema, limits
        self._docs: OrderedDict[str, _Entry] = OrderedDict()
        self._valid: dict[int, DocumentNode] = {}  # id -> doc, for documents that validated
        self._lock = threading.Lock()  # the heavy lane's thread uses the cache too

    def heavy(self, data: Mapping[str, Any]) -> bool:
        """Whether the request ``data`` is a query (not a mutation or subscription) of
        estimated cost ``heavy_cost`` or more; False for a document the limits refuse."""
        try:
            with self._lock:
                entry = self._entry(data["query"], data.get("variables"))
        except GraphQLError:
            return False
        wanted = data.get("operationName")
        known = entry.heavy.get(wanted or "")
        if known is not None:
            return known
        operations = [
            d
            for d in entry.doc.definitions
            if isinstance(d, OperationDefinitionNode)
            and (wanted is None or (d.name is not None and d.name.value == wanted))
        ]
        if len(operations) != 1 or operations[0].operation.value != "query":
            heavy, variable_sized = False, False
        else:
            variables = data.get("variables") or {}
            found = _Walker(self.schema, entry.doc, variables, self.limits.list_size)
            heavy = found.operation(operations[0]).cost >= self.limits.heavy_cost
            variable_sized = found.variable_sized
        if not variable_sized:
            with self._lock:
                entry.heavy[wanted or ""] = heavy
        return heavy

    def parse(self, text: str, variables: Mapping[str, Any] | None) -> DocumentNode:
        """The parsed document, after the limit checks (raises a coded ``GraphQLError``)."""
        with self._lock:
            return self._entry(text, variables).doc

    def _entry(self, text: str, variables: Mapping[str, Any] | None) -> _Entry:
        limits = self.limits
        entry = self._docs.get(text)
        if entry is None:
            try:
                doc = parse(text, max_tokens=limits.max_tokens)
            except GraphQLError as exc:
                if "tokens" in exc.message:
                    raise _error(
                        f"Query too large: over max_tokens={limits.max_tokens} tokens.",
                        "QUERY_TOO_COMPLEX",
                    ) from None
                raise
            found, variable_sized = _measured(self.schema, doc, variables or {}, limits.list_size)
            self._check_shape(found)
            entry = self._docs[text] = _Entry(doc, None if variable_sized else found, {})
            if len(self._docs) > limits.cache_size:
                _, old = self._docs.popitem(last=False)
                self._valid.pop(id(old.doc), None)
        else:
            self._docs.move_to_end(text)
            if entry.measure is not None:
                found = entry.measure
            else:
                found, _ = _measured(self.schema, entry.doc, variables or {}, limits.list_size)
        if found.cost > limits.max_cost:
            raise _error(
                f"Query too complex: estimated cost {found.cost:,} is over max_cost="
                f"{limits.max_cost:,} (list fields count `first` times, or "
                f"{limits.list_size} without it): ask smaller pages.",
                "QUERY_TOO_COMPLEX",
            )
        return entry

    def _check_shape(self, found: Measure) -> None:
        limits = self.limits
        if found.depth > limits.max_depth:
            raise _error(
                f"Query too deep: depth {found.depth} is over max_depth={limits.max_depth}.",
                "QUERY_TOO_DEEP",
            )
        if found.fields > limits.max_fields:
            raise _error(
                f"Query too complex: {found.fields:,} fields (fragments expanded) is "
                f"over max_fields={limits.max_fields}.",
                "QUERY_TOO_COMPLEX",
            )

    def query_parser(self, context: Any, data: dict[str, Any]) -> DocumentNode:
        doc = self.parse(data["query"], data.get("variables"))
        if hasattr(context, "operation"):
            context.operation = operation_name(doc)
        return doc

    def query_validator(
        self,
        schema: GraphQLSchema,
        document_ast: DocumentNode,
        rules: Collection[type[ASTValidationRule]] | None = None,
        max_errors: int | None = None,
        type_info: TypeInfo | None = None,
    ) -> list[GraphQLError]:
        with self._lock:
            if id(document_ast) in self._valid:
                return []
        errors = validate(schema, document_ast, rules, max_errors=max_errors)
        with self._lock:
            entry = self._docs.get(_text_of(document_ast))
            if not errors and entry is not None and entry.doc is document_ast:
                self._valid[id(document_ast)] = document_ast
        return errors


def _text_of(doc: DocumentNode) -> str:
    loc = doc.loc
    return loc.source.body if loc is not None else ""
