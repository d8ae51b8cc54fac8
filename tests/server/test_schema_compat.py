"""Every GraphQL document the official `kili` SDK can send validates against schema.graphql.

Documents are extracted from the source of the ``kili`` package installed in the official
SDK's own virtualenv (``tests/official_env.py``): string constants and f-strings (whose
placeholders, field selections, become ``__typename``) that parse as GraphQL operations. They
are validated here, with our graphql-core, against ``schema.graphql``. A schema
change that breaks the official client fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import graphql
import official_env
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_DOCUMENTS = 117  # in kili 26.2.4 (official_env.KILI_VERSION)
_OPERATION = re.compile(r"^\s*(query|mutation|subscription)\b[^{]*\{", re.S)


def _texts(tree: ast.AST) -> list[str]:
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            parts = [
                v.value if isinstance(v, ast.Constant) else " __typename " for v in node.values
            ]
            out.append("".join(str(p) for p in parts))
    return out


@pytest.fixture(scope="session")
def sdk_documents() -> dict[str, graphql.DocumentNode]:
    return extract_documents(official_env.kili_package_dir(official_env.python_for_tests()))


def extract_documents(package: Path) -> dict[str, graphql.DocumentNode]:
    docs: dict[str, graphql.DocumentNode] = {}
    for path in sorted(package.rglob("*.py")):
        for text in _texts(ast.parse(path.read_text(encoding="utf-8"))):
            if not _OPERATION.match(text):
                continue
            try:
                doc = graphql.parse(text)
            except graphql.GraphQLError:
                continue
            docs[graphql.print_ast(doc)] = doc
    return docs


def test_official_sdk_documents_validate_against_schema(
    sdk_documents: dict[str, graphql.DocumentNode],
) -> None:
    schema = graphql.build_schema((ROOT / "schema.graphql").read_text())
    docs = sdk_documents
    assert len(docs) == EXPECTED_DOCUMENTS, f"{len(docs)} documents found in the kili package"
    failures = {
        text: [e.message for e in errors]
        for text, doc in docs.items()
        if (errors := graphql.validate(schema, doc))
    }
    assert not failures, "\n\n".join(f"{t}\n-> {e}" for t, e in failures.items())


def test_a_renamed_field_would_be_caught(sdk_documents: dict[str, graphql.DocumentNode]) -> None:
    sdl = (ROOT / "schema.graphql").read_text().replace("countLabels(", "countLabelz(")
    schema = graphql.build_schema(sdl)
    broken = [d for d in sdk_documents.values() if graphql.validate(schema, d)]
    assert broken, "the compatibility check cannot see a renamed root field"
