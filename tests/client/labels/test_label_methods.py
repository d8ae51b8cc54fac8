"""Every label method against the local server: predictions, honeypots and marks, filters,
deprecated calls, updates and deletions."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from support import answer, gql, import_images, new_project

import aiokili
from aiokili.server import LocalServer
from aiokili.server.store.db import new_id

pytestmark = pytest.mark.anyio


def add_user(server: LocalServer, first: str, last: str) -> str:
    """A user of the server's organization."""
    with server.store.db.read() as c:
        org = c.execute("SELECT organization_id FROM users LIMIT 1").fetchone()[0]
    email = f"{first.lower()}.{new_id()}@example.test"
    return server.store.users.create_user(org, email, "USER", first, last).id


def data(server: LocalServer, query: str, **variables: Any) -> Any:
    body = gql(server, query, **variables)
    assert "errors" not in body, body
    return body["data"]["data"]


COUNT = "query($w: LabelWhere!) { data: countLabels(where: $w) }"


async def test_predictions_and_inferences(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 4)
    await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 4)
    result = await kili.create_predictions(
        project_id,
        external_id_array=["img-0000", "img-0001", "img-0002"],
        json_response_array=[answer("B")] * 3,
        model_name="m1",
    )
    assert result == {"id": project_id}
    await kili.append_labels(
        asset_id_array=ids[:2],
        json_response_array=[answer("A")] * 2,
        label_type="INFERENCE",
        model_name="m2",
    )

    predictions = await kili.predictions(project_id)
    assert [p.model_name for p in predictions] == ["m1"] * 3
    assert all(p.label_type == aiokili.LabelType.PREDICTION for p in predictions)
    assert predictions[0].json_response == answer("B")
    assert predictions[0].author is not None and predictions[0].author.email
    with pytest.raises(AttributeError, match="add 'createdAt' to fields="):
        _ = predictions[0].created_at  # not in the default fields (as in the SDK)
    assert len(await kili.predictions(project_id, fields=None)) == 3
    assert await kili.count_labels(project_id, type_in=["PREDICTION"]) == len(predictions)
    inferences = await kili.inferences(project_id, asset_id=ids[0])
    assert [(i.label_type, i.model_name) for i in inferences] == [
        (aiokili.LabelType.INFERENCE, "m2")
    ]
    assert len(await kili.inferences(project_id, as_generator=True, disable_tqdm=True)) == 2

    # overwrite replaces the same model's predictions on the targeted assets only
    await kili.create_predictions(
        project_id, asset_id_array=ids[:1], json_response_array=[answer("A")], model_name="m1",
        overwrite=True,
    )  # fmt: skip
    await kili.create_predictions(
        project_id, asset_id_array=ids[:1], json_response_array=[answer("A")], model_name="m3"
    )
    on_first = await kili.predictions(project_id, asset_id=ids[0])
    assert sorted((p.model_name or "", str(p.json_response)) for p in on_first) == [
        ("m1", str(answer("A"))),
        ("m3", str(answer("A"))),
    ]
    assert await kili.count_labels(project_id, type_in=["PREDICTION"]) == 4
    assert await kili.count_labels(project_id, type_in=["DEFAULT"]) == 4  # untouched


