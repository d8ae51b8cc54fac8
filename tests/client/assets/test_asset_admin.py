"""Asset administration against the real local server: assignees (and the lock they put on
labelling), priorities (a labeler's queue), metadata merges, skips, consensus use."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from faults import LoseAnswers
from support import answer, import_images, new_project

import aiokili
from aiokili import (
    BulkOperationError,
    InvalidRequestError,
    KiliInputError,
    NotFoundError,
    PermissionDeniedError,
)
from aiokili.server import LocalServer
from aiokili.testing import UserFactory

pytestmark = pytest.mark.anyio


async def _setup(kili: aiokili.AsyncKili, n: int) -> tuple[str, list[str]]:
    project_id = await new_project(kili)
    return project_id, await import_images(kili, project_id, n)


async def _member(
    kili_user: UserFactory, project_id: str, role: str
) -> tuple[aiokili.AsyncKili, str]:
    """A new member of the project with ``role``: their client and their user id."""
    client = await kili_user(role=role, project_id=project_id)
    return client, (await client.get_current_user()).id


def _reasons(error: BulkOperationError) -> set[str]:
    """The lock reasons (``extensions.context.reason``) of the failed items."""
    found = set()
    for failure in error.failures:
        assert isinstance(failure.error, PermissionDeniedError), failure.error
        found.add(failure.error.errors[0].extensions["context"]["reason"])
    return found


# ---------------------------------------------------------------- assignees


async def test_assign_replaces_and_resets_the_assignees(
    kili: aiokili.AsyncKili, kili_user: UserFactory
) -> None:
    project_id, ids = await _setup(kili, 3)
    ann, ann_id = await _member(kili_user, project_id, "LABELER")
    bob, bob_id = await _member(kili_user, project_id, "LABELER")
    ann_email, bob_email = (
        (await ann.get_current_user()).email,
        (await bob.get_current_user()).email,
    )

    outcome = await kili.assign_assets_to_labelers(
        [[ann_id], [bob_id, ann_id], [ann_id]], asset_ids=ids
    )
    assert [x.asset_id for x in outcome.succeeded] == ids  # in the order given
    assert outcome.declined == [] and outcome.failed == []

    async def assigned(email: str) -> list[str]:
        return [a.id for a in await kili.assets(project_id, assignee_in=[email], fields=["id"])]

    assert await assigned(ann_email) == ids
    assert await assigned(bob_email) == [ids[1]]

    # by external id; [] unassigns
    outcome = await kili.assign_assets_to_labelers(
        [[], [bob_id]], external_ids=["img-0000", "img-0001"], project_id=project_id
    )
    assert [(x.asset_id, x.external_id) for x in outcome.succeeded] == [
        (ids[0], "img-0000"),
        (ids[1], "img-0001"),
    ]
    assert await assigned(ann_email) == [ids[2]]
    assert await assigned(bob_email) == [ids[1]]


async def test_an_assigned_asset_is_read_only_for_the_others(
    kili: aiokili.AsyncKili, kili_user: UserFactory
) -> None:
    project_id, ids = await _setup(kili, 2)
    ann, ann_id = await _member(kili_user, project_id, "LABELER")
    bob, _ = await _member(kili_user, project_id, "LABELER")
    await kili.assign_assets_to_labelers([[ann_id]], asset_ids=ids[:1])

    with pytest.raises(BulkOperationError) as refused:
        await bob.append_labels(asset_id_array=ids[:1], json_response_array=[answer("A")])
    assert _reasons(refused.value) == {"AssetAlreadyAssigned"}
    assert "assigned to someone else" in str(refused.value)
    # the admin, who could assign themselves, is told so
    with pytest.raises(BulkOperationError) as refused:
        await kili.append_labels(asset_id_array=ids[:1], json_response_array=[answer("A")])
    assert _reasons(refused.value) == {"NotAssignedWithAssignAction"}
    assert "assign_assets_to_labelers" in str(refused.value)
    assert await kili.count_labels(project_id) == 0  # nothing written

    # the assignee labels it; an asset assigned to nobody is anyone's
    await ann.append_labels(asset_id_array=ids[:1], json_response_array=[answer("A")])
    await bob.append_labels(asset_id_array=ids[1:], json_response_array=[answer("B")])
    # written for the assignee by the admin: allowed (the author is assigned)
    await kili.append_labels(
        asset_id_array=ids[:1], json_response_array=[answer("B")], author_id_array=[ann_id]
    )
    assert await kili.count_labels(project_id) == 3


async def test_a_labeler_with_a_label_in_progress_stays_assigned(
    kili: aiokili.AsyncKili, kili_user: UserFactory
) -> None:
    project_id, ids = await _setup(kili, 2)
    ann, ann_id = await _member(kili_user, project_id, "LABELER")
    _, bob_id = await _member(kili_user, project_id, "LABELER")
    await kili.assign_assets_to_labelers([[ann_id], [ann_id]], asset_ids=ids)
    await ann.append_labels(  # saved, not submitted
        asset_id_array=ids[:1], json_response_array=[answer("A")], label_type="AUTOSAVE"
    )
    outcome = await kili.assign_assets_to_labelers([[bob_id], [bob_id]], asset_ids=ids)
    assert [x.asset_id for x in outcome.declined] == ids[:1]
    assert [x.asset_id for x in outcome.succeeded] == ids[1:]
    ann_email = (await ann.get_current_user()).email
    kept = await kili.assets(project_id, assignee_in=[ann_email], fields=["id"])
    assert [a.id for a in kept] == ids[:1]  # ann kept (bob added), the other asset is bob's
    await ann.append_labels(asset_id_array=ids[:1], json_response_array=[answer("A")])


async def test_assignees_must_be_members_and_ids(
    kili: aiokili.AsyncKili, kili_user: UserFactory
) -> None:
    _, ids = await _setup(kili, 2)
    other_project = await new_project(kili)
    _, stranger_id = await _member(kili_user, other_project, "LABELER")
    with pytest.raises(BulkOperationError) as refused:
        await kili.assign_assets_to_labelers([[stranger_id]] * 2, asset_ids=ids)
    error = refused.value.failures[0].error
    assert isinstance(error, InvalidRequestError)
    assert "not members" in str(error) and "append_to_roles" in str(error)
    assert [f.index for f in refused.value.failures] == [0, 1]

    with pytest.raises(KiliInputError, match=r"to_be_labeled_by_array\[0\]\[0\].*an email"):
        await kili.assign_assets_to_labelers([["ann@example.com"]], asset_ids=ids[:1])
    with pytest.raises(KiliInputError, match="one entry per item"):
        await kili.assign_assets_to_labelers([[stranger_id]], asset_ids=ids)
    with pytest.raises(NotFoundError, match="missing"):
        await kili.assign_assets_to_labelers([[], []], asset_ids=[ids[0], "missing"])


async def test_assignments_of_many_lists_go_in_chunks_and_report_each_failure(
    kili: aiokili.AsyncKili, kili_user: UserFactory
) -> None:
    project_id, ids = await _setup(kili, 230)
    members = [await _member(kili_user, project_id, "LABELER") for _ in range(3)]
    _, stranger_id = await _member(kili_user, await new_project(kili), "LABELER")
    lists = [[members[i % 3][1]] for i in range(230)]
    lists[7] = [stranger_id]  # not a member: its chunk fails, the others are applied
    with pytest.raises(BulkOperationError) as failed:
        await kili.assign_assets_to_labelers(lists, asset_ids=ids)
    failed_indexes = {f.index for f in failed.value.failures}
    assert 7 in failed_indexes and len(failed_indexes) < 230
    applied = {x.asset_id for o in failed.value.succeeded for x in o.succeeded}
    assert applied == {ids[i] for i in range(230) if i not in failed_indexes}
    assert {f.key for f in failed.value.failures} == {ids[i] for i in failed_indexes}


async def test_a_lost_answer_is_sent_again_once(
    kili: aiokili.AsyncKili, kili_user: UserFactory, local_server: LocalServer
) -> None:
    project_id, ids = await _setup(kili, 150)
    _, ann_id = await _member(kili_user, project_id, "LABELER")
    for operation, call in (
        ("AssignAssets", lambda k: k.assign_assets_to_labelers([[ann_id]] * 150, asset_ids=ids)),
        ("SetAssetsPriority", lambda k: k.set_assets_priority(4, asset_ids=ids)),
    ):
        transport = LoseAnswers(operation, nth={1})
        async with httpx.AsyncClient(transport=transport) as http, aiokili.AsyncKili(
            api_key=local_server.api_key, api_endpoint=local_server.url, http_client=http
        ) as lossy:  # fmt: skip
            outcome = await call(lossy)
        assert transport.lost == 1
        assert [x.asset_id for x in outcome.succeeded] == ids, operation
    assets = await kili.assets(project_id, fields=["id", "priority"])
    assert {a.priority for a in assets} == {4}


# ---------------------------------------------------------------- priority


async def test_priority_orders_a_labelers_queue(
    kili: aiokili.AsyncKili, kili_user: UserFactory
) -> None:
    project_id, ids = await _setup(kili, 45)  # pages of 20 (kili_client_options)
    high, low = ids[30:40], ids[5:10]
    assert [
        x.asset_id for x in (await kili.set_assets_priority(5, asset_ids=high)).succeeded
    ] == high
    await kili.set_assets_priority(-1, asset_ids=low)
    await kili.set_assets_priority(2, external_ids=["img-0044"], project_id=project_id)
    labeler, _ = await _member(kili_user, project_id, "LABELER")
    queue = [a.id for a in await labeler.assets(project_id, fields=["id"])]
    rest = [i for i in ids if i not in {*high, *low, ids[44]}]
    assert queue == [*high, ids[44], *rest, *low]
    # the others list in import order, and read the priorities
    listed = await kili.assets(project_id, fields=["id", "priority"])
    assert [a.id for a in listed] == ids
    assert [a.priority for a in listed if a.id in high] == [5] * 10


async def test_priority_is_declined_for_assets_not_waiting_for_work(
    kili: aiokili.AsyncKili,
) -> None:
    project_id, ids = await _setup(kili, 3)
    await kili.append_labels(asset_id_array=ids[:1], json_response_array=[answer("A")])
    await kili.skip_or_unskip("skip", ids[1], project_id, reason="blurry")
    outcome = await kili.set_assets_priority(3, asset_ids=ids)
    assert [x.asset_id for x in outcome.declined] == ids[:2]  # done, skipped
    assert [x.asset_id for x in outcome.succeeded] == ids[2:]
    got = {a.id: a.priority for a in await kili.assets(project_id, fields=["id", "priority"])}
    assert got == {ids[0]: 0, ids[1]: 0, ids[2]: 3}
    for bad in (1.5, True, 2**31, "3"):
        with pytest.raises(KiliInputError, match="priority must be an integer"):
            await kili.set_assets_priority(bad, asset_ids=ids)  # type: ignore[arg-type]


# ---------------------------------------------------------------- metadata


async def test_add_metadata_merges_and_set_metadata_replaces(kili: aiokili.AsyncKili) -> None:
    project_id, ids = await _setup(kili, 2)  # metadata {"split": ..., "n": i}
    await kili.update_properties_in_assets(
        asset_ids=ids[:1], json_metadatas=[{"n": 0, "text": "shown", "url": "https://x"}]
    )
    updated = await kili.add_metadata([{"k": 1}, {"n": 9}], project_id, asset_ids=ids[::-1])
    assert [u.id for u in updated] == ids[::-1]  # each dict to the asset at its position

    async def metadata() -> list[dict[str, Any]]:
        return [a.json_metadata for a in await kili.assets(project_id, fields=["jsonMetadata"])]

    assert await metadata() == [
        {"n": 9, "text": "shown", "url": "https://x"},
        {"split": "train", "n": 1, "k": 1},
    ]
    await kili.set_metadata(
        [{"only": True}, {"new": "x"}], project_id, external_ids=["img-0000", "img-0001"]
    )
    assert await metadata() == [
        {"text": "shown", "url": "https://x", "only": True},  # the keys Kili reads are kept
        {"new": "x"},
    ]


async def test_metadata_calls_check_their_arguments_first(kili: aiokili.AsyncKili) -> None:
    project_id, ids = await _setup(kili, 2)
    with pytest.raises(KiliInputError, match="json_metadata has 1, asset_ids has 2"):
        await kili.add_metadata([{"k": 1}], project_id, asset_ids=ids)
    with pytest.raises(KiliInputError, match=r"json_metadata\[0\] is not JSON-serializable"):
        await kili.set_metadata([{"k": object()}], project_id, asset_ids=ids[:1])
    with pytest.raises(NotFoundError, match="'nope'"):
        await kili.add_metadata([{"k": 1}, {"k": 2}], project_id, asset_ids=[ids[0], "nope"])
    with pytest.warns(UserWarning, match="json_metadata is empty"):
        assert await kili.add_metadata([], project_id, asset_ids=[]) == []
    listed = await kili.assets(project_id, fields=["jsonMetadata"])
    assert all("k" not in a.json_metadata for a in listed)  # nothing written


# ---------------------------------------------------------------- skips


async def test_skip_takes_an_asset_out_of_the_queue_and_unskip_puts_it_back(
    kili: aiokili.AsyncKili,
) -> None:
    project_id, ids = await _setup(kili, 2)
    await kili.append_labels(asset_id_array=ids[1:], json_response_array=[answer("A")])
    for asset_id in ids:
        assert (
            await kili.skip_or_unskip("skip", asset_id, project_id, reason="unreadable") == asset_id
        )
    skipped = await kili.assets(project_id, skipped=True, fields=["id", "currentStep.status"])
    assert [a.id for a in skipped] == ids
    assert {f"{a.current_step.status}" for a in skipped if a.current_step} == {"SKIPPED"}
    for asset_id in ids:
        assert await kili.skip_or_unskip("unskip", asset_id, project_id) == asset_id
    back = await kili.assets(project_id, fields=["id", "skipped", "status", "currentStep.status"])
    assert [(a.skipped, f"{a.status}") for a in back] == [(False, "TODO"), (False, "LABELED")]
    assert [f"{a.current_step.status}" for a in back if a.current_step] == ["TO_DO", "DONE"]
    with pytest.raises(KiliInputError, match="give reason="):
        await kili.skip_or_unskip("skip", ids[0], project_id)
    with pytest.raises(KiliInputError, match='action must be "skip" or "unskip"'):
        await kili.skip_or_unskip("hide", ids[0], project_id)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        await kili.skip_or_unskip("skip", "missing", project_id, reason="x")


async def test_who_cannot_skip(kili: aiokili.AsyncKili, kili_user: UserFactory) -> None:
    project_id, ids = await _setup(kili, 2)
    ann, ann_id = await _member(kili_user, project_id, "LABELER")
    bob, _ = await _member(kili_user, project_id, "LABELER")
    await kili.assign_assets_to_labelers([[ann_id]], asset_ids=ids[:1])
    with pytest.raises(PermissionDeniedError, match="assigned to someone else"):
        await bob.skip_or_unskip("skip", ids[0], project_id, reason="not mine")
    assert await ann.skip_or_unskip("skip", ids[0], project_id, reason="mine") == ids[0]
    await _enable_consensus(kili, project_id)
    await kili.update_asset_consensus(project_id, True, asset_id=ids[1])
    with pytest.raises(InvalidRequestError, match="used for consensus and cannot be skipped"):
        await bob.skip_or_unskip("skip", ids[1], project_id, reason="hard")


# ---------------------------------------------------------------- consensus


async def _enable_consensus(kili: aiokili.AsyncKili, project_id: str) -> None:
    await kili.update_properties_in_project(
        project_id, consensus_tot_coverage=50, min_consensus_size=2
    )


async def test_consensus_use_drives_the_consensus_marks(
    kili: aiokili.AsyncKili, kili_user: UserFactory
) -> None:
    project_id, ids = await _setup(kili, 2)
    await _enable_consensus(kili, project_id)
    assert await kili.update_asset_consensus(project_id, True, asset_id=ids[0]) is True
    assert await kili.update_asset_consensus(project_id, False, external_id="img-0001") is False
    got = await kili.assets(project_id, fields=["id", "isUsedForConsensus"])
    assert [a.is_used_for_consensus for a in got] == [True, False]
    ann, _ = await _member(kili_user, project_id, "LABELER")
    bob, _ = await _member(kili_user, project_id, "LABELER")
    for client, category in ((ann, "A"), (bob, "B")):
        await client.append_labels(asset_id_array=ids, json_response_array=[answer(category)] * 2)
    marks = {
        a.id: a.consensus_mark
        for a in await kili.assets(project_id, fields=["id", "consensusMark"])
    }
    assert marks == {ids[0]: 0.0, ids[1]: None}  # taken out of consensus: no mark
    labels = await kili.labels(project_id, fields=["labelOf.id", "consensusMark"])
    assert {lb.consensus_mark for lb in labels if lb.label_of and lb.label_of.id == ids[1]} == {
        None
    }


async def test_consensus_can_change_only_under_the_platforms_conditions(
    kili: aiokili.AsyncKili, kili_user: UserFactory, local_server: LocalServer
) -> None:
    project_id, ids = await _setup(kili, 3)
    with pytest.raises(InvalidRequestError, match=r"Consensus is not enabled.*min_consensus_size"):
        await kili.update_asset_consensus(project_id, True, asset_id=ids[0])
    await _enable_consensus(kili, project_id)
    ann, _ = await _member(kili_user, project_id, "LABELER")
    await ann.append_labels(asset_id_array=ids[:1], json_response_array=[answer("A")])
    await ann.append_labels(
        asset_id_array=ids[1:2], json_response_array=[answer("A")], label_type="AUTOSAVE"
    )
    with pytest.raises(InvalidRequestError, match=r"at step Labeling \(DONE\).*TO_DO"):
        await kili.update_asset_consensus(project_id, True, asset_id=ids[0])
    with pytest.raises(InvalidRequestError, match=r"\(TO_DO\) and started"):
        await kili.update_asset_consensus(project_id, True, asset_id=ids[1])
    with pytest.raises(PermissionDeniedError, match="TEAM_MANAGER or above"):
        await ann.update_asset_consensus(project_id, True, asset_id=ids[2])
    manager, _ = await _member(kili_user, project_id, "TEAM_MANAGER")
    assert await manager.update_asset_consensus(project_id, True, asset_id=ids[2]) is True
    with pytest.raises(InvalidRequestError, match="two different assets"):
        await kili.update_asset_consensus(project_id, True, asset_id=ids[2], external_id="img-0000")
    with pytest.raises(KiliInputError, match="give asset_id, or external_id"):
        await kili.update_asset_consensus(project_id, True)

    legacy = await new_project(kili)
    with local_server.store.db.write() as c:  # an older database file's project: no steps
        c.execute("DELETE FROM project_steps WHERE project_id = ?", (legacy,))
    (asset,) = await import_images(kili, legacy, 1)
    with pytest.raises(InvalidRequestError, match=r"legacy workflow.*is_used_for_consensus_array"):
        await kili.update_asset_consensus(legacy, True, asset_id=asset)
