"""A custom workflow end to end against the real local server: two review steps with their
assignees, assets moving through them as the platform moves them (coverage, review, send
back to the configured step), and who may label or review at each step (step assignees,
roles, enforce_step_separation) refused with the platform's lock reasons."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from support import answer, import_images, new_project

import aiokili
from aiokili import BulkOperationError, PermissionDeniedError
from aiokili.testing import UserFactory

pytestmark = pytest.mark.anyio


@dataclass
class Team:
    project_id: str
    labeler: aiokili.AsyncKili  # assigned to Labeling
    other_labeler: aiokili.AsyncKili  # a LABELER of the project, not assigned
    first_reviewer: aiokili.AsyncKili  # assigned to Review 1
    second_reviewer: aiokili.AsyncKili  # assigned to Review 2
    other_reviewer: aiokili.AsyncKili  # a REVIEWER of the project, assigned nowhere
    emails: dict[str, str]


async def _email(client: aiokili.AsyncKili) -> str:
    return (await client.get_current_user()).email


@pytest.fixture
async def team(kili: aiokili.AsyncKili, kili_user: UserFactory) -> Team:
    """Labeling (assigned: labeler) -> Review 1 (first_reviewer, coverage 100) -> Review 2
    (second_reviewer, coverage 100, sends back to Review 1)."""
    project_id = await new_project(kili)
    clients = {
        "labeler": await kili_user("LABELER", project_id=project_id),
        "other_labeler": await kili_user("LABELER", project_id=project_id),
        "first_reviewer": await kili_user("REVIEWER", project_id=project_id),
        "second_reviewer": await kili_user("REVIEWER", project_id=project_id),
        "other_reviewer": await kili_user("REVIEWER", project_id=project_id),
    }
    emails = {name: await _email(client) for name, client in clients.items()}
    await kili.rename_step(project_id, step_name="Review", new_name="Review 1")
    await kili.update_review_step_properties(
        project_id, step_name="Review 1", assignees=[emails["first_reviewer"]], step_coverage=100
    )
    await kili.add_review_step(
        project_id, "Review 2", [emails["second_reviewer"]], send_back_to_step="Review 1"
    )
    await kili.update_project_workflow(
        project_id, update_steps=[{"name": "Labeling", "assignees": [emails["labeler"]]}]
    )
    return Team(project_id, **clients, emails=emails)


async def _where(kili: aiokili.AsyncKili, project_id: str) -> dict[str, tuple[str, str, str]]:
    """External id -> (legacy status, step name, step status)."""
    found = await kili.assets(
        project_id, fields=["externalId", "status", "currentStep.name", "currentStep.status"]
    )
    out = {}
    for a in found:
        assert a.current_step is not None
        out[a.external_id] = (str(a.status), a.current_step.name, str(a.current_step.status))
    return out


def _lock(error: pytest.ExceptionInfo[BulkOperationError]) -> PermissionDeniedError:
    """The refusal inside a bulk call's failure."""
    cause = error.value.failures[0].error
    assert isinstance(cause, PermissionDeniedError)
    return cause


