"""Asset mutations other than imports, and the workflow, against the real local server."""

from __future__ import annotations

import re
import warnings
from typing import Any

import anyio
import pytest
from support import answer, gql, import_images, new_project

import aiokili
from aiokili import BulkOperationError, KiliInputError, NotFoundError
from aiokili._generated.input_types import AssetData, AssetWhere
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio


async def _setup(kili: aiokili.AsyncKili, n: int = 3) -> tuple[str, list[str]]:
    project_id = await new_project(kili)
    return project_id, await import_images(kili, project_id, n)


async def _assets(kili: aiokili.AsyncKili, project_id: str) -> dict[str, aiokili.Asset]:
    return {a.id: a for a in await kili.assets(project_id)}


async def test_update_properties_by_ids_and_none_skips(kili: aiokili.AsyncKili) -> None:
    project_id, ids = await _setup(kili, 2)
    with pytest.warns(DeprecationWarning, match="priorities"):
        updated = await kili.update_properties_in_assets(
            asset_ids=ids,
            json_metadatas=[{"k": 1}, None],
            consensus_marks=[0.5, None],
            honeypot_marks=[None, 0.25],
            priorities=[3, None],
            is_honeypot_array=[True, None],
            contents=[None, "https://images.example/new.jpg"],
            resolution_array=[{"width": 640, "height": 480}, None],
        )
    assert [u.id for u in updated] == ids
    assert [u.external_id for u in updated] == ["img-0000", "img-0001"]
    got = await _assets(kili, project_id)
    first, second = got[ids[0]], got[ids[1]]
    assert first.json_metadata == {"k": 1}
    assert second.json_metadata == {"split": "train", "n": 1}  # None: left as it was
    assert (first.consensus_mark, second.consensus_mark) == (0.5, None)
    assert (first.honeypot_mark, second.honeypot_mark) == (None, 0.25)
    assert (first.priority, second.priority) == (3, 0)
    assert (first.is_honeypot, second.is_honeypot) == (True, False)
    assert second.content == "https://images.example/new.jpg"
    assert first.resolution is not None and first.resolution.width == 640
    assert second.resolution is None


async def _legacy(kili: aiokili.AsyncKili, server: LocalServer, n: int) -> tuple[str, list[str]]:
    """A project of the legacy (V1) workflow, as older database files have: no steps."""
    project_id = await new_project(kili)
    with server.store.db.write() as c:
        c.execute("DELETE FROM project_steps WHERE project_id = ?", (project_id,))
    return project_id, await import_images(kili, project_id, n)


