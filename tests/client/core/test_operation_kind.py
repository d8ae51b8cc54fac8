"""Which operation a document sends decides whether a failed request may be resent: read
without graphql-core (not installed without the server extra), checked against it here."""

from __future__ import annotations

import pytest
from graphql import OperationDefinitionNode, parse

from aiokili._core.graphql import operation_kind
from aiokili._generated import operations


def _parsed_kind(document: str, name: str | None) -> str | None:
    ops = [d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)]
    ops = [o for o in ops if name is None or (o.name is not None and o.name.value == name)]
    return ops[0].operation.value if len(ops) == 1 else None


GENERATED = {k: v for k, v in vars(operations).items() if k.endswith("_GQL")}


@pytest.mark.parametrize("constant", sorted(GENERATED))
def test_every_generated_operation_reads_as_graphql_core_parses_it(constant: str) -> None:
    document = GENERATED[constant]
    (name,) = [d.name.value for d in parse(document).definitions
               if isinstance(d, OperationDefinitionNode) and d.name]  # fmt: skip
    assert operation_kind(document, name) == _parsed_kind(document, name) is not None


TRICKY = [
    ("{ projects { id } }", None),
    ("query { a }", None),
    ('mutation M($x: String = "query { }") { a(b: $x) }', "M"),
    ("# mutation M { a }\nquery Q { mutation: a }", "Q"),
    ("query Q @cached(ttl: 5) { a { query } }", "Q"),
    ('subscription S { a(text: """ } mutation { """) }', "S"),
    ("fragment F on Query { mutation }\nquery Q { ...F }\nmutation M { b }", "M"),
    ("fragment F on Query { mutation }\nquery Q { ...F }\nmutation M { b }", "Q"),
    ("query A { a } query B { b }", None),  # two operations, no name: cannot be told
    ("query A { a } query B { b }", "C"),
]


@pytest.mark.parametrize(("document", "name"), TRICKY)
def test_documents_users_may_send(document: str, name: str | None) -> None:
    assert operation_kind(document, name) == _parsed_kind(document, name)


@pytest.mark.parametrize("broken", ["query Q { a", "query Q { a } }", "mutation M ) {"])
def test_a_document_that_does_not_parse_has_no_kind(broken: str) -> None:
    assert operation_kind(broken, None) is None
