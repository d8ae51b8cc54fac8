"""Workflow steps (V2) against the real local server: each project's Labeling and Review
steps, every transition writing the asset's step, the step filters reading it."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from support import answer, gql, import_images, new_project

import aiokili
from aiokili import BulkOperationError, KiliInputError
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio


async def _steps(kili: aiokili.AsyncKili, project_id: str) -> dict[str, str]:
    """Step name -> step id."""
    project = await kili.get_project(project_id)
    return {s.name: s.id for s in project.steps or []}


async def _where_is(kili: aiokili.AsyncKili, project_id: str) -> dict[str, tuple[Any, ...]]:
    """Asset id -> (status, step name, step status)."""
    found = await kili.assets(project_id, fields=["id", "status", "currentStep.name",
                                                  "currentStep.status"])  # fmt: skip
    out = {}
    for a in found:
        assert a.current_step is not None
        status = a.current_step.status
        out[a.id] = (str(a.status.value if a.status else None), a.current_step.name,
                     str(status.value if status else None))  # fmt: skip
    return out


def _stored(server: LocalServer, asset_id: str) -> tuple[Any, ...]:
    with server.store.db.read() as c:
        row = c.execute("SELECT status, step_id, step_status FROM assets WHERE id = ?",
                        (asset_id,)).fetchone()  # fmt: skip
    return tuple(row)


async def test_new_project_has_labeling_and_review_steps(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    project = await kili.get_project(project_id)
    assert project.workflow_version == aiokili.WorkflowVersion.V2
    steps = project.steps or []
    assert [(s.name, s.type_ and s.type_.value) for s in steps] == [
        ("Labeling", "DEFAULT"), ("Review", "REVIEW")
    ]  # fmt: skip
    assert len({s.id for s in steps}) == 2
    # stable: the same ids on every read, over the wire too
    again = await _steps(kili, project_id)
    assert again == {s.name: s.id for s in steps}
    raw = gql(local_server, "query($w: ProjectWhere!) { projects(where: $w, first: 1, skip: 0)"
              " { steps { id name type } workflowVersion } }", w={"id": project_id})  # fmt: skip
    [listed] = raw["data"]["projects"]
    assert listed["workflowVersion"] == "V2"
    assert [s["id"] for s in listed["steps"]] == [s.id for s in steps]
    other = await _steps(kili, await new_project(kili))
    assert set(other.values()).isdisjoint(again.values())  # ids are per project


async def test_each_transition_writes_the_step(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    steps = await _steps(kili, project_id)
    labeling, review = steps["Labeling"], steps["Review"]
    [a] = await import_images(kili, project_id, 1)
    assert (await _where_is(kili, project_id))[a] == ("TODO", "Labeling", "TO_DO")
    assert _stored(local_server, a) == ("TODO", labeling, "TO_DO")

    await kili.append_labels(asset_id_array=[a], json_response_array=[answer("A")])
    assert (await _where_is(kili, project_id))[a] == ("LABELED", "Labeling", "DONE")
    assert _stored(local_server, a) == ("LABELED", labeling, "DONE")

    await kili.add_to_review(asset_ids=[a])
    assert (await _where_is(kili, project_id))[a] == ("TO_REVIEW", "Review", "TO_DO")
    assert _stored(local_server, a) == ("TO_REVIEW", review, "TO_DO")

    await kili.append_labels(asset_id_array=[a], json_response_array=[answer("B")],
                             label_type="REVIEW")  # fmt: skip
    assert (await _where_is(kili, project_id))[a] == ("REVIEWED", "Review", "DONE")
    assert _stored(local_server, a) == ("REVIEWED", review, "DONE")

    await kili.send_back_to_queue(asset_ids=[a])
    assert (await _where_is(kili, project_id))[a] == ("ONGOING", "Labeling", "REWORK")
    assert _stored(local_server, a) == ("ONGOING", labeling, "REWORK")

    # predictions, inferences and honeypot answers leave the asset where it is
    await kili.create_predictions(project_id, asset_id_array=[a], model_name="m",
                                  json_response_array=[answer("A")])  # fmt: skip
    await kili.create_honeypot(answer("A"), asset_id=a)
    assert _stored(local_server, a) == ("ONGOING", labeling, "REWORK")


async def test_a_label_at_the_review_step_by_name_or_id(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    steps = await _steps(kili, project_id)
    ids = await import_images(kili, project_id, 3)
    await kili.append_labels(asset_id_array=ids[:1], json_response_array=[answer("A")],
                             step_name="Review")  # fmt: skip
    await kili.append_labels(asset_external_id_array=["img-0001"], project_id=project_id,
                             json_response_array=[answer("A")], step_id=steps["Review"])  # fmt: skip
    await kili.append_labels(asset_id_array=ids[2:], json_response_array=[answer("A")],
                             step_name="Labeling")  # fmt: skip
    where = await _where_is(kili, project_id)
    assert [where[i] for i in ids] == [("REVIEWED", "Review", "DONE")] * 2 + [
        ("LABELED", "Labeling", "DONE")
    ]  # fmt: skip


async def test_append_labels_step_errors(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 1)
    with pytest.raises(KiliInputError, match=r"step_name: .*no step named 'Revue'.*'Review'"):
        await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")],
                                 step_name="Revue")  # fmt: skip
    with pytest.raises(KiliInputError, match="both step_name and step_id"):
        await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")],
                                 step_name="Review", step_id="x")  # fmt: skip
    with pytest.raises(KiliInputError, match="step_name must be"):
        await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")],
                                 step_name="")  # fmt: skip
    with pytest.raises(KiliInputError, match="group_name"):
        await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")],
                                 group_name="G")  # fmt: skip
    with pytest.raises(aiokili.NotFoundError, match="no-such-asset"):
        await kili.append_labels(asset_id_array=["no-such-asset"],
                                 json_response_array=[answer("A")], step_name="Review")  # fmt: skip
    other = await _steps(kili, await new_project(kili))
    with pytest.raises(BulkOperationError, match="stepId"):  # a step of another project
        await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")],
                                 step_id=other["Review"])  # fmt: skip
    with pytest.raises(BulkOperationError, match="no step"):
        await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")],
                                 step_id="nope")  # fmt: skip
    assert (await _where_is(kili, project_id))[ids[0]] == ("TODO", "Labeling", "TO_DO")


@pytest.fixture
async def spread(kili: aiokili.AsyncKili) -> tuple[str, dict[str, str], list[str]]:
    """6 assets: 0 TO_DO, 1 Labeling DONE, 2 Review TO_DO, 3 Review DONE, 4 REWORK, 5 TO_DO."""
    project_id = await new_project(kili)
    steps = await _steps(kili, project_id)
    ids = await import_images(kili, project_id, 6)
    await kili.append_labels(asset_id_array=ids[1:5], json_response_array=[answer("A")] * 4)
    await kili.add_to_review(asset_ids=ids[2:4])
    await kili.append_labels(asset_id_array=[ids[3]], json_response_array=[answer("B")],
                             label_type="REVIEW")  # fmt: skip
    await kili.send_back_to_queue(asset_ids=[ids[4]])
    return project_id, steps, ids


async def _ids(kili: aiokili.AsyncKili, project_id: str, **filters: Any) -> list[str]:
    found = [a.id for a in await kili.assets(project_id, fields=["id"], **filters)]
    assert await kili.count_assets(project_id, **filters) == len(found)  # counts equal lists
    return found


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda s: {"step_id_in": [s["Review"]]}, [2, 3]),
        (lambda s: {"step_name_in": ["Review"]}, [2, 3]),
        (lambda s: {"step_id_not_in": [s["Review"]]}, [0, 1, 4, 5]),
        (lambda s: {"step_name_not_in": ["Review"]}, [0, 1, 4, 5]),
        (lambda s: {"step_status_in": ["TO_DO"]}, [0, 2, 5]),
        (lambda s: {"step_status_in": ["REWORK", "DONE"]}, [1, 3, 4]),
        (lambda s: {"step_status_not_in": ["TO_DO"]}, [1, 3, 4]),
        (lambda s: {"step_status_in": ["SKIPPED", "IN_PROGRESS"]}, []),
        (lambda s: {"step_id_and_status_in": [(s["Labeling"], "TO_DO"), (s["Review"], "DONE")]},
         [0, 3, 5]),
        (lambda s: {"step_name_and_status_in": [("Labeling", "TO_DO"), ("Review", "DONE")]},
         [0, 3, 5]),
        (lambda s: {"step_id_and_status_not_in": [(s["Labeling"], "TO_DO")]}, [1, 2, 3, 4]),
        (lambda s: {"step_name_and_status_not_in": [("Labeling", "DONE"), ("Review", "TO_DO")]},
         [0, 3, 4, 5]),
        (lambda s: {"step_name_in": ["Labeling"], "step_status_in": ["REWORK"]}, [4]),
    ],
)  # fmt: skip
async def test_step_filters(
    kili: aiokili.AsyncKili, spread: tuple[str, dict[str, str], list[str]], make: Any,
    expected: list[int],
) -> None:  # fmt: skip
    project_id, steps, ids = spread
    assert await _ids(kili, project_id, **make(steps)) == [ids[i] for i in expected]


async def test_current_step_agrees_with_the_filters(
    kili: aiokili.AsyncKili, spread: tuple[str, dict[str, str], list[str]]
) -> None:
    project_id, steps, ids = spread
    where = await _where_is(kili, project_id)
    assert [where[i][1:] for i in ids] == [
        ("Labeling", "TO_DO"), ("Labeling", "DONE"), ("Review", "TO_DO"), ("Review", "DONE"),
        ("Labeling", "REWORK"), ("Labeling", "TO_DO"),
    ]  # fmt: skip
    for asset_id, (_, name, status) in where.items():
        by_name = await _ids(kili, project_id, step_name_and_status_in=[(name, status)])
        by_id = await _ids(kili, project_id, step_id_and_status_in=[(steps[name], status)])
        assert asset_id in by_name and by_name == by_id
        assert by_name == [i for i in ids if where[i][1:] == (name, status)]


async def test_labels_by_asset_step_name(
    kili: aiokili.AsyncKili, spread: tuple[str, dict[str, str], list[str]]
) -> None:
    project_id, steps, ids = spread

    async def assets_of(**filters: Any) -> list[str]:
        found = [lb.label_of.id for lb in await kili.labels(
            project_id, fields=["labelOf.id"], **filters) if lb.label_of]  # fmt: skip
        assert await kili.count_labels(project_id, **filters) == len(found)
        return found

    # ids 2 and 3 are in Review (3 with its DEFAULT and its REVIEW label)
    assert await assets_of(asset_step_name_in=["Review"]) == [ids[2], ids[3], ids[3]]
    assert await assets_of(asset_step_name_in=["Review"]) == await assets_of(
        asset_step_id_in=[steps["Review"]]
    )  # fmt: skip
    assert await assets_of(asset_step_name_in=["Labeling"], asset_step_status_in=["REWORK"]) == [
        ids[4]
    ]  # fmt: skip
    assert await assets_of(asset_step_name_in=[]) == []
    await kili.create_predictions(project_id, asset_id_array=ids[2:3], model_name="m",
                                  json_response_array=[answer("A")])  # fmt: skip
    predicted = await kili.predictions(project_id, fields=["labelOf.id"],
                                       asset_step_name_in=["Review"])  # fmt: skip
    assert [p.label_of.id for p in predicted if p.label_of] == [ids[2]]
    assert await kili.predictions(project_id, asset_step_name_in=["Labeling"]) == []
    parsed = await kili.labels(project_id, output_format="parsed_label",
                               asset_step_name_in=["Review"], type_in=["REVIEW"])  # fmt: skip
    assert [p.jobs["JOB"].category.name for p in parsed] == ["B"]


async def test_unknown_step_names_are_input_errors(
    kili: aiokili.AsyncKili, spread: tuple[str, dict[str, str], list[str]]
) -> None:
    project_id, _, _ = spread
    message = r"no step named 'Revue'\. Its steps: 'Labeling', 'Review'"
    with pytest.raises(KiliInputError, match=f"step_name_in: .*{message}"):
        await kili.assets(project_id, step_name_in=["Revue"])
    with pytest.raises(KiliInputError, match=f"step_name_not_in: .*{message}"):
        await kili.count_assets(project_id, step_name_not_in=["Review", "Revue"])
    with pytest.raises(KiliInputError, match=f"asset_step_name_in: .*{message}"):
        await kili.labels(project_id, asset_step_name_in=["Revue"])
    with pytest.raises(KiliInputError, match=f"asset_step_name_in: .*{message}"):
        await kili.count_labels(project_id, asset_step_name_in=["Revue"])
    with pytest.raises(KiliInputError, match=f"asset_step_name_in: .*{message}"):
        await kili.inferences(project_id, asset_step_name_in=["Revue"])
    # checked before any request
    with pytest.raises(KiliInputError, match="asset_step_name_in and asset_step_id_in"):
        kili.labels("p", asset_step_name_in=["Review"], asset_step_id_in=["s"])
    with pytest.raises(KiliInputError, match="asset_step_name_in"):
        await kili.count_labels("p", asset_step_name_in="Review")  # type: ignore[typeddict-item]
    with pytest.raises(KiliInputError, match="step_name_in"):
        await kili.count_assets("p", step_name_in=["Review"], step_id_in=["s"])
    with pytest.raises(aiokili.NotFoundError, match="nope"):
        await kili.count_labels("nope", asset_step_name_in=["Review"])


async def test_deprecated_step_statuses_warn_and_mean_their_successor(
    kili: aiokili.AsyncKili, spread: tuple[str, dict[str, str], list[str]]
) -> None:
    project_id, steps, ids = spread  # ids[4] was sent back: REWORK
    with pytest.warns(DeprecationWarning, match="'DOING' is deprecated"):
        assert await kili.count_labels(project_id, asset_step_status_in=["DOING"]) == 0
    with pytest.warns(DeprecationWarning, match="'REDO' is deprecated"):
        assert await _ids(kili, project_id, step_status_in=["REDO"]) == [ids[4]]
    with pytest.warns(DeprecationWarning, match="'REDO' is deprecated"):
        assert await kili.count_labels(project_id, asset_step_status_in=["REDO"]) == 1
    pair = [(steps["Labeling"], "REDO")]
    assert await _ids(kili, project_id, step_id_and_status_in=pair) == [ids[4]]


async def test_legacy_v1_projects_keep_working(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    """A project of an older database file: no steps; its step comes from its status."""
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 2)
    with local_server.store.db.write() as c:
        c.execute("DELETE FROM project_steps WHERE project_id = ?", (project_id,))
        c.execute("UPDATE assets SET step_id = NULL, step_status = NULL WHERE project_id = ?",
                  (project_id,))  # fmt: skip
    local_server.store.projects.step_cache.clear()
    project = await kili.get_project(project_id)
    assert project.workflow_version == aiokili.WorkflowVersion.V1 and project.steps == []
    await kili.append_labels(asset_id_array=ids[:1], json_response_array=[answer("A")])
    await kili.add_to_review(asset_ids=ids[:1])
    assert _stored(local_server, ids[0]) == ("TO_REVIEW", None, None)
    where = await _where_is(kili, project_id)
    assert where[ids[0]] == ("TO_REVIEW", "Review", "TO_DO")  # derived from the status
    assert where[ids[1]] == ("TODO", "Labeling", "TO_DO")
    assert await kili.count_assets(project_id, status_in=["TO_REVIEW"]) == 1
    with pytest.raises(KiliInputError, match="legacy workflow"):
        await kili.count_assets(project_id, step_name_in=["Review"])
    with pytest.raises(KiliInputError, match="legacy workflow"):
        await kili.labels(project_id, asset_step_name_in=["Review"])
    fresh = await kili.append_many_to_dataset(
        project_id, content_array=["https://images.example/new.jpg"], external_id_array=["new"]
    )
    assert _stored(local_server, fresh["asset_ids"][0]) == ("TODO", None, None)


async def test_deleting_a_project_deletes_its_steps(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        await kili.delete_project(project_id)
    with local_server.store.db.read() as c:
        left = c.execute("SELECT COUNT(*) FROM project_steps WHERE project_id = ?",
                         (project_id,)).fetchone()[0]  # fmt: skip
    assert left == 0


async def test_a_label_sent_with_skipped_true_skips_its_asset(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    """What a labeller's "skip" sends (appendToLabels with skipped) takes the asset out of
    the queue as skipped; the other assets stay where they were."""
    project = await new_project(kili)
    first, second = await import_images(kili, project, 2)
    me = (await kili.get_current_user()).id
    query = ("mutation($d: AppendToLabelsData!, $w: AssetWhere!) { "
             "appendToLabels(data: $d, where: $w) { id } }")  # fmt: skip
    body = gql(local_server, query, d={"authorID": me, "jsonResponse": "{}", "labelType":
               "DEFAULT", "skipped": True}, w={"id": first})  # fmt: skip
    assert not body.get("errors"), body
    assert await kili.count_assets(project, skipped=True) == 1
    assert [a.id for a in await kili.assets(project, skipped=True, fields=["id"])] == [first]
    where = await _where_is(kili, project)
    assert where[first] == ("LABELED", "Labeling", "SKIPPED")
    assert where[second] == ("TODO", "Labeling", "TO_DO")
    assert await kili.count_assets(project, step_status_in=["SKIPPED"]) == 1
