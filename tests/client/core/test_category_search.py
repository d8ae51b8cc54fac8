"""Kili's category search: one parser for the client's check and the server's evaluation."""

from __future__ import annotations

import pytest

from aiokili._core.category_search import Combined, Count, check_category_search, parse
from aiokili.errors import KiliInputError


def test_and_binds_tighter_than_or_and_parentheses_group() -> None:
    a, b, c = (Count("J", x, ">", 0) for x in "ABC")
    assert parse("J.A.count > 0 OR J.B.count > 0 AND J.C.count > 0") == Combined(
        "OR", (a, Combined("AND", (b, c)))
    )
    assert parse("(J.A.count > 0 OR J.B.count > 0) AND J.C.count > 0") == Combined(
        "AND", (Combined("OR", (a, b)), c)
    )
    assert parse("JOB_1.CAT-2.count==10") == Count("JOB_1", "CAT-2", "==", 10)


@pytest.mark.parametrize(
    ("query", "position", "problem"),
    [
        ("J.A.count > x", 13, "expected a whole number"),
        ("J.A.count 3", 11, "expected an operator"),
        ("J.A > 3", 4, "expected .count"),
        ("(J.A.count > 1", 1, "parenthesis is not closed"),
        ("J.A.count > 1 AND", 18, "a term is missing"),
        ("J.A.count > 1 J.B.count > 2", 15, "expected AND or OR"),
        ("J.A.count > 1)", 14, "unexpected"),
        ("", 1, "empty"),
    ],
)
def test_a_bad_search_names_the_position_and_the_fix(
    query: str, position: int, problem: str
) -> None:
    with pytest.raises(KiliInputError) as caught:
        check_category_search("label_category_search", query)
    message = str(caught.value)
    assert message.startswith("Invalid label_category_search:")
    assert f"{problem}" in message and f"at position {position} " in message
    assert "JOB.CATEGORY.count OP N" in message


def test_a_search_that_is_not_text_is_a_typed_error() -> None:
    with pytest.raises(KiliInputError, match="category_search must be a str, got int"):
        check_category_search("category_search", 3)


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("(" * 1200 + "J.A.count > 0" + ")" * 1200, "nest deeper than 32 levels"),
        (" OR ".join(["J.A.count > 0"] * 201), "too many terms (at most 200)"),
    ],
    ids=["1200 parentheses", "201 terms"],
)
def test_oversized_searches_are_refused_before_any_request(query: str, problem: str) -> None:
    with pytest.raises(KiliInputError) as caught:
        check_category_search("label_category_search", query)
    message = str(caught.value)
    assert problem in message and len(message) < 600  # the search is shortened: "(((...'"
    assert "...'" in message


def test_searches_at_the_limits_parse() -> None:
    at_limits = "(" * 32 + " OR ".join(["J.A.count > 0"] * 200) + ")" * 32
    tree = parse(at_limits)
    assert isinstance(tree, Combined) and len(tree.parts) == 200