async def test_update_by_external_ids_metadata_text_and_pages(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id, ids = await _legacy(kili, local_server, 2)  # isUsedForConsensus: legacy only
    updated = await kili.update_properties_in_assets(
        external_ids=["img-0001"],
        project_id=project_id,
        json_metadatas=['{"from": "text"}'],
        is_used_for_consensus_array=[True],
        page_resolutions_array=[
            [
                {"pageNumber": 2, "width": 10, "height": 20},
                {"page_number": 1, "width": 1, "height": 2},
            ]
        ],
    )
    assert [u.id for u in updated] == [ids[1]]
    body = await kili.execute(
        "query($w: AssetWhere!) { assets(where: $w, first: 10, skip: 0) "
        "{ id jsonMetadata isUsedForConsensus pageResolutions { pageNumber width } } }",
        {"w": {"id": ids[1]}},
    )
    (asset,) = body["assets"]  # type: ignore[misc]
    assert asset["jsonMetadata"] == '{"from": "text"}'
    assert asset["isUsedForConsensus"] is True
    assert [p["pageNumber"] for p in asset["pageResolutions"]] == [1, 2]
    listed = await kili.assets(project_id)
    assert [a.is_used_for_consensus for a in listed] == [False, True]


async def test_to_be_labeled_by_sets_and_resets_assignees(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    _, ids = await _setup(kili, 2)
    me = await kili.verify()
    with pytest.warns(DeprecationWarning, match="to_be_labeled_by_array"):
        await kili.update_properties_in_assets(
            asset_ids=ids, to_be_labeled_by_array=[[me.email], None]
        )

    def assignees() -> dict[str, list[str]]:
        with local_server.store.db.read() as c:
            rows = c.execute("SELECT asset_id, user_id FROM asset_assignees").fetchall()
        return {i: [u for a, u in rows if a == i] for i in ids}

    assert assignees() == {ids[0]: [me.id], ids[1]: []}
    with pytest.warns(DeprecationWarning):
        await kili.update_properties_in_assets(asset_ids=ids[:1], to_be_labeled_by_array=[[]])
    assert assignees()[ids[0]] == []
    with pytest.warns(DeprecationWarning), pytest.raises(BulkOperationError) as err:
        await kili.update_properties_in_assets(
            asset_ids=ids[:1], to_be_labeled_by_array=[["nobody@example.com"]]
        )
    assert "nobody@example.com" in str(err.value.failures[0].error)


async def test_status_array_is_ignored_with_a_warning(kili: aiokili.AsyncKili) -> None:
    project_id, ids = await _setup(kili, 1)
    with pytest.warns(DeprecationWarning, match="status_array"):
        await kili.update_properties_in_assets(asset_ids=ids, status_array=["LABELED"])
    assert (await _assets(kili, project_id))[ids[0]].status == aiokili.Status.TODO


async def test_both_asset_ids_and_external_ids(kili: aiokili.AsyncKili) -> None:
    with pytest.warns(DeprecationWarning, match="change_asset_external_ids"):
        with pytest.raises(KiliInputError, match="either `asset_ids` or `external_ids`"):
            await kili.update_properties_in_assets(asset_ids=["a"], external_ids=["b"])
    with pytest.raises(KiliInputError, match="asset_ids"):
        await kili.send_back_to_queue(asset_ids=["a"], external_ids=["b"], project_id="p")


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"asset_ids": "abc"}, "asset_ids"),
        ({"asset_ids": ["a", 1]}, r"asset_ids\[1\]"),
        ({"asset_ids": ["a", "a"]}, "asset_ids"),
        ({"asset_ids": [""]}, r"asset_ids\[0\]"),
        ({"external_ids": ["x"]}, "project_id"),
        ({}, "asset_ids"),
        ({"asset_ids": ["a", "b"], "consensus_marks": [0.1]}, "consensus_marks has 1"),
        ({"asset_ids": ["a"], "consensus_marks": [1.5]}, r"consensus_marks\[0\]"),
        ({"asset_ids": ["a"], "honeypot_marks": ["x"]}, r"honeypot_marks\[0\]"),
        ({"asset_ids": ["a"], "priorities": [True]}, r"priorities\[0\]"),
        ({"asset_ids": ["a"], "json_metadatas": ["not json"]}, r"json_metadatas\[0\]"),
        ({"asset_ids": ["a"], "json_metadatas": [3]}, r"json_metadatas\[0\]"),
        ({"asset_ids": ["a"], "is_honeypot_array": [1]}, r"is_honeypot_array\[0\]"),
        ({"asset_ids": ["a"], "to_be_labeled_by_array": ["me@x"]}, r"to_be_labeled_by_array\[0\]"),
        ({"asset_ids": ["a"], "resolution_array": [{"width": 1}]}, r"resolution_array\[0\]"),
        (
            {"asset_ids": ["a"], "page_resolutions_array": [[{"width": 1, "height": 1}]]},
            r"page_resolutions_array\[0\]\[0\]",
        ),
    ],
)
async def test_bad_update_input_names_the_argument(
    kili: aiokili.AsyncKili, kwargs: dict[str, Any], named: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(KiliInputError, match=named):
            await kili.update_properties_in_assets(**kwargs)


async def test_empty_lists_warn_and_send_nothing(kili: aiokili.AsyncKili) -> None:
    with pytest.warns(UserWarning, match="asset_ids is empty"):
        assert await kili.update_properties_in_assets(asset_ids=[]) == []
    with pytest.warns(UserWarning, match="new_external_ids is empty"):
        assert await kili.change_asset_external_ids(new_external_ids=[], asset_ids=[]) == []
    with pytest.warns(UserWarning, match="external_ids is empty"):
        outcome = await kili.delete_many_from_dataset(external_ids=[], project_id="p")
    assert (outcome.succeeded, outcome.declined, outcome.failed) == ([], [], [])


async def test_unknown_ids_raise_before_any_change(kili: aiokili.AsyncKili) -> None:
    project_id, ids = await _setup(kili, 2)
    with pytest.raises(NotFoundError, match="missing-one"):
        await kili.update_properties_in_assets(
            asset_ids=[ids[0], "missing-one"], consensus_marks=[0.9, 0.9]
        )
    assert (await _assets(kili, project_id))[ids[0]].consensus_mark is None
    with pytest.raises(NotFoundError, match="nope"):
        await kili.delete_many_from_dataset(
            external_ids=["img-0000", "nope"], project_id=project_id
        )
    assert await kili.count_assets(project_id) == 2
    other = await new_project(kili)
    with pytest.raises(NotFoundError, match=other):
        await kili.add_to_review(asset_ids=ids, project_id=other)


async def test_change_asset_external_ids(kili: aiokili.AsyncKili) -> None:
    project_id, ids = await _setup(kili, 3)
    updated = await kili.change_asset_external_ids(
        new_external_ids=["one", "two"], asset_ids=ids[:2]
    )
    assert [(u.id, u.external_id) for u in updated] == [(ids[0], "one"), (ids[1], "two")]
    again = await kili.change_asset_external_ids(
        new_external_ids=["uno"], external_ids=["one"], project_id=project_id
    )
    assert again[0].id == ids[0]
    # a swap within one call is fine
    await kili.change_asset_external_ids(new_external_ids=["two", "uno"], asset_ids=ids[:2])
    got = await _assets(kili, project_id)
    assert [got[i].external_id for i in ids] == ["two", "uno", "img-0002"]


async def test_external_id_clash_fails_only_that_asset(kili: aiokili.AsyncKili) -> None:
    project_id, ids = await _setup(kili, 3)
    with pytest.raises(BulkOperationError) as err:
        await kili.change_asset_external_ids(
            new_external_ids=["fresh", "img-0002"], asset_ids=ids[:2]
        )
    (failure,) = err.value.failures
    assert failure.index == 1 and failure.key == ids[1]
    assert "img-0002" in str(failure.error) and ids[2] in str(failure.error)
    assert [u.external_id for u in err.value.succeeded] == ["fresh"]
    got = await _assets(kili, project_id)
    assert [got[i].external_id for i in ids] == ["fresh", "img-0001", "img-0002"]
    with pytest.raises(KiliInputError, match=r"new_external_ids\[1\]"):
        await kili.change_asset_external_ids(new_external_ids=["a", "a"], asset_ids=ids[:2])
    with pytest.raises(KiliInputError, match="new_external_ids has 1"):
        await kili.change_asset_external_ids(new_external_ids=["a"], asset_ids=ids[:2])


async def test_server_refuses_a_clash_naming_it(kili: aiokili.AsyncKili) -> None:
    _, ids = await _setup(kili, 2)
    with pytest.raises(aiokili.InvalidRequestError, match="img-0001"):
        await kili.graphql.update_properties_in_assets(
            where=[AssetWhere(id=ids[0])],
            data=[AssetData(external_id="img-0001")],
        )


async def test_send_back_to_queue_workflow(kili: aiokili.AsyncKili) -> None:
    project_id, ids = await _setup(kili, 2)
    await kili.append_labels(asset_id_array=ids[:1], json_response_array=[answer("A")])
    outcome = await kili.send_back_to_queue(asset_ids=ids)
    assert [r.asset_id for r in outcome.succeeded] == ids[:1]
    assert [(r.asset_id, r.external_id) for r in outcome.declined] == [(ids[1], "img-0001")]
    assert outcome.failed == []
    got = await _assets(kili, project_id)
    back = got[ids[0]]
    assert back.status == aiokili.Status.ONGOING
    assert back.current_step is not None
    assert (back.current_step.name, back.current_step.status) == ("Labeling", "REWORK")
    assert back.skipped is False
    assert await kili.count_assets(project_id, status_in=["ONGOING"]) == 1
    labels = await kili.execute(
        "query($w: LabelWhere!) { labels(where: $w, first: 10, skip: 0) { isSentBackToQueue } }",
        {"w": {"asset": {"id": ids[0]}}},
    )
    assert labels["labels"] == [{"isSentBackToQueue": True}]
    # labelled again: out of the queue
    await kili.append_labels(asset_id_array=ids[:1], json_response_array=[answer("B")])
    again = (await _assets(kili, project_id))[ids[0]]
    assert again.status == aiokili.Status.LABELED
    assert again.current_step is not None and again.current_step.status == "DONE"


async def test_add_to_review_workflow(kili: aiokili.AsyncKili) -> None:
    project_id, ids = await _setup(kili, 3)
    await kili.append_labels(asset_id_array=ids[:2], json_response_array=[answer("A")] * 2)
    outcome = await kili.add_to_review(external_ids=["img-0000", "img-0002"], project_id=project_id)
    assert [r.external_id for r in outcome.succeeded] == ["img-0000"]
    assert [r.external_id for r in outcome.declined] == ["img-0002"]  # TODO: nothing to review
    got = await _assets(kili, project_id)
    assert got[ids[0]].status == aiokili.Status.TO_REVIEW
    step = got[ids[0]].current_step
    assert step is not None and (step.name, step.status) == ("Review", "TO_DO")
    assert got[ids[1]].status == aiokili.Status.LABELED
    assert got[ids[2]].status == aiokili.Status.TODO
    # already to review: in the state asked for
    repeat = await kili.add_to_review(asset_ids=ids[:1])
    assert [r.asset_id for r in repeat.succeeded] == ids[:1]
    back = await kili.send_back_to_queue(asset_ids=ids[:1])
    assert [r.asset_id for r in back.succeeded] == ids[:1]
    assert (await _assets(kili, project_id))[ids[0]].status == aiokili.Status.ONGOING
    ongoing = await kili.add_to_review(asset_ids=ids[:1])
    assert [r.asset_id for r in ongoing.declined] == ids[:1]


async def test_delete_cascades(
    kili: aiokili.AsyncKili, local_server: LocalServer, tmp_path: Any
) -> None:
    project_id = await new_project(kili)
    image = tmp_path / "x.png"
    image.write_bytes(b"\x89PNG fake")
    result = await kili.append_many_to_dataset(
        project_id, content_array=[str(image), "https://images.example/1.jpg"],
        external_id_array=["file", "url"],
    )  # fmt: skip
    ids = result["asset_ids"]
    await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 2)
    await kili.send_back_to_queue(asset_ids=ids[:1])
    assert await kili.count_labels(project_id) == 2
    with local_server.store.db.read() as c:
        files_before = c.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    outcome = await kili.delete_many_from_dataset(external_ids=["file"], project_id=project_id)
    assert [(r.asset_id, r.external_id) for r in outcome.succeeded] == [(ids[0], "file")]
    assert await kili.count_labels(project_id) == 1
    assert await kili.count_assets(project_id) == 1
    assert [a.id for a in await kili.assets(project_id)] == [ids[1]]
    with local_server.store.db.read() as c:
        assert c.execute("SELECT COUNT(*) FROM files").fetchone()[0] == files_before - 1
        assert (
            c.execute("SELECT COUNT(*) FROM labels WHERE asset_id = ?", ids[:1]).fetchone()[0] == 0
        )
    with local_server.store.db.read() as c:  # its send-back went with it
        assert not c.execute(
            "SELECT 1 FROM sent_back_assets WHERE asset_id = ?", ids[:1]
        ).fetchall()
    with pytest.raises(NotFoundError, match=ids[0]):
        await kili.delete_many_from_dataset(asset_ids=ids[:1])