async def test_create_predictions_bad_inputs(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 2)
    with pytest.raises(aiokili.KiliInputError, match="json_response_array"):
        await kili.create_predictions(project_id, asset_id_array=ids, json_response_array=[])
    with pytest.raises(aiokili.KiliInputError, match="model_name"):
        await kili.create_predictions(
            project_id, asset_id_array=ids, json_response_array=[answer("A")] * 2
        )
    with pytest.raises(aiokili.KiliInputError, match="model_name_array"):
        await kili.create_predictions(
            project_id, asset_id_array=ids, json_response_array=[answer("A")] * 2,
            model_name_array=["x", "y"],
        )  # fmt: skip
    with pytest.raises(aiokili.KiliInputError, match="asset_id_array"):
        await kili.create_predictions(
            project_id, asset_id_array=ids, json_response_array=[answer("A")], model_name="m"
        )
    with pytest.raises(aiokili.KiliInputError, match="asset_id_array or external_id_array"):
        await kili.create_predictions(project_id, json_response_array=[answer("A")], model_name="m")
    with pytest.raises(aiokili.KiliInputError, match="json_response_array\\[0\\]"):
        await kili.create_predictions(
            project_id,
            asset_id_array=ids[:1],
            json_response_array=["{}"],
            model_name="m",  # type: ignore[list-item]
        )
    with pytest.warns(DeprecationWarning, match="model_name_array"):
        await kili.create_predictions(
            project_id, asset_id_array=ids, json_response_array=[answer("A")] * 2,
            model_name_array=["old", "old"],
        )  # fmt: skip
    assert [p.model_name for p in await kili.predictions(project_id)] == ["old", "old"]
    with pytest.raises(aiokili.KiliInputError, match="type_in"):
        kili.predictions(project_id, type_in=["DEFAULT"])  # type: ignore[call-arg]
    with pytest.raises(aiokili.KiliInputError, match="asset_external_id_strictly_in"):
        kili.inferences(project_id, asset_external_id_strictly_in=["x"])  # type: ignore[call-arg]


async def test_honeypot_and_consensus_marks(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    bob = add_user(local_server, "Bob", "Builder")
    carla = add_user(local_server, "Carla", "Cruz")
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 3)
    honeypot = await kili.create_honeypot(
        answer("A"), asset_external_id="img-0000", project_id=project_id
    )
    assert honeypot.label_type == aiokili.LabelType.REVIEW and honeypot.asset_id == ids[0]
    assert await kili.count_assets(project_id, status_in=["TODO"]) == 3  # still to label
    labelled = await kili.append_labels(
        asset_id_array=[ids[0], ids[0], ids[1], ids[1], ids[1]],
        json_response_array=[answer("A"), answer("B"), answer("A"), answer("A"), answer("B")],
        author_id_array=[local_server_admin(local_server), bob, local_server_admin(local_server),
                         bob, carla],
    )  # fmt: skip
    marks = {
        lb.id: (lb.honeypot_mark, lb.consensus_mark)
        for lb in await kili.labels(project_id, fields=["id", "honeypotMark", "consensusMark"])
    }
    assert marks[labelled[0]][0] == 1.0 and marks[labelled[1]][0] == 0.0
    assert marks[labelled[0]][1] == 0.0  # admin (A) vs bob (B) on the honeypot asset
    assert marks[labelled[2]] == (None, 0.5)  # A vs bob's A and carla's B
    assert marks[labelled[4]] == (None, 0.0)
    assert marks[honeypot.id] == (None, None)  # the reference answer itself
    assert await kili.count_labels(project_id, honeypot_mark_gte=0.5) == 1
    assert await kili.count_labels(project_id, honeypot_mark_lte=0.5) == 1
    assert await kili.count_labels(project_id, honeypot_mark_gte=0.0, honeypot_mark_lte=1) == 2
    where = {"project": {"id": project_id}, "consensusMarkGte": 0.4, "consensusMarkLte": 0.6}
    assert data(local_server, COUNT, w=where) == 2  # admin's and bob's A on asset 1
    count_assets = "query($w: AssetWhere!) { data: countAssets(where: $w) }"
    label_marked = {"project": {"id": project_id}, "label": {"honeypotMarkGte": 0.9}}
    assert data(local_server, count_assets, w=label_marked) == 1  # the honeypot asset
    label_marked = {"project": {"id": project_id}, "label": {"consensusMarkLte": 0.1}}
    assert data(local_server, count_assets, w=label_marked) == 2
    assets = await kili.assets(project_id, fields=["id", "isHoneypot"])
    assert [a.is_honeypot for a in assets] == [True, False, False]
    with local_server.store.db.read() as c:
        stored = dict(
            (r[0], (r[1], r[2])) for r in c.execute("SELECT * FROM asset_marks").fetchall()
        )
    assert stored[ids[0]] == (0.0, 0.5)  # one pair in disagreement; mean of 1.0 and 0.0
    assert stored[ids[1]][0] == pytest.approx(1 / 3) and stored[ids[1]][1] is None
    assert ids[2] not in stored

    # a new label by an author replaces theirs in the asset's marks
    await kili.append_labels(asset_id_array=[ids[0]], json_response_array=[answer("A")],
                             author_id_array=[bob])  # fmt: skip
    with local_server.store.db.read() as c:
        row = c.execute("SELECT * FROM asset_marks WHERE asset_id = ?", (ids[0],)).fetchone()
    assert row[1:] == (1.0, 1.0)