async def test_assets_move_through_two_review_steps_by_their_assignees(
    kili: aiokili.AsyncKili, team: Team
) -> None:
    p = team.project_id
    steps = await kili.get_steps(p)
    assert [(s.name, str(s.type_), s.step_coverage) for s in steps] == [
        ("Labeling", "DEFAULT", None), ("Review 1", "REVIEW", 100), ("Review 2", "REVIEW", 100)
    ]  # fmt: skip
    assert [[a.email for a in s.assignees] for s in steps] == [
        [team.emails["labeler"]], [team.emails["first_reviewer"]], [team.emails["second_reviewer"]]
    ]  # fmt: skip
    assert steps[2].send_back_step_id == steps[1].id
    ids = await import_images(kili, p, 2)

    # the assigned labeler labels: the asset goes to Review 1
    await team.labeler.append_labels(asset_id_array=ids[:1], json_response_array=[answer("A")])
    assert (await _where(kili, p))["img-0000"] == ("TO_REVIEW", "Review 1", "TO_DO")

    # a labeler not assigned to Labeling is refused, naming the step: nothing written
    with pytest.raises(BulkOperationError) as refused:
        await team.other_labeler.append_labels(
            asset_id_array=ids[1:], json_response_array=[answer("A")]
        )
    lock = _lock(refused)
    assert lock.errors[0].extensions["context"] == {"reason": "NotInStepAssignees"}
    assert 'step "Labeling"' in str(lock) and team.emails["labeler"] in str(lock)
    assert "LABELER" in str(lock)
    assert (await _where(kili, p))["img-0001"] == ("TODO", "Labeling", "TO_DO")
    assert await kili.count_labels(p, asset_id=ids[1]) == 0

    # Review 1: its reviewer only; then Review 2
    with pytest.raises(BulkOperationError) as refused:
        await team.other_reviewer.append_labels(
            asset_id_array=ids[:1], json_response_array=[answer("B")], label_type="REVIEW"
        )
    assert 'step "Review 1"' in str(_lock(refused))
    await team.first_reviewer.append_labels(
        asset_id_array=ids[:1], json_response_array=[answer("B")], label_type="REVIEW"
    )
    assert (await _where(kili, p))["img-0000"] == ("TO_REVIEW", "Review 2", "TO_DO")
    with pytest.raises(BulkOperationError) as refused:
        await team.first_reviewer.append_labels(
            asset_id_array=ids[:1], json_response_array=[answer("B")], label_type="REVIEW"
        )
    assert 'step "Review 2"' in str(_lock(refused))
    await team.second_reviewer.append_labels(
        asset_id_array=ids[:1], json_response_array=[answer("A")], label_type="REVIEW"
    )
    assert (await _where(kili, p))["img-0000"] == ("REVIEWED", "Review 2", "DONE")

    # sent back from Review 2: to Review 1 (its send-back step), to be reviewed again
    await team.second_reviewer.send_back_to_queue(asset_ids=ids[:1])
    assert (await _where(kili, p))["img-0000"] == ("TO_REVIEW", "Review 1", "REWORK")
    await team.first_reviewer.append_labels(
        asset_id_array=ids[:1], json_response_array=[answer("A")], label_type="REVIEW"
    )
    assert (await _where(kili, p))["img-0000"] == ("TO_REVIEW", "Review 2", "TO_DO")
    # sent back from Review 1 (no send-back step set): to Labeling
    await kili.update_review_step_properties(p, step_name="Review 2", step_coverage=0)
    await team.first_reviewer.send_back_to_queue(asset_ids=ids[:1])
    assert (await _where(kili, p))["img-0000"] == ("TO_REVIEW", "Review 1", "REWORK")

    # the step filters read the same places
    in_review_1 = await kili.assets(p, fields=["externalId"], step_name_in=["Review 1"])
    assert [a.external_id for a in in_review_1] == ["img-0000"]
    assert await kili.count_assets(p, step_name_and_status_in=[("Review 1", "REWORK")]) == 1
    assert await kili.count_assets(p, step_name_in=["Labeling"], step_status_in=["TO_DO"]) == 1


async def test_coverage_decides_which_review_steps_an_asset_goes_through(
    kili: aiokili.AsyncKili, team: Team
) -> None:
    p = team.project_id
    ids = await import_images(kili, p, 40)
    # Review 1 reviews none: labelled assets go straight to Review 2
    await kili.update_review_step_properties(p, step_name="Review 1", step_coverage=0)
    await team.labeler.append_labels(asset_id_array=ids[:5], json_response_array=[answer("A")] * 5)
    where = await _where(kili, p)
    assert {where[f"img-{i:04d}"] for i in range(5)} == {("TO_REVIEW", "Review 2", "TO_DO")}
    # neither reviews: the asset is done at Labeling
    await kili.update_review_step_properties(p, step_name="Review 2", step_coverage=0)
    await team.labeler.append_labels(asset_id_array=ids[5:6], json_response_array=[answer("A")])
    assert (await _where(kili, p))["img-0005"] == ("LABELED", "Labeling", "DONE")
    # half: a stable share of the assets (the same asset always gets the same answer)
    await kili.update_review_step_properties(p, step_name="Review 2", step_coverage=50)
    await team.labeler.append_labels(asset_id_array=ids[6:], json_response_array=[answer("A")] * 34)
    where = await _where(kili, p)
    reviewed = [i for i in range(6, 40) if where[f"img-{i:04d}"][1] == "Review 2"]
    skipped = [i for i in range(6, 40) if where[f"img-{i:04d}"] == ("LABELED", "Labeling", "DONE")]
    assert len(reviewed) + len(skipped) == 34 and 5 <= len(reviewed) <= 29
    # add_to_review takes a skipped asset to the first review step
    await kili.add_to_review(asset_ids=[ids[skipped[0]]])
    assert (await _where(kili, p))[f"img-{skipped[0]:04d}"] == ("TO_REVIEW", "Review 1", "TO_DO")


