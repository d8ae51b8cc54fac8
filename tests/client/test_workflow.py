"""The workflow step methods of AsyncKili against the real local server: reading steps,
changing them (creates, updates, deletes, renames, review steps, properties), assigning
reviewers and labelers, copying a workflow, and what the platform refuses."""

from __future__ import annotations

import pytest
from support import answer, import_images, new_project

import aiokili
from aiokili import InvalidRequestError, KiliInputError, NotFoundError, PermissionDeniedError
from aiokili.server import LocalServer
from aiokili.testing import UserFactory

pytestmark = pytest.mark.anyio


async def _names(kili: aiokili.AsyncKili, project_id: str) -> list[str]:
    return [s.name for s in await kili.get_steps(project_id)]


async def _member(kili_user: UserFactory, role: str, project_id: str) -> str:
    """A new member's email."""
    client = await kili_user(role, project_id=project_id)
    return (await client.get_current_user()).email


async def test_get_steps(kili: aiokili.AsyncKili, local_server: LocalServer) -> None:
    project_id = await new_project(kili)
    steps = await kili.get_steps(project_id)
    assert isinstance(steps[0], aiokili.Step)
    assert [(s.name, s.type_, s.step_coverage, s.assignees) for s in steps] == [
        ("Labeling", aiokili.StepType.DEFAULT, None, []),
        ("Review", aiokili.StepType.REVIEW, 0, []),  # a new project reviews nothing by itself
    ]
    assert [s.id for s in steps] == [s.id for s in (await kili.get_project(project_id)).steps]
    # fields: the official SDK's "steps.x" paths, or the step's own
    named = await kili.get_steps(project_id, fields=["steps.name", "steps.assignees.email"])
    assert [s.name for s in named] == ["Labeling", "Review"] and named[0].assignees == []
    with pytest.raises(AttributeError, match="type"):
        _ = named[0].type_
    assert [s.name for s in await kili.get_steps(project_id, fields=["name"])] == [
        "Labeling", "Review"
    ]  # fmt: skip
    with pytest.raises(KiliInputError, match=r"Unknown field 'steps\.nmae'"):
        await kili.get_steps(project_id, fields=["nmae"])
    with pytest.raises(NotFoundError, match="does not exist"):
        await kili.get_steps("no-such-project")
    with pytest.raises(NotFoundError, match="does not exist"):
        await kili.get_steps("no-such-project", fields=["name"])
    with local_server.store.db.write() as c:  # a project of an older database file
        c.execute("DELETE FROM project_steps WHERE project_id = ?", (project_id,))
    local_server.store.projects.step_cache.clear()
    with pytest.raises(NotFoundError, match="legacy workflow"):
        await kili.get_steps(project_id)
    with pytest.raises(InvalidRequestError, match="legacy workflow"):  # the server refuses too
        await kili.execute(
            "mutation($i: RenameStepInput!) { renameStep(input: $i) { id } }",
            {"i": {"projectId": project_id, "stepId": "x", "newName": "y"}},
        )


async def test_update_project_workflow(kili: aiokili.AsyncKili, kili_user: UserFactory) -> None:
    project_id = await new_project(kili)
    reviewer = await _member(kili_user, "REVIEWER", project_id)
    labeler = await _member(kili_user, "LABELER", project_id)
    ids = {m.user.email: m.user.id for m in await kili.project_users(project_id)}
    created = await kili.update_project_workflow(
        project_id,
        enforce_step_separation=True,
        create_steps=[
            {"name": "QA", "type": "REVIEW", "assignees": [reviewer], "step_coverage": 30},
            {"name": "Final", "type": "REVIEW", "assignees": [ids[reviewer]]},
        ],
        update_steps=[{"name": "Labeling", "assignees": [labeler, reviewer]}],
    )
    assert isinstance(created, aiokili.ProjectWorkflow) and created.enforce_step_separation
    assert [(s.name, s.step_coverage) for s in created.steps] == [
        ("Labeling", None), ("Review", 0), ("QA", 30), ("Final", 100)
    ]  # fmt: skip
    assert [a.email for a in created.steps[0].assignees] == [labeler, reviewer]
    assert [a.id for a in created.steps[3].assignees] == [ids[reviewer]]
    # by id (name renames), deleted by name and by id
    qa, final = created.steps[2], created.steps[3]
    await kili.update_project_workflow(
        project_id, update_steps=[{"id": qa.id, "send_back_step_id": created.steps[1].id}]
    )
    changed = await kili.update_project_workflow(
        project_id,
        update_steps=[{"id": qa.id, "name": "Quality"}],
        delete_steps=["Review", {"name": "Final"}, final.id],
    )
    assert [s.name for s in changed.steps] == ["Labeling", "Quality"]
    assert changed.steps[1].id == qa.id
    # its send-back step deleted: it sends back to the labeling step again
    assert changed.steps[1].send_back_step_id is None