async def test_delete_drops_issues_when_that_table_exists() -> None:
    # a server of its own: the issues table made here must not leak into the shared one
    with LocalServer() as server:
        async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
            _, ids = await _setup(kili, 2)
            db = server.store.db
            with db.write() as c:
                c.execute("CREATE TABLE IF NOT EXISTS issues (id TEXT PRIMARY KEY, asset_id TEXT)")
                c.executemany(
                    "INSERT INTO issues (id, asset_id) VALUES (?, ?)", [(f"i-{i}", i) for i in ids]
                )
            await kili.delete_many_from_dataset(asset_ids=ids[:1])
            with db.read() as c:
                left = [r[0] for r in c.execute("SELECT asset_id FROM issues")]
            assert left == ids[1:]


async def test_many_assets_in_chunks_keep_order(kili: aiokili.AsyncKili) -> None:
    project_id, ids = await _setup(kili, 230)
    await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * len(ids))
    updated = await kili.change_asset_external_ids(
        new_external_ids=[f"n-{i}" for i in range(len(ids))], asset_ids=ids
    )
    assert [u.id for u in updated] == ids
    outcome = await kili.add_to_review(asset_ids=ids)
    assert [r.asset_id for r in outcome.succeeded] == ids
    assert await kili.count_assets(project_id, status_in=["TO_REVIEW"]) == 230


