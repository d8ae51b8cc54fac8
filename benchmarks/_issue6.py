"""Contenders of issue 6's speed targets (aiokili and the raw floors), run by
``_contenders.py`` in a process of their own; see ``bench_issue6.py``.

Kinds:

* ``i6-import-aiokili`` / ``i6-import-raw``: import ``n`` image URLs with external ids and a
  metadata dict each (``append_many_to_dataset``).
* ``i6-labels-aiokili`` / ``i6-labels-raw``: append one label per asset to ``n`` existing
  assets (``append_labels`` with ``asset_id_array``).
* ``i6-list-aiokili`` / ``i6-list-raw``: list a project's assets with ``fields`` including
  ``labels.jsonResponse``.

The raw floors send aiokili's own GraphQL documents (the generated ones, and the page
document of the same ``fields`` selection) with the same chunk sizes (1,000 external ids
per ``filterExistingAssets``, 100 assets per ``appendManyAssets``, 100 labels per
``appendManyLabels``, pages of 100) with ``httpx.AsyncClient``, ``concurrency`` requests in
flight (workers taking the next chunk), bodies built with ``json.dumps`` and answers
decoded with ``json.loads`` (every ``jsonResponse`` / ``jsonMetadata`` too); no models, no
checks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
import httpx
from _shared import KEY

from aiokili import AsyncKili

HEADERS = {"Authorization": f"X-API-Key: {KEY}", "Content-Type": "application/json"}


def metadata(i: int) -> dict[str, Any]:
    """The metadata of imported asset ``i`` (the official contender builds the same)."""
    return {"index": i, "split": "val" if i % 5 == 0 else "train", "source": "bench"}


def answer(i: int) -> dict[str, Any]:
    return {"JOB": {"categories": [{"name": "AB"[i % 2], "confidence": 100}]}}


def import_items(task: dict[str, Any]) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    n, tag = task["n"], task["tag"]
    urls = [f"https://img.example/{tag}/{i}.jpg" for i in range(n)]
    return urls, [f"{tag}-{i}" for i in range(n)], [metadata(i) for i in range(n)]


def asset_ids(task: dict[str, Any]) -> list[str]:
    ids: list[str] = json.loads(Path(task["ids_file"]).read_text())
    return ids[: task["n"]]


async def _measure(work: Callable[[], Awaitable[int]]) -> dict[str, Any]:
    import gc
    import resource
    import time

    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    n = await work()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "wall": wall, "cpu": cpu, "max_rss_mib": rss}


def _client_options(task: dict[str, Any]) -> dict[str, Any]:
    return {k: task[k] for k in ("concurrency", "prefetch") if task.get(k) is not None}


def _run_aiokili(task: dict[str, Any], body: Callable[[AsyncKili], Awaitable[int]]) -> Any:
    result: dict[str, Any] = {}

    async def go() -> None:
        options = _client_options(task)
        async with AsyncKili(api_key=KEY, api_endpoint=task["url"], **options) as kili:
            await kili.count_assets(task["project_id"])  # warm: imports, connection, models
            result.update(await _measure(lambda: body(kili)))

    anyio.run(go)
    return result


def import_aiokili(task: dict[str, Any]) -> dict[str, Any]:
    urls, external, meta = import_items(task)

    async def body(kili: AsyncKili) -> int:
        out = await kili.append_many_to_dataset(
            task["project_id"],
            content_array=urls,
            external_id_array=external,
            json_metadata_array=meta,
        )
        return len(out["asset_ids"])

    return _run_aiokili(task, body)  # type: ignore[no-any-return]


def labels_aiokili(task: dict[str, Any]) -> dict[str, Any]:
    ids = asset_ids(task)
    answers = [answer(i) for i in range(len(ids))]

    async def body(kili: AsyncKili) -> int:
        return len(
            await kili.append_labels(
                asset_id_array=ids, json_response_array=answers, project_id=task["project_id"]
            )
        )

    return _run_aiokili(task, body)  # type: ignore[no-any-return]


def list_aiokili(task: dict[str, Any]) -> dict[str, Any]:
    async def body(kili: AsyncKili) -> int:
        n = 0
        async for _ in kili.assets(task["project_id"], fields=task["fields"]):
            n += 1
        return n

    return _run_aiokili(task, body)  # type: ignore[no-any-return]


# ------------------------------------------------------------------ raw floors
async def _pool(jobs: Sequence[Callable[[], Awaitable[int]]], concurrency: int) -> int:
    """Run ``jobs`` with ``concurrency`` workers, each taking the next job; total count."""
    todo = iter(jobs)
    total = 0

    async def worker() -> None:
        nonlocal total
        for job in todo:
            done = await job()  # not `total += await ...`: total would be read before
            total += done

    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(worker)
    return total


def _run_raw(task: dict[str, Any], body: Callable[[Any], Awaitable[int]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    url = task["url"]

    async def go() -> None:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        async with httpx.AsyncClient(headers=HEADERS, timeout=600, limits=limits) as http:

            async def post(query: str, variables: dict[str, Any]) -> Any:
                body = json.dumps({"query": query, "variables": variables})
                answer = json.loads((await http.post(url, content=body)).content)
                if answer.get("errors"):
                    raise RuntimeError(answer["errors"])
                return answer["data"]["data"]

            await post(_count_assets_doc(), {"where": {"project": {"id": task["project_id"]}}})
            result.update(await _measure(lambda: body(post)))

    anyio.run(go)
    return result


def _count_assets_doc() -> str:
    from aiokili._generated.operations import COUNT_ASSETS_GQL

    return COUNT_ASSETS_GQL


def import_raw(task: dict[str, Any]) -> dict[str, Any]:
    from aiokili._generated.operations import APPEND_MANY_ASSETS_GQL, FILTER_EXISTING_ASSETS_GQL

    urls, external, meta = import_items(task)
    project, k = task["project_id"], task.get("concurrency", 4)

    async def body(post: Any) -> int:
        existing: set[str] = set()
        for s in range(0, len(external), 1000):
            chunk = external[s : s + 1000]
            existing.update(
                await post(FILTER_EXISTING_ASSETS_GQL, {"projectId": project, "externalIds": chunk})
            )
        keep = [i for i in range(len(urls)) if external[i] not in existing]
        blob = os.urandom(12 * len(keep)).hex()
        ids = ["c" + blob[24 * j : 24 * j + 24] for j in range(len(keep))]
        metadata_text = [json.dumps(m) for m in meta]

        def job(start: int) -> Callable[[], Awaitable[int]]:
            async def run() -> int:
                span = keep[start : start + 100]
                data = {
                    "contentArray": [urls[i] for i in span],
                    "externalIDArray": [external[i] for i in span],
                    "idArray": ids[start : start + 100],
                    "jsonMetadataArray": [metadata_text[i] for i in span],
                }
                created = await post(
                    APPEND_MANY_ASSETS_GQL, {"data": data, "where": {"id": project}}
                )
                return len(created)

            return run

        return await _pool([job(s) for s in range(0, len(keep), 100)], k)

    return _run_raw(task, body)


def labels_raw(task: dict[str, Any]) -> dict[str, Any]:
    from aiokili._generated.operations import APPEND_MANY_LABELS_GQL

    ids = asset_ids(task)
    answers = [answer(i) for i in range(len(ids))]
    k = task.get("concurrency", 4)

    async def body(post: Any) -> int:
        texts = [json.dumps(a) for a in answers]

        def job(start: int) -> Callable[[], Awaitable[int]]:
            async def run() -> int:
                chunk = range(start, min(start + 100, len(ids)))
                data = {
                    "labelType": "DEFAULT",
                    "overwrite": False,
                    "labelsData": [{"assetID": ids[i], "jsonResponse": texts[i]} for i in chunk],
                }
                where = {"idIn": [ids[i] for i in chunk]}
                return len(await post(APPEND_MANY_LABELS_GQL, {"data": data, "where": where}))

            return run

        return await _pool([job(s) for s in range(0, len(ids), 100)], k)

    return _run_raw(task, body)


def asset_documents(fields: list[str]) -> tuple[str, str]:
    """aiokili's page and count documents for assets with ``fields``."""
    from aiokili._core.selection import build_selection, with_selection
    from aiokili.assets.methods import ASSETS
    from aiokili.models import Asset

    selection = build_selection(Asset, tuple(fields)).text
    return with_selection(ASSETS.page_document, ASSETS.fragment, selection), ASSETS.count_document


def list_raw(task: dict[str, Any]) -> dict[str, Any]:
    page_doc, count_doc = asset_documents(task["fields"])
    where = {"project": {"id": task["project_id"]}}
    k, size = task.get("concurrency", 1), task.get("page_size", 100)

    async def body(post: Any) -> int:
        total = await post(count_doc, {"where": where})

        def job(skip: int) -> Callable[[], Awaitable[int]]:
            async def run() -> int:
                variables = {"where": where, "first": min(size, total - skip), "skip": skip}
                page = await post(page_doc, variables)
                for asset in page:
                    if asset.get("jsonMetadata") is not None:
                        json.loads(asset["jsonMetadata"])
                    for label in asset.get("labels") or ():
                        json.loads(label["jsonResponse"])
                return len(page)

            return run

        return await _pool([job(s) for s in range(0, total, size)], k)

    return _run_raw(task, body)


TASKS = {
    "i6-import-aiokili": import_aiokili,
    "i6-labels-aiokili": labels_aiokili,
    "i6-list-aiokili": list_aiokili,
    "i6-import-raw": import_raw,
    "i6-labels-raw": labels_raw,
    "i6-list-raw": list_raw,
}