async def test_update_project_workflow_checks_locally(kili: aiokili.AsyncKili) -> None:
    """Checked before any request: an unknown project id would be NotFoundError otherwise."""
    with pytest.raises(KiliInputError, match="changes nothing"):
        await kili.update_project_workflow("p")
    with pytest.raises(KiliInputError, match=r"create_steps\[0\]\['assignees'\]: Field required"):
        await kili.update_project_workflow(
            "p",
            create_steps=[{"name": "QA", "type": "REVIEW"}],  # type: ignore[typeddict-item]
        )
    with pytest.raises(KiliInputError, match=r"update_steps\[0\]\['coverage'\]: Extra inputs"):
        await kili.update_project_workflow(
            "p",
            update_steps=[{"id": "s", "coverage": 5}],  # type: ignore[typeddict-unknown-key]
        )
    with pytest.raises(KiliInputError, match="enforce_step_separation must be True or False"):
        await kili.update_project_workflow("p", enforce_step_separation="yes")  # type: ignore[arg-type]


async def test_what_the_platform_refuses(kili: aiokili.AsyncKili, kili_user: UserFactory) -> None:
    project_id = await new_project(kili)
    labeler = await _member(kili_user, "LABELER", project_id)
    ids = {m.user.email: m.user.id for m in await kili.project_users(project_id)}
    steps = await kili.get_steps(project_id)

    async def refused(match: str, **changes: object) -> None:
        with pytest.raises(InvalidRequestError, match=match):
            await kili.update_project_workflow(project_id, **changes)  # type: ignore[arg-type]
        assert await _names(kili, project_id) == ["Labeling", "Review"]  # nothing changed

    await refused("labeling step, the first of the workflow", delete_steps=["Labeling"])
    await refused("at least one review step", delete_steps=["Review"])
    await refused("one labeling step", create_steps=[
        {"name": "Second labeling", "type": "DEFAULT", "assignees": []}
    ])  # fmt: skip
    await refused("one labeling step", update_steps=[{"name": "Labeling", "type": "REVIEW"}])
    await refused("'Review' would name several", create_steps=[
        {"name": "Review", "type": "REVIEW", "assignees": []}
    ])  # fmt: skip
    await refused("LABELER of the project and cannot review", update_steps=[
        {"name": "Review", "assignees": [ids[labeler]]}
    ])  # fmt: skip
    with pytest.raises(NotFoundError, match='assignee "someone" is not a member'):
        await kili.update_project_workflow(project_id, update_steps=[
            {"name": "Review", "assignees": ["someone"]}
        ])  # fmt: skip
    await refused("not a step before it", create_steps=[
        {"name": "QA", "type": "REVIEW", "assignees": [], "send_back_step_id": "nope"}
    ])  # fmt: skip
    await refused("review steps' settings", update_steps=[
        {"name": "Labeling", "step_coverage": 50}
    ])  # fmt: skip
    await refused("needs numberOfExpectedLabelsForConsensus of 2 or more", update_steps=[
        {"name": "Labeling", "consensus_coverage": 50}
    ])  # fmt: skip
    # a step that holds assets is neither deleted nor given another type
    await kili.add_review_step(project_id, "QA", [])
    [asset] = await import_images(kili, project_id, 1)
    await kili.append_labels(asset_id_array=[asset], json_response_array=[answer("A")])
    with pytest.raises(InvalidRequestError, match=r'step "QA" holds 1 asset\(s\)'):
        await kili.delete_last_step(project_id)
    with pytest.raises(KiliInputError, match="no step has the step name 'Revue'"):
        await kili.update_project_workflow(project_id, delete_steps=["Revue"])
    with pytest.raises(KiliInputError, match="multi-group workflow"):
        await kili.update_project_workflow(
            project_id, update_steps=[{"name": "QA", "group_name": "G"}]
        )
    assert steps[0].id == (await kili.get_steps(project_id))[0].id


