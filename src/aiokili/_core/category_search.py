"""Kili's category search: ``JOB.CATEGORY.count OP N`` terms joined by AND / OR.

``(JOB_CLASSIF.A.count > 0 OR JOB_NER.B.count > 0) AND JOB_BBOX.C.count > 10`` — AND binds
tighter than OR, parentheses group, OP is one of ``== >= <= > <`` and N a whole number.
A search has at most :data:`MAX_TERMS` terms and :data:`MAX_NESTING` levels of parentheses.
The client checks a search with :func:`check_category_search` before sending it; the local
server parses it with :func:`parse` and evaluates the tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..errors import KiliInputError

Op = Literal["==", ">=", "<=", ">", "<"]
MAX_TERMS = 200
MAX_NESTING = 32
HINT = (
    "write JOB.CATEGORY.count OP N (OP one of == >= <= > <, N a whole number), joined by "
    "AND / OR with parentheses, e.g. (JOB.A.count > 0 OR JOB.B.count == 1) AND JOB.C.count < 3"
)
_TOKEN = re.compile(
    r"\s*(?:(?P<paren>[()])|(?P<word>AND|OR)(?![\w.-])"
    r"|(?P<job>[\w-]+)\.(?P<category>[\w-]+)\.count\s*(?P<op>==|>=|<=|>|<)\s*(?P<n>\d+)(?![\w.]))"
)


@dataclass(frozen=True)
class Count:
    """``job.category.count op value``."""

    job: str
    category: str
    op: Op
    value: int


@dataclass(frozen=True)
class Combined:
    """``parts`` joined by ``AND`` or ``OR``."""

    operator: Literal["AND", "OR"]
    parts: tuple[Node, ...]


Node = Count | Combined


class CategorySearchError(ValueError):
    """A category search that does not parse; ``position`` is 1-based."""

    def __init__(self, query: str, position: int, problem: str) -> None:
        self.query, self.position, self.problem = query, position, problem
        shown = query if len(query) <= 120 else query[:120] + "..."
        super().__init__(f"{problem} at position {position} of {shown!r}; {HINT}")


_PARTIAL = (  # what a bad term got right so far, and what it needs next
    (re.compile(r"[\w-]+\.[\w-]+\.count\s*(==|>=|<=|>|<)\s*"), "expected a whole number"),
    (re.compile(r"[\w-]+\.[\w-]+\.count\s*"), "expected an operator (== >= <= > <)"),
    (re.compile(r"[\w-]+\.[\w-]+"), "expected .count after JOB.CATEGORY"),
)


@dataclass
class _Token:
    kind: str  # "(", ")", "AND", "OR", or the text of a count term
    start: int
    count: Count | None = None


def _bad_term(query: str, start: int) -> CategorySearchError:
    for pattern, problem in _PARTIAL:
        if m := pattern.match(query, start):
            return CategorySearchError(query, m.end() + 1, problem)
    return CategorySearchError(query, start + 1, f"unexpected {query[start : start + 20]!r}")


def _tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while query[pos:].strip():
        m = _TOKEN.match(query, pos)
        if m is None:
            raise _bad_term(query, len(query) - len(query[pos:].lstrip()))
        start = m.start() + len(m[0]) - len(m[0].lstrip())
        if m["paren"] or m["word"]:
            tokens.append(_Token(m["paren"] or m["word"], start))
        else:
            op: Op = m["op"]  # type: ignore[assignment]
            count = Count(m["job"], m["category"], op, int(m["n"]))
            tokens.append(_Token(m[0].strip(), start, count))
        pos = m.end()
    return tokens


def _check_size(query: str, tokens: list[_Token]) -> None:
    """At most :data:`MAX_TERMS` terms and :data:`MAX_NESTING` levels of parentheses."""
    terms = depth = 0
    for token in tokens:
        terms += token.count is not None
        depth += {"(": 1, ")": -1}.get(token.kind, 0)
        if terms > MAX_TERMS:
            raise CategorySearchError(
                query, token.start + 1, f"too many terms (at most {MAX_TERMS}): split the search"
            )
        if depth > MAX_NESTING:
            raise CategorySearchError(
                query, token.start + 1, f"parentheses nest deeper than {MAX_NESTING} levels"
            )


def parse(query: str) -> Node:
    """The tree of ``query``; :class:`CategorySearchError` (with the position) if invalid."""
    tokens = _tokens(query)
    index = 0

    def where() -> int:
        return tokens[index].start + 1 if index < len(tokens) else len(query.rstrip()) + 1

    def combined(operator: Literal["AND", "OR"]) -> Node:
        nonlocal index
        parts = [term() if operator == "AND" else combined("AND")]
        while index < len(tokens) and tokens[index].kind == operator:
            index += 1
            parts.append(term() if operator == "AND" else combined("AND"))
        return parts[0] if len(parts) == 1 else Combined(operator, tuple(parts))

    def term() -> Node:
        nonlocal index
        if index >= len(tokens):
            raise CategorySearchError(query, where(), "a term is missing")
        token = tokens[index]
        index += 1
        if token.count is not None:
            return token.count
        if token.kind != "(":
            raise CategorySearchError(query, token.start + 1, f"unexpected {token.kind!r}")
        inner = combined("OR")
        if index >= len(tokens) or tokens[index].kind != ")":
            raise CategorySearchError(query, token.start + 1, "this parenthesis is not closed")
        index += 1
        return inner

    if not tokens:
        raise CategorySearchError(query, 1, "the search is empty")
    _check_size(query, tokens)
    tree = combined("OR")
    if index != len(tokens):
        token = tokens[index]
        problem = "expected AND or OR" if token.kind not in ("AND", "OR", ")") else "unexpected"
        raise CategorySearchError(query, where(), f"{problem} before {token.kind!r}")
    return tree


def check_category_search(argument: str, query: object) -> None:
    """Raise :class:`~aiokili.errors.KiliInputError` naming ``argument`` if ``query`` is bad."""
    if not isinstance(query, str):
        raise KiliInputError(f"{argument} must be a str, got {type(query).__name__}.")
    try:
        parse(query)
    except CategorySearchError as exc:
        raise KiliInputError(f"Invalid {argument}: {exc}.") from None