def local_server_admin(server: LocalServer) -> str:
    with server.store.db.read() as c:
        return str(c.execute("SELECT id FROM users ORDER BY created_at LIMIT 1").fetchone()[0])


async def test_create_honeypot_bad_inputs(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    await import_images(kili, project_id, 1)
    with pytest.raises(aiokili.KiliInputError, match="asset_external_id and project_id"):
        await kili.create_honeypot(answer("A"), asset_external_id="img-0000")
    with pytest.raises(aiokili.KiliInputError, match="'nope'"):
        await kili.create_honeypot(answer("A"), asset_external_id="nope", project_id=project_id)
    with pytest.raises(aiokili.KiliInputError, match="json_response"):
        await kili.create_honeypot("{}", asset_id="x")  # type: ignore[arg-type]
    with pytest.raises(aiokili.NotFoundError, match="missing-asset"):
        await kili.create_honeypot(answer("A"), asset_id="missing-asset")


async def test_label_filters(kili: aiokili.AsyncKili, local_server: LocalServer) -> None:
    dora = add_user(local_server, "Dora", "Explorer")
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 4)
    mine = await kili.append_labels(asset_id_array=ids[:2], json_response_array=[answer("A")] * 2)
    hers = await kili.append_labels(
        asset_id_array=ids[2:], json_response_array=[answer("B")] * 2, author_id_array=[dora] * 2,
        label_type="REVIEW",
    )  # fmt: skip
    count = kili.count_labels
    assert await count(project_id, author_in=["Dora"]) == 2
    assert await count(project_id, author_in=["Explorer"]) == 2
    assert await count(project_id, author_in=["Dora Explorer", "Ada"]) == 4
    assert await count(project_id, author_in=["Nobody"]) == 0
    assert await count(project_id, user_id=dora) == 2
    today = datetime.now(timezone.utc).date()
    assert await count(project_id, created_at=today.isoformat()) == 4
    assert await count(project_id, created_at=(today - timedelta(days=1)).isoformat()) == 0
    assert await count(project_id, created_at_gte=(today + timedelta(days=1)).isoformat()) == 0
    assert await count(project_id, created_at_lte=(today - timedelta(days=1)).isoformat()) == 0
    assert await count(project_id, created_at_gte=today.isoformat(),
                       created_at_lte=today.isoformat()) == 4  # fmt: skip
    assert await count(project_id, id_contains=[mine[0], hers[1]]) == 2
    assert await count(project_id, id_contains=[]) == 4  # empty: no filtering, as in the SDK
    assert await count(project_id, label_id=mine[1]) == 1
    assert await count(project_id, asset_id=ids[3]) == 1
    assert await count(project_id, asset_status_in=["REVIEWED"]) == 2
    assert await count(project_id, asset_external_id_in=["0001", "0002"]) == 2
    assert await count(project_id, asset_external_id_strictly_in=["img-0001"]) == 1
    assert await count(project_id, type_in=["REVIEW"], category_search="JOB.B.count > 0") == 2
    listed = await kili.labels(project_id, author_in=["Dora"], first=1, skip=1)
    assert [lb.id for lb in listed] == hers[1:]
    where = {"project": {"id": project_id}}
    assert data(local_server, COUNT, w={**where, "reviewerIn": ["Dora"]}) == 2
    assert data(local_server, COUNT, w={**where, "labelerIn": ["Dora"]}) == 0
    assert data(local_server, COUNT, w={**where, "labelerIn": ["Ada Admin"]}) == 2
    assert data(local_server, COUNT, w={**where, "user": {"idIn": [dora]}}) == 2
    org = local_server.store.users.by_ids([dora])[dora].organization_id
    assert data(local_server, COUNT, w={**where, "user": {"organization": {"id": org}}}) == 4
    assert data(local_server, COUNT, w={**where, "user": {"organization": {"id": "x"}}}) == 0
    assert data(local_server, COUNT, w={**where, "user": {"activated": False}}) == 0
    assert data(local_server, COUNT, w={**where, "idIn": mine}) == 2
    asset_where = {**where, "asset": {"externalIdStrictlyIn": ["img-0000"]}}
    assert data(local_server, COUNT, w=asset_where) == 1
    with pytest.raises(aiokili.KiliInputError, match="author_in"):
        await count(project_id, author_in="Dora")  # type: ignore[typeddict-item]
    with pytest.raises(aiokili.KiliInputError, match="honeypot_mark_gte"):
        await count(project_id, honeypot_mark_gte="high")  # type: ignore[typeddict-item]
    with pytest.raises(aiokili.KiliInputError, match="category_search"):
        kili.labels(project_id, category_search="JOB.A.count >")
    with pytest.raises(aiokili.KiliInputError, match="category_search"):
        await count(project_id, category_search="JOB.A.count > 0 AND")
    with pytest.raises(aiokili.KiliInputError, match="category_search"):
        kili.predictions(project_id, category_search="(JOB.A.count > 0")
    with pytest.raises(aiokili.KiliInputError, match="output_format"):
        kili.labels(project_id, output_format="xml")  # type: ignore[call-overload]
    with pytest.raises(aiokili.KiliInputError, match="jsonResponse"):
        kili.labels(project_id, output_format="parsed_label", fields=["id"])


