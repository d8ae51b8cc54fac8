"""``format_result``: raw results of ``execute`` with their JSON fields parsed, as the
official SDK's ``Kili.format_result`` does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from aiokili import AsyncKili, KiliInputError
from aiokili.testing import ProjectFactory

pytestmark = pytest.mark.anyio

ASSETS = """query($w: AssetWhere!) {
  assets(where: $w, first: 10, skip: 0) { externalId jsonMetadata labels { jsonResponse } }
}"""


async def test_json_fields_become_dicts_at_any_depth(
    kili: AsyncKili, kili_project: ProjectFactory
) -> None:
    project_id = await kili_project()
    await kili.append_many_to_dataset(
        project_id,
        content_array=["https://example.com/a.png", "https://example.com/b.png"],
        external_id_array=["a", "b"],
        json_metadata_array=[{"split": "train"}, {}],
    )
    answer = {"CLASSIFICATION_JOB": {"categories": [{"name": "CAT"}]}}
    await kili.append_labels(
        asset_external_id_array=["a"], project_id=project_id, json_response_array=[answer]
    )
    raw = await kili.execute(ASSETS, {"w": {"project": {"id": project_id}}})
    assert isinstance(raw["assets"], list) and isinstance(raw["assets"][0]["jsonMetadata"], str)

    assets = await kili.format_result("assets", raw)
    by_id = {a["externalId"]: a for a in assets}
    assert by_id["a"] == {
        "externalId": "a",
        "jsonMetadata": {"split": "train"},
        "labels": [{"jsonResponse": answer}],
    }
    assert by_id["b"]["jsonMetadata"] == {} and by_id["b"]["labels"] == []

    class Row:
        def __init__(self, data: dict[str, Any]) -> None:
            self.external_id = data["externalId"]

    rows = await kili.format_result("assets", raw, Row)
    assert isinstance(rows, list) and {r.external_id for r in rows} == {"a", "b"}


async def test_bad_input_is_named(kili: AsyncKili) -> None:
    with pytest.raises(
        KiliInputError, match=r"result has no 'data' to format \(it holds \['x'\]\)"
    ):
        await kili.format_result("data", {"x": 1})
    with pytest.raises(KiliInputError, match=r"data\.jsonResponse is not valid JSON"):
        await kili.format_result("data", {"data": {"jsonResponse": "{nope"}})


async def test_urls_are_fetched_and_the_key_goes_only_to_the_api() -> None:
    endpoint = "https://kili.example/api/label/v2/graphql"
    with respx.mock(using="httpx", assert_all_called=True) as api:
        bucket = api.get("https://bucket.example/interface.json").respond(json={"jobs": {}})
        own = api.get("https://kili.example/api/label/v2/files?id=r").respond(json={"A": 1})
        async with AsyncKili(api_key="secret-key", api_endpoint=endpoint) as kili:
            result = {
                "data": [
                    {"jsonInterface": "https://bucket.example/interface.json"},
                    {"jsonResponse": "https://kili.example/api/label/v2/files?id=r"},
                ]
            }
            formatted = await kili.format_result("data", result)
    assert formatted == [{"jsonInterface": {"jobs": {}}}, {"jsonResponse": {"A": 1}}]
    assert "authorization" not in bucket.calls.last.request.headers
    assert own.calls.last.request.headers["authorization"] == "X-API-Key: secret-key"


async def test_a_failed_fetch_is_an_api_error() -> None:
    with respx.mock(using="httpx") as api:
        api.get("https://bucket.example/gone.json").mock(return_value=httpx.Response(404))
        async with AsyncKili(
            api_key="k", api_endpoint="https://kili.example/api/label/v2/graphql"
        ) as kili:
            with pytest.raises(Exception, match=r"fetching data\.jsonMetadata failed: HTTP 404"):
                await kili.format_result(
                    "data", {"data": {"jsonMetadata": "https://bucket.example/gone.json"}}
                )
