"""The official SDK (26.2.4) on workflow steps: a V2 project's steps, step filters and
currentStep, checked against what was written."""

from __future__ import annotations

from typing import Any

from official_support import official_output, official_python

__all__ = ["official_python"]  # the fixture, imported for pytest

out = official_output("workflow_steps.py")


def test_a_v2_projects_steps_and_current_steps(out: Any) -> None:
    assert out["workflow_version"] == "V2"
    assert [(s["name"], s["type"]) for s in out["steps"]] == [
        ("Labeling", "DEFAULT"), ("Review", "REVIEW")
    ]  # fmt: skip
    assert out["current_steps"] == {
        "s0": ["Labeling", "TO_DO"], "s1": ["Labeling", "DONE"], "s2": ["Review", "TO_DO"],
        "s3": ["Review", "DONE"], "s4": ["Labeling", "REWORK"], "s5": ["Labeling", "TO_DO"],
        "s6": ["Review", "DONE"],
    }  # fmt: skip
    # a V2 project: the SDK's default fields name the current step, not the status
    assert "currentStep" in out["default_fields"] and "status" not in out["default_fields"]


def test_counts_equal_lists(out: Any) -> None:
    lists, counts = out["lists"], out["counts"]
    for name, found in lists.items():
        assert counts[name] == len(found), name


def test_asset_step_filters(out: Any) -> None:
    lists = out["lists"]
    assert lists["name_review"] == ["s2", "s3", "s6"]
    assert lists["name_not_review"] == ["s0", "s1", "s4", "s5"]
    assert lists["status_todo"] == ["s0", "s2", "s5"]
    assert lists["status_not_todo"] == ["s1", "s3", "s4", "s6"]
    assert lists["status_rework"] == ["s4"]
    assert lists["name_and_status"] == ["s0", "s3", "s5", "s6"]
    assert lists["labeling_done"] == ["s1"]


def test_label_step_filters(out: Any) -> None:
    # labels of the assets in Review: s2 (1 label), s3 (2), s6 (1)
    assert out["labels_in_review"] == ["s2", "s3", "s3", "s6"]
    assert out["count_labels_in_review"] == 4
    assert out["count_labels_rework"] == 1


def test_an_unknown_step_is_named(out: Any) -> None:
    assert "Revue" in out["unknown_step"]