async def test_a_labeler_cannot_write_at_a_review_step(kili: aiokili.AsyncKili, team: Team) -> None:
    ids = await import_images(kili, team.project_id, 1)
    with pytest.raises(BulkOperationError) as refused:
        await team.labeler.append_labels(
            asset_id_array=ids, json_response_array=[answer("A")], step_name="Review 1"
        )
    message = str(_lock(refused))
    assert 'at step "Review 1", a review step, needs the project role REVIEWER' in message
    with pytest.raises(BulkOperationError) as refused:
        await team.labeler.append_labels(
            asset_id_array=ids, json_response_array=[answer("A")], label_type="REVIEW"
        )
    assert "REVIEWER" in str(_lock(refused))
    assert (await _where(kili, team.project_id))["img-0000"] == ("TODO", "Labeling", "TO_DO")


async def test_enforce_step_separation(kili: aiokili.AsyncKili, team: Team) -> None:
    p = team.project_id
    workflow = await kili.update_project_workflow(p, enforce_step_separation=True)
    assert workflow.enforce_step_separation is True
    assert await kili.add_reviewers_to_step(p, "Review 2", [team.emails["first_reviewer"]]) == [
        team.emails["first_reviewer"]
    ]
    ids = await import_images(kili, p, 1)
    await team.labeler.append_labels(asset_id_array=ids, json_response_array=[answer("A")])
    await team.first_reviewer.append_labels(
        asset_id_array=ids, json_response_array=[answer("A")], label_type="REVIEW"
    )
    assert (await _where(kili, p))["img-0000"] == ("TO_REVIEW", "Review 2", "TO_DO")
    # assigned to Review 2 too, but they already worked at Review 1 on this asset
    with pytest.raises(BulkOperationError) as refused:
        await team.first_reviewer.append_labels(
            asset_id_array=ids, json_response_array=[answer("A")], label_type="REVIEW"
        )
    lock = _lock(refused)
    assert lock.errors[0].extensions["context"] == {"reason": "BlockedByEnforceStepSeparation"}
    assert '"Review 1"' in str(lock) and '"Review 2"' in str(lock)
    await team.second_reviewer.append_labels(
        asset_id_array=ids, json_response_array=[answer("A")], label_type="REVIEW"
    )
    assert (await _where(kili, p))["img-0000"] == ("REVIEWED", "Review 2", "DONE")
    # off again: the same review is accepted
    await kili.update_project_workflow(p, enforce_step_separation=False)
    await kili.send_back_to_queue(asset_ids=ids)  # back to Review 1
    await team.first_reviewer.append_labels(
        asset_id_array=ids, json_response_array=[answer("A")], label_type="REVIEW"
    )
    await team.first_reviewer.append_labels(
        asset_id_array=ids, json_response_array=[answer("A")], label_type="REVIEW"
    )
    assert (await _where(kili, p))["img-0000"] == ("REVIEWED", "Review 2", "DONE")


async def test_managers_write_at_any_step(kili: aiokili.AsyncKili, team: Team) -> None:
    """ADMINs and TEAM_MANAGERs run the workflow: step assignees do not bind them."""
    p = team.project_id
    ids = await import_images(kili, p, 1)
    await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")])
    await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")],
                             label_type="REVIEW")  # fmt: skip
    assert (await _where(kili, p))["img-0000"] == ("TO_REVIEW", "Review 2", "TO_DO")


async def test_a_honeypot_answer_is_work_at_no_step(kili: aiokili.AsyncKili, team: Team) -> None:
    """With enforce_step_separation, a honeypot's answer does not bind its author to a step."""
    p = team.project_id
    await kili.update_project_workflow(p, enforce_step_separation=True)
    ids = await import_images(kili, p, 1)
    await kili.create_honeypot(answer("A"), asset_id=ids[0])
    assert (await _where(kili, p))["img-0000"] == ("TODO", "Labeling", "TO_DO")  # still queued
    await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")])
    assert (await _where(kili, p))["img-0000"] == ("TO_REVIEW", "Review 1", "TO_DO")
    with pytest.raises(BulkOperationError, match="already worked on another step"):
        await kili.append_labels(
            asset_id_array=ids, json_response_array=[answer("A")], label_type="REVIEW"
        )