async def test_add_review_step(kili: aiokili.AsyncKili, kili_user: UserFactory) -> None:
    project_id = await new_project(kili)
    reviewer = await _member(kili_user, "REVIEWER", project_id)
    labeler = await _member(kili_user, "LABELER", project_id)
    with pytest.warns(UserWarning, match=f"not added.*{labeler}, nobody@x.test"):
        step = await kili.add_review_step(
            project_id, "QA", [reviewer, labeler, "nobody@x.test"], step_coverage=40,
            use_honeypot=True, send_back_to_step="Review",
        )  # fmt: skip
    assert isinstance(step, aiokili.Step)
    assert (step.name, step.type_, step.step_coverage, step.use_honeypot) == (
        "QA", aiokili.StepType.REVIEW, 40, True
    )  # fmt: skip
    assert [a.email for a in step.assignees] == [reviewer]
    assert step.send_back_step_id == (await kili.get_steps(project_id))[1].id
    assert await _names(kili, project_id) == ["Labeling", "Review", "QA"]
    with pytest.raises(KiliInputError, match="between 0 and 100"):
        await kili.add_review_step(project_id, "QA2", [], step_coverage=101)
    with pytest.raises(InvalidRequestError, match="'QA' would name several"):
        await kili.add_review_step(project_id, "QA", [])
    with pytest.raises(KiliInputError, match="no step has the step name 'Nope'"):
        await kili.add_review_step(project_id, "QA2", [], send_back_to_step="Nope")


async def test_reviewers_of_a_step(kili: aiokili.AsyncKili, kili_user: UserFactory) -> None:
    project_id = await new_project(kili)
    first = await _member(kili_user, "REVIEWER", project_id)
    second = await _member(kili_user, "TEAM_MANAGER", project_id)
    labeler = await _member(kili_user, "LABELER", project_id)
    with pytest.warns(UserWarning, match=f"can not review\\): {labeler}"):
        added = await kili.add_reviewers_to_step(project_id, "Review", [first, labeler, second])
    assert added == [first, second]
    review = (await kili.get_steps(project_id))[1]
    assert [a.email for a in review.assignees] == [first, second]
    # by id; already there: nothing to add
    assert await kili.add_reviewers_to_step(project_id, step_id=review.id, emails=[first]) == [
        first
    ]
    with pytest.warns(UserWarning, match=f"not assigned to this step: {labeler}"):
        removed = await kili.remove_reviewers_from_step(project_id, "Review", [first, labeler])
    assert removed == [first]
    assert [a.email for a in (await kili.get_steps(project_id))[1].assignees] == [second]
    with pytest.raises(KiliInputError, match="must keep at least one assignee"):
        await kili.remove_reviewers_from_step(project_id, "Review", [second])
    with pytest.raises(KiliInputError, match="must be a review step"):
        await kili.add_reviewers_to_step(project_id, "Labeling", [first])
    with pytest.raises(KiliInputError, match="either step_id, or step_name"):
        await kili.add_reviewers_to_step(project_id, "Review", [first], step_id=review.id)
    with pytest.raises(KiliInputError, match="emails is required"):
        await kili.add_reviewers_to_step(project_id, "Review")


async def test_labelers_of_a_step_need_the_multi_group_workflow(
    kili: aiokili.AsyncKili, kili_user: UserFactory
) -> None:
    """As in the official SDK; on V2, update_project_workflow sets a labeling step's
    assignees (the message says how)."""
    project_id = await new_project(kili)
    labeler = await _member(kili_user, "LABELER", project_id)
    for method in (kili.add_labelers_to_step, kili.remove_labelers_from_step):
        with pytest.raises(KiliInputError, match=r"multi-group workflow \(V3\).*update_steps"):
            await method(project_id, "Labeling", [labeler])
    await kili.update_project_workflow(
        project_id, update_steps=[{"name": "Labeling", "assignees": [labeler]}]
    )
    assert [a.email for a in (await kili.get_steps(project_id))[0].assignees] == [labeler]