async def test_append_to_labels_is_deprecated_and_works(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 2)
    with pytest.warns(DeprecationWarning, match="append_labels"):
        label = await kili.append_to_labels(answer("B"), label_asset_id=ids[0])
    assert label.asset_id == ids[0] and label.seconds_to_label == 0
    assert label.author is not None and label.author.firstname == "Ada"
    with pytest.warns(DeprecationWarning):
        review = await kili.append_to_labels(
            answer("A"), label_asset_external_id="img-0001", project_id=project_id,
            label_type="REVIEW", seconds_to_label=7,
        )  # fmt: skip
    assert review.asset_id == ids[1] and review.label_type == aiokili.LabelType.REVIEW
    assert await kili.count_labels(project_id, category_search="JOB.B.count == 1") == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(aiokili.KiliInputError, match="label_asset_id"):
            await kili.append_to_labels(answer("A"))
        with pytest.raises(aiokili.KiliInputError, match="seconds_to_label"):
            await kili.append_to_labels(
                answer("A"),
                label_asset_external_id="img-0000",
                project_id=project_id,
                seconds_to_label="slow",
            )  # type: ignore[arg-type]
        with pytest.raises(aiokili.KiliInputError, match="label_type"):
            await kili.append_to_labels(answer("A"), label_asset_id=ids[0], label_type="X")  # type: ignore[arg-type]


