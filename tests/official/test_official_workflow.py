"""The unmodified official SDK (26.2.4) on workflow steps: each workflow method, what the
platform refuses, and a custom workflow (two review steps, assignees) through which assets
move, labelled and reviewed by the assigned members and refused to the others."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from official_support import official_python, run_official

from aiokili.server import LocalServer

__all__ = ["official_python"]  # the fixture, imported for pytest

NAMES = ("LABELER", "OTHER_LABELER", "REVIEWER_1", "REVIEWER_2")


@pytest.fixture(scope="module")
def out(
    official_python: Path, local_server: LocalServer, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    tag = secrets.token_hex(3)
    env: dict[str, str] = {}
    for name in NAMES:
        account = local_server.create_user(f"{name.lower().replace('_', '-')}-{tag}@wf.test")
        env[f"{name}_EMAIL"], env[f"{name}_KEY"] = account.email, account.api_key
    result = run_official(
        official_python, "workflow_methods.py", local_server,
        tmp_path_factory.mktemp("workflow"), env=env,
    )  # fmt: skip
    return {"emails": {n: env[f"{n}_EMAIL"] for n in NAMES}, **result}


def test_get_steps(out: Any) -> None:
    steps = out["get_steps"]
    assert [(s["name"], s["type"]) for s in steps] == [
        ("Labeling", "DEFAULT"),
        ("Review", "REVIEW"),
    ]
    # the SDK's default fields
    assert set(steps[0]) == {"type", "name", "id", "stepGroupId", "assignees"}
    assert out["get_steps_fields"] == [
        {"name": "Labeling", "stepCoverage": None}, {"name": "Review", "stepCoverage": 0}
    ]  # fmt: skip


def test_review_steps_and_their_reviewers(out: Any) -> None:
    emails = out["emails"]
    assert out["add_review_step"]["name"] == "QA" and out["add_review_step"]["id"]
    # a LABELER cannot review: left out, with the SDK's warning
    assert out["add_review_step_labeler"]["name"] == "QA 2"
    assert out["add_review_step_warnings"] == [
        f"These emails were not added (not found or can not review): {emails['LABELER']}"
    ]
    assert out["add_reviewers"] == [emails["REVIEWER_2"]]
    assert out["add_reviewers_warnings"] == [
        f"These emails were not added (not found or can not review): {emails['LABELER']}"
    ]
    assert out["remove_reviewers"] == [emails["REVIEWER_1"]]
    assert out["remove_last_reviewer"]["type"] == "ValueError"
    assert "at least one assignee" in out["remove_last_reviewer"]["message"]
    assert out["rename_step"]["name"] == "Final"


def test_labelers_of_a_step_need_the_multi_group_workflow(out: Any) -> None:
    for key in ("add_labelers", "remove_labelers"):
        assert out[key] == {
            "type": "ValueError",
            "message": "Assigning labelers to a step requires the multi-group workflow",
        }


def test_step_properties(out: Any) -> None:
    emails = out["emails"]
    assert out["labeling_properties"]["name"] == "Labeling"
    assert out["review_properties"]["name"] == "QA"
    by_name = {s["name"]: s for s in out["steps_after_properties"]}
    assert by_name["Labeling"]["consensusCoverage"] == 50
    assert by_name["Labeling"]["numberOfExpectedLabelsForConsensus"] == 2
    assert by_name["QA"]["stepCoverage"] == 70
    assert by_name["QA"]["sendBackStepId"] == out["get_steps"][1]["id"]  # "Review"
    assert [a["email"] for a in by_name["QA"]["assignees"]] == [emails["REVIEWER_1"]]  # replaced
    assert by_name["Final"]["stepCoverage"] == 100  # a new review step reviews everything


def test_update_project_workflow_and_delete_last_step(out: Any) -> None:
    result = out["update_project_workflow"]
    assert result["enforceStepSeparation"] is True and len(result["steps"]) == 4
    assert out["enforce"] == {"enforceStepSeparation": True}
    assert [s["id"] for s in out["delete_last_step"]["steps"]] == [
        s["id"] for s in result["steps"][:3]
    ]
    assert out["steps_after_edits"] == [
        ["Labeling", "DEFAULT"], ["Review", "REVIEW"], ["Final", "REVIEW"]
    ]  # fmt: skip
    refused = out["refused_delete_labeling"]
    assert refused["type"] == "GraphQLError" and "labeling step" in refused["message"]


def test_copy_workflow_from_project(out: Any) -> None:
    emails = out["emails"]
    assert [(s["name"], s["type"], s["stepCoverage"]) for s in out["copied_steps"]] == [
        ("Labeling", "DEFAULT", None), ("Review", "REVIEW", 0), ("Final", "REVIEW", 20)
    ]  # fmt: skip
    # assignees: the destination's ACTIVATED members; review steps, not its LABELER
    assert [a["email"] for a in out["copied_steps"][1]["assignees"]] == [emails["REVIEWER_2"]]
    assert out["copied_enforce"] == {"enforceStepSeparation": True}
    assert out["copy_to_itself"]["type"] == "ValueError"


def test_assets_move_through_a_custom_workflow(out: Any) -> None:
    emails = out["emails"]
    assert out["flow_steps"] == [
        ["Labeling", [emails["LABELER"]]], ["Review 1", [emails["REVIEWER_1"]]],
        ["Review 2", [emails["REVIEWER_2"]]],
    ]  # fmt: skip
    assert out["moves"] == [
        ["labelled", ["TO_REVIEW", "Review 1", "TO_DO"]],
        ["reviewed at Review 1", ["TO_REVIEW", "Review 2", "TO_DO"]],
        ["reviewed at Review 2", ["REVIEWED", "Review 2", "DONE"]],
        ["sent back from Review 2", ["TO_REVIEW", "Review 1", "REWORK"]],  # its send-back step
        ["sent back from Review 1", ["ONGOING", "Labeling", "REWORK"]],
        ["labelled again", ["TO_REVIEW", "Review 1", "TO_DO"]],
    ]
    assert out["in_review_1"] == ["a0"]
    assert out["count_labeling_todo"] == 1


def test_the_unassigned_are_refused_with_the_platforms_lock_reason(out: Any) -> None:
    # the SDK turns extensions.context.reason into its own message
    expected = {"type": "ValueError", "message": "You cannot edit this asset in its current step."}
    assert out["refused_unassigned_labeler"] == expected
    assert out["refused_review_2_early"] == expected
    assert out["refused_labels"] == 0
