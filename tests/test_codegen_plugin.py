"""The codegen plugin's own rules that the generated client does not exercise today (the
generated files are checked against the schema in ``test_quality.py``)."""

from __future__ import annotations

import ast

from aiokili_codegen import _module_groups


def _groups(source: str) -> dict[str, list[str]]:
    classes = [n for n in ast.parse(source).body if isinstance(n, ast.ClassDef)]
    return {name: [c.name for c in group] for name, group in _module_groups(classes).items()}


def test_each_input_type_gets_a_module_and_a_reference_cycle_shares_one() -> None:
    source = """
class AssetWhere(BaseModel):
    label: Optional["LabelWhere"] = None
class LabelWhere(BaseModel):
    asset: Optional[AssetWhere] = None
class ProjectWhere(BaseModel):
    id: Optional[str] = None
class IssueWhere(BaseModel):
    asset: Optional[AssetWhere] = None
    project: Optional[ProjectWhere] = None
"""
    assert _groups(source) == {
        "asset_where": ["AssetWhere", "LabelWhere"],  # importing each other would fail
        "project_where": ["ProjectWhere"],
        "issue_where": ["IssueWhere"],
    }