async def test_delete_labels(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 3)
    labels = await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 3)
    await kili.create_predictions(
        project_id, asset_id_array=ids, json_response_array=[answer("B")] * 3, model_name="m"
    )
    predictions = [p.id for p in await kili.predictions(project_id)]
    assert await kili.delete_labels(predictions[::-1][:2]) == predictions[::-1][:2]
    assert [p.id for p in await kili.predictions(project_id)] == predictions[:1]

    with pytest.raises(aiokili.BulkOperationError) as refused:
        await kili.delete_labels([labels[0], predictions[0]])
    error = refused.value.failures[0].error
    assert isinstance(error, aiokili.InvalidRequestError)
    assert labels[0] in str(error) and "PREDICTION and INFERENCE" in str(error)
    assert await kili.count_labels(project_id) == 4  # nothing deleted

    with pytest.raises(aiokili.BulkOperationError) as unknown:
        await kili.delete_labels(["no-such-label"])
    assert isinstance(unknown.value.failures[0].error, aiokili.NotFoundError)
    assert "no-such-label" in str(unknown.value.failures[0].error)
    with pytest.raises(aiokili.KiliInputError, match="ids"):
        await kili.delete_labels("abc")  # type: ignore[arg-type]


async def test_delete_labels_with_no_ids_warns_without_a_request() -> None:
    async with aiokili.AsyncKili(
        api_key="k", api_endpoint="http://127.0.0.1:9/graphql", max_retries=0
    ) as offline:
        with pytest.warns(UserWarning, match="empty"):
            assert await offline.delete_labels([]) == []


async def test_update_properties_in_label(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 1)
    [label_id] = await kili.append_labels(
        asset_id_array=ids, json_response_array=[answer("A")], seconds_to_label_array=[3]
    )
    updated = await kili.update_properties_in_label(
        label_id, seconds_to_label=9, model_name="v2", json_response=answer("B")
    )
    assert (updated.id, updated.seconds_to_label, updated.model_name) == (label_id, 9, "v2")
    assert updated.json_response == answer("B")
    assert await kili.count_labels(project_id, category_search="JOB.B.count > 0") == 1
    assert await kili.count_labels(project_id, category_search="JOB.A.count > 0") == 0
    again = await kili.update_properties_in_label(label_id, seconds_to_label=1)
    assert again.json_response == answer("B") and again.model_name == "v2"
    with pytest.raises(aiokili.NotFoundError, match="no-such-label"):
        await kili.update_properties_in_label("no-such-label", seconds_to_label=1)
    with pytest.raises(aiokili.KiliInputError, match="label_id"):
        await kili.update_properties_in_label(None, seconds_to_label=1)  # type: ignore[arg-type]
    with pytest.raises(aiokili.KiliInputError, match="json_response"):
        await kili.update_properties_in_label(label_id, json_response=[1])  # type: ignore[arg-type]


async def test_append_labels_new_parameters(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 2)
    labels = await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 2)
    reviews = await kili.append_labels(
        asset_id_array=ids, json_response_array=[answer("A")] * 2, label_type="REVIEW",
        reviewed_label_id_array=labels,
    )  # fmt: skip
    assert len(reviews) == 2
    with pytest.raises(aiokili.KiliInputError, match="reviewed_label_id_array"):
        await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 2,
                                 reviewed_label_id_array=labels[:1])  # fmt: skip
    with pytest.raises(aiokili.KiliInputError, match=r"step_name.*'Revue'"):
        await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 2,
                                 step_name="Revue")  # fmt: skip


class _LoseFirstDeleteAnswer(httpx.AsyncBaseTransport):
    """Forwards every request; the first deleteLabels is applied but its answer is a 502."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.deletes = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if b"deleteLabels" in request.content:
            self.deletes += 1
            if self.deletes == 1:
                await response.aread()
                return httpx.Response(502, request=request)
        return response


async def test_delete_labels_reconciles_an_unknown_outcome(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 3)
    await kili.create_predictions(
        project_id, asset_id_array=ids, json_response_array=[answer("A")] * 3, model_name="m"
    )
    predictions = [p.id for p in await kili.predictions(project_id)]
    transport = _LoseFirstDeleteAnswer()
    async with (
        httpx.AsyncClient(transport=transport) as http,
        aiokili.AsyncKili(
            api_key=local_server.api_key, api_endpoint=local_server.url, http_client=http
        ) as flaky,
    ):
        assert await flaky.delete_labels(predictions) == predictions
    assert transport.deletes == 1  # applied once; the reconcile saw it, nothing was resent
    assert await kili.predictions(project_id) == []