async def test_failed_chunk_is_reported_and_the_rest_is_done(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id, ids = await _setup(kili, 150)
    await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * len(ids))
    # the second chunk's assets vanish between the check and the write
    real = kili._core.gql.send_assets_back_to_queue

    async def flaky(where: Any, **kw: Any) -> Any:
        if ids[100] in where.id_in:
            raise aiokili.InvalidRequestError.from_message("chunk refused", "BAD_USER_INPUT")
        return await real(where=where, **kw)

    kili._core.gql.send_assets_back_to_queue = flaky  # type: ignore[method-assign]
    try:
        with pytest.raises(BulkOperationError) as err:
            await kili.send_back_to_queue(asset_ids=ids)
    finally:
        del kili._core.gql.send_assets_back_to_queue
    assert [f.index for f in err.value.failures] == list(range(100, 150))
    assert all("chunk refused" in str(f.error) for f in err.value.failures)
    assert await kili.count_assets(project_id, status_in=["ONGOING"]) == 100


async def test_concurrent_calls(kili: aiokili.AsyncKili) -> None:
    project_id, ids = await _setup(kili, 40)
    await kili.append_labels(asset_id_array=ids[:20], json_response_array=[answer("A")] * 20)
    results: dict[str, Any] = {}

    async def review() -> None:
        results["review"] = await kili.add_to_review(asset_ids=ids[:10])

    async def back() -> None:
        results["back"] = await kili.send_back_to_queue(asset_ids=ids[10:20])

    async def marks() -> None:
        results["marks"] = await kili.update_properties_in_assets(
            asset_ids=ids[20:30], consensus_marks=[0.5] * 10
        )

    async def delete() -> None:
        results["delete"] = await kili.delete_many_from_dataset(asset_ids=ids[30:])

    async with anyio.create_task_group() as tg:
        for job in (review, back, marks, delete):
            tg.start_soon(job)
    assert len(results["review"].succeeded) == 10
    assert len(results["back"].succeeded) == 10
    assert len(results["marks"]) == 10
    assert len(results["delete"].succeeded) == 10
    assert await kili.count_assets(project_id) == 30
    assert await kili.count_assets(project_id, status_in=["TO_REVIEW"]) == 10
    assert await kili.count_assets(project_id, status_in=["ONGOING"]) == 10
    got = await _assets(kili, project_id)
    assert all(got[i].consensus_mark == 0.5 for i in ids[20:30])