async def test_rename_and_delete_last_step(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    renamed = await kili.rename_step(project_id, step_name="Review", new_name="Check")
    assert renamed.name == "Check"
    labeling = (await kili.get_steps(project_id))[0]
    assert (await kili.rename_step(project_id, step_id=labeling.id, new_name="Label")).name == (
        "Label"
    )
    [asset] = await import_images(kili, project_id, 1)
    assert await kili.count_assets(project_id, step_name_in=["Label"]) == 1  # filters follow
    with pytest.raises(InvalidRequestError, match="'Label' would name several"):
        await kili.rename_step(project_id, step_name="Check", new_name="Label")
    with pytest.raises(KiliInputError, match="new_name must be a non-empty string"):
        await kili.rename_step(project_id, step_name="Check", new_name=" ")
    with pytest.raises(KiliInputError, match="only one review step is remaining"):
        await kili.delete_last_step(project_id)
    await kili.add_review_step(project_id, "Extra", [])
    workflow = await kili.delete_last_step(project_id)
    assert [s.name for s in workflow.steps] == ["Label", "Check"]
    del asset


async def test_labeling_step_consensus(kili: aiokili.AsyncKili, kili_user: UserFactory) -> None:
    """An asset in consensus waits (PARTIALLY_DONE) until it has the labels expected."""
    project_id = await new_project(kili)
    step = await kili.update_labeling_step_properties(
        project_id, "Labeling", consensus_coverage=100, number_of_expected_labels_for_consensus=2,
        use_honeypot=False,
    )  # fmt: skip
    assert (step.consensus_coverage, step.number_of_expected_labels_for_consensus) == (100, 2)
    assert step.use_honeypot is False
    [asset] = await import_images(kili, project_id, 1)
    other = await kili_user("LABELER", project_id=project_id)
    await kili.append_labels(asset_id_array=[asset], json_response_array=[answer("A")])
    [found] = await kili.assets(project_id, fields=["status", "currentStep.status"])
    assert (str(found.status), str(found.current_step and found.current_step.status)) == (
        "ONGOING", "PARTIALLY_DONE"
    )  # fmt: skip
    await other.append_labels(asset_id_array=[asset], json_response_array=[answer("B")])
    [found] = await kili.assets(project_id, fields=["status", "currentStep.status"])
    assert str(found.current_step and found.current_step.status) == "DONE"
    # 0 turns consensus off
    off = await kili.update_labeling_step_properties(project_id, "Labeling", consensus_coverage=0)
    assert (off.consensus_coverage, off.number_of_expected_labels_for_consensus) == (None, None)
    with pytest.raises(KiliInputError, match="update_review_step_properties"):
        await kili.update_labeling_step_properties(project_id, "Review", consensus_coverage=10)
    with pytest.raises(KiliInputError, match="between 0 and 100"):
        await kili.update_labeling_step_properties(project_id, "Labeling", consensus_coverage=-1)


async def test_review_step_properties(kili: aiokili.AsyncKili, kili_user: UserFactory) -> None:
    project_id = await new_project(kili)
    first = await _member(kili_user, "REVIEWER", project_id)
    second = await _member(kili_user, "REVIEWER", project_id)
    qa = await kili.add_review_step(project_id, "QA", [first])
    review = (await kili.get_steps(project_id))[1]
    step = await kili.update_review_step_properties(
        project_id, step_id=qa.id, assignees=[second], step_coverage=20,
        send_back_to_step=review.id, use_honeypot=True,
    )  # fmt: skip
    assert [a.email for a in step.assignees] == [second]  # replaced
    assert (step.step_coverage, step.send_back_step_id, step.use_honeypot) == (20, review.id, True)
    by_name = await kili.update_review_step_properties(
        project_id, "QA", send_back_to_step="Labeling"
    )
    assert by_name.send_back_step_id == (await kili.get_steps(project_id))[0].id
    with pytest.raises(KiliInputError, match="update_labeling_step_properties"):
        await kili.update_review_step_properties(project_id, "Labeling", step_coverage=10)
    with pytest.raises(InvalidRequestError, match="not a step before it"):
        await kili.update_review_step_properties(project_id, "Review", send_back_to_step="QA")


async def test_copy_workflow_from_project(kili: aiokili.AsyncKili, kili_user: UserFactory) -> None:
    source = await new_project(kili)
    await kili.rename_step(source, step_name="Review", new_name="R1")
    await kili.update_review_step_properties(source, "R1", step_coverage=60)
    await kili.add_review_step(source, "R2", [], step_coverage=10, send_back_to_step="R1")
    await kili.update_project_workflow(source, enforce_step_separation=True)
    destination = await new_project(kili)
    reviewer = await _member(kili_user, "REVIEWER", destination)
    labeler = await _member(kili_user, "LABELER", destination)
    copied = await kili.copy_workflow_from_project(destination, source)
    assert copied.enforce_step_separation is True
    assert [(s.name, s.step_coverage) for s in copied.steps] == [
        ("Labeling", None), ("R1", 60), ("R2", 10)
    ]  # fmt: skip
    assert copied.steps[2].send_back_step_id == copied.steps[1].id  # remapped
    # assignees are the destination's members: all on R1 and R2 but the LABELER
    assert [a.email for a in copied.steps[1].assignees] == [reviewer]
    assert labeler not in [a.email for a in copied.steps[2].assignees]
    with pytest.raises(KiliInputError, match="must be different"):
        await kili.copy_workflow_from_project(source, source)
    [asset] = await import_images(kili, destination, 1)
    await kili.append_labels(asset_id_array=[asset], json_response_array=[answer("A")])
    with pytest.raises(KiliInputError, match="already has 1 label"):
        await kili.copy_workflow_from_project(destination, source)
    with pytest.raises(NotFoundError, match="no-such"):
        await kili.copy_workflow_from_project(destination, "no-such")


async def test_who_may_change_steps(
    kili: aiokili.AsyncKili, kili_user: UserFactory, kili_other_organization: aiokili.AsyncKili
) -> None:
    """Settings: ADMIN; assignees only (managing labelers and reviewers): TEAM_MANAGER."""
    project_id = await new_project(kili)
    manager = await kili_user("TEAM_MANAGER", project_id=project_id)
    reviewer = await _member(kili_user, "REVIEWER", project_id)
    assert await manager.add_reviewers_to_step(project_id, "Review", [reviewer]) == [reviewer]
    with pytest.raises(PermissionDeniedError, match="project role ADMIN"):
        await manager.add_review_step(project_id, "QA", [])
    with pytest.raises(PermissionDeniedError, match="project role ADMIN"):
        await manager.update_review_step_properties(project_id, "Review", step_coverage=5)
    labeler = await kili_user("LABELER", project_id=project_id)
    assert [s.name for s in await labeler.get_steps(project_id)] == ["Labeling", "Review"]
    with pytest.raises(PermissionDeniedError, match="TEAM_MANAGER or above"):
        await labeler.update_project_workflow(
            project_id, update_steps=[{"name": "Review", "assignees": []}]
        )
    with pytest.raises(NotFoundError):
        await kili_other_organization.get_steps(project_id)


async def test_a_project_copy_keeps_its_steps(kili: aiokili.AsyncKili) -> None:
    source = await new_project(kili)
    await kili.add_review_step(source, "QA", [], step_coverage=25, send_back_to_step="Review")
    copy = (await kili.copy_project(source, copy_members=False)).id
    steps = await kili.get_steps(copy)
    assert [(s.name, s.step_coverage) for s in steps] == [
        ("Labeling", None), ("Review", 0), ("QA", 25)
    ]  # fmt: skip
    assert steps[2].send_back_step_id == steps[1].id
    assert {s.id for s in steps}.isdisjoint(s.id for s in await kili.get_steps(source))