ACTIONS = ["delete_many_from_dataset", "add_to_review", "send_back_to_queue"]


@pytest.mark.parametrize("method", ACTIONS)
@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"asset_ids": "abc"}, "asset_ids must be a list"),
        ({"asset_ids": [None]}, r"asset_ids\[0\]"),
        ({"asset_ids": ["a", "a"]}, "asset_ids names the same asset"),
        ({"external_ids": ["x"]}, "project_id"),
        ({"external_ids": ["x"], "project_id": 3}, "project_id"),
        ({"asset_ids": ["a"], "external_ids": ["x"]}, "asset_ids"),
        ({}, "asset_ids"),
    ],
)
async def test_bad_action_input_names_the_argument(
    kili: aiokili.AsyncKili, method: str, kwargs: dict[str, Any], named: str
) -> None:
    with pytest.raises(KiliInputError, match=named):
        await getattr(kili, method)(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"new_external_ids": "abc", "asset_ids": ["a"]}, "new_external_ids must be a list"),
        ({"new_external_ids": [1], "asset_ids": ["a"]}, r"new_external_ids\[0\]"),
        ({"new_external_ids": [" "], "asset_ids": ["a"]}, r"new_external_ids\[0\] is empty"),
        ({"new_external_ids": None, "asset_ids": ["a"]}, "new_external_ids"),
        ({"new_external_ids": ["x"], "external_ids": ["a"]}, "project_id"),
    ],
)
async def test_bad_rename_input_names_the_argument(
    kili: aiokili.AsyncKili, kwargs: dict[str, Any], named: str
) -> None:
    with pytest.raises(KiliInputError, match=named):
        await kili.change_asset_external_ids(**kwargs)


async def test_results_are_the_public_models(kili: aiokili.AsyncKili) -> None:
    _, ids = await _setup(kili, 1)
    updated = await kili.update_properties_in_assets(
        asset_ids=ids,
        page_resolutions_array=[[{"pageNumber": 1, "width": 1, "height": 2, "rotation": 90}]],
    )
    assert isinstance(updated[0], aiokili.UpdatedAsset)
    outcome = await kili.send_back_to_queue(asset_ids=ids)
    assert isinstance(outcome, aiokili.AssetActionOutcome)
    assert [r.asset_id for r in outcome.declined] == ids  # TODO: nothing to send back
    with pytest.raises(KiliInputError, match="rotation"):
        await kili.update_properties_in_assets(
            asset_ids=ids,
            page_resolutions_array=[[{"pageNumber": 1, "width": 1, "height": 2, "rotation": 45}]],
        )


UPDATE = "mutation($w: [AssetWhere!]!, $d: [AssetData!]!) { updatePropertiesInAssets(where: $w, data: $d) { id } }"


@pytest.mark.parametrize(
    ("where", "data", "message"),
    [
        ([{"id": "ASSET"}], [], "where has 1 items but data has 0"),
        ([{"idIn": ["ASSET"]}], [{}], r"where\[0\] must be \{id"),
        ([{"id": "ASSET"}, {"id": "ASSET"}], [{}, {}], "more than once"),
        ([{"id": "nope"}], [{"priority": 1}], "not found"),
        ([{"id": "ASSET"}], [{"jsonMetadata": "[1]"}], r"data\[0\].jsonMetadata"),
        ([{"id": "ASSET"}], [{"consensusMark": 2}], r"data\[0\].consensusMark"),
        ([{"id": "ASSET"}], [{"externalId": " "}], r"data\[0\].externalId is empty"),
        ([{"id": "ASSET"}], [{"resolution": {"width": 0, "height": 1}}], "width and height"),
    ],
)
async def test_server_update_errors_name_the_input(
    kili: aiokili.AsyncKili, local_server: LocalServer, where: Any, data: Any, message: str
) -> None:
    _, ids = await _setup(kili, 1)

    def real(v: Any) -> Any:  # unknown ids are NOT_FOUND before anything else is checked
        return ids[0] if v == "ASSET" else [real(x) for x in v] if isinstance(v, list) else v

    where = [{k: real(v) for k, v in w.items()} for w in where]
    body = await anyio.to_thread.run_sync(lambda: gql(local_server, UPDATE, w=where, d=data))
    (error,) = body["errors"]
    assert error["extensions"]["code"] in ("BAD_USER_INPUT", "NOT_FOUND")
    assert re.search(message, error["message"]), error["message"]


async def test_server_actions_need_ids(local_server: LocalServer) -> None:
    for name in ("deleteAssets", "addAssetsToReview", "sendAssetsBackToQueue"):
        doc = f"mutation {{ {name}(where: {{}}) {{ succeeded {{ assetId }} }} }}"
        body = await anyio.to_thread.run_sync(lambda doc=doc: gql(local_server, doc))
        (error,) = body["errors"]
        assert "where.idIn" in error["message"]  # what names the assets to act on
        assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_rename_onto_an_id_kept_by_a_failed_rename_fails_too(kili: aiokili.AsyncKili) -> None:
    project_id, ids = await _setup(kili, 4)
    with pytest.raises(BulkOperationError) as err:
        await kili.change_asset_external_ids(
            new_external_ids=["img-0001", "img-0002", "free"], asset_ids=[ids[0], ids[1], ids[3]]
        )
    assert [(f.index, f.key) for f in err.value.failures] == [(0, ids[0]), (1, ids[1])]
    assert [u.external_id for u in err.value.succeeded] == ["free"]
    got = await _assets(kili, project_id)
    assert [got[i].external_id for i in ids] == ["img-0000", "img-0001", "img-0002", "free"]
