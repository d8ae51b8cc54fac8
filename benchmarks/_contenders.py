"""One contender of our environment, in a process of its own: ``python _contenders.py JSON``.

Prints ``RESULT {"n", "wall", "cpu", "max_rss_mib", ...}``; see ``_helpers.measure``.
Tasks (``kind``):

* ``list-aiokili``: ``async for`` over ``kili.labels(project_id, fields=...)``.
* ``list-raw-sync`` / ``list-raw-async``: the floor. The same count and page documents as
  aiokili (same fields, pages of 100), sent one after the other with ``httpx.Client`` or
  ``httpx.AsyncClient``, each body decoded with ``json.loads`` and each label's
  ``jsonResponse`` too (every contender decodes it); no models.
* ``import-aiokili``: ``append_many_to_dataset`` of URLs, raw texts or local files.
* ``import-raw`` / ``import-raw-async``: the floor of an import: the same GraphQL requests
  as aiokili (``createUploadBucketSignedUrls`` by 30, one PUT per upload,
  ``appendManyAssets`` by 100), sequential, built with ``json.dumps``, answers decoded with
  ``json.loads``, with ``httpx.Client`` or ``httpx.AsyncClient``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
from _issue6 import TASKS as ISSUE6_TASKS
from _shared import KEY, contents, emit, measure

from aiokili import AsyncKili


def label_documents(fields: list[str] | None) -> tuple[str, str]:
    """aiokili's page and count documents for labels with ``fields``."""
    from aiokili._core.selection import build_selection, with_selection
    from aiokili.labels.methods import LABELS
    from aiokili.models import Label

    page = LABELS.page_document
    if fields is not None:
        page = with_selection(page, LABELS.fragment, build_selection(Label, tuple(fields)).text)
    return page, LABELS.count_document


HEADERS = {"Authorization": f"X-API-Key: {KEY}", "Content-Type": "application/json"}


def list_aiokili(task: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if task.get("prefetch") is not None:
        options["prefetch"] = task["prefetch"]
    if task.get("http_transport"):
        options["http_transport"] = task["http_transport"]
    result: dict[str, Any] = {}

    async def go() -> None:
        async with AsyncKili(api_key=KEY, api_endpoint=task["url"], **options) as kili:
            await kili.count_labels(task["project_id"])  # warm: imports, connection, models

            async def work() -> int:
                n = 0
                listing = kili.labels(
                    task["project_id"], fields=task.get("fields"), first=task.get("first")
                )
                async for _ in listing:
                    n += 1
                return n

            result.update(await _measure_async(work))

    anyio.run(go)
    return result


async def _measure_async(work: Any) -> dict[str, Any]:
    """``measure`` for a coroutine function, inside the running loop."""
    import gc
    import resource
    import time

    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    n = await work()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "wall": wall, "cpu": cpu, "max_rss_mib": rss}


def _where(task: dict[str, Any]) -> dict[str, Any]:
    return {"project": {"id": task["project_id"]}}


def list_raw_sync(task: dict[str, Any]) -> dict[str, Any]:
    page_doc, count_doc = label_documents(task.get("fields"))
    url, where, size = task["url"], _where(task), task.get("page_size", 100)
    with httpx.Client(headers=HEADERS, timeout=600) as http:
        http.post(url, content=json.dumps({"query": count_doc, "variables": {"where": where}}))

        def work() -> int:
            body = {
                "query": count_doc,
                "operationName": "CountLabels",
                "variables": {"where": where},
            }
            total = json.loads(http.post(url, content=json.dumps(body)).content)["data"]["data"]
            total = min(total, task.get("first") or total)
            n = 0
            for skip in range(0, total, size):
                variables = {"where": where, "first": min(size, total - skip), "skip": skip}
                body = {"query": page_doc, "operationName": "Labels", "variables": variables}
                page = json.loads(http.post(url, content=json.dumps(body)).content)["data"]["data"]
                for item in page:
                    json.loads(item["jsonResponse"])
                n += len(page)
            return n

        return measure(work)


def list_raw_async(task: dict[str, Any]) -> dict[str, Any]:
    page_doc, count_doc = label_documents(task.get("fields"))
    url, where, size = task["url"], _where(task), task.get("page_size", 100)
    result: dict[str, Any] = {}

    async def go() -> None:
        async with httpx.AsyncClient(headers=HEADERS, timeout=600) as http:
            await http.post(
                url, content=json.dumps({"query": count_doc, "variables": {"where": where}})
            )

            async def work() -> int:
                body = {"query": count_doc, "operationName": "CountLabels",
                        "variables": {"where": where}}  # fmt: skip
                response = await http.post(url, content=json.dumps(body))
                total = json.loads(response.content)["data"]["data"]
                total = min(total, task.get("first") or total)
                n = 0
                for skip in range(0, total, size):
                    variables = {"where": where, "first": min(size, total - skip), "skip": skip}
                    body = {"query": page_doc, "operationName": "Labels", "variables": variables}
                    response = await http.post(url, content=json.dumps(body))
                    page = json.loads(response.content)["data"]["data"]
                    for item in page:
                        json.loads(item["jsonResponse"])
                    n += len(page)
                return n

            result.update(await _measure_async(work))

    anyio.run(go)
    return result


# ------------------------------------------------------------------ imports
def import_aiokili(task: dict[str, Any]) -> dict[str, Any]:
    items = contents(task)
    external = [f"{task['tag']}-{i}" for i in range(len(items))]
    result: dict[str, Any] = {}
    options = {"http_transport": task["http_transport"]} if task.get("http_transport") else {}

    async def go() -> None:
        async with AsyncKili(api_key=KEY, api_endpoint=task["url"], **options) as kili:
            await kili.count_assets(task["project_id"])  # warm

            async def work() -> int:
                out = await kili.append_many_to_dataset(
                    task["project_id"], content_array=items, external_id_array=external
                )
                return len(out["asset_ids"])

            result.update(await _measure_async(work))

    anyio.run(go)
    return result


APPEND = (
    "mutation AppendManyAssets($data: AppendManyAssetsData!, $where: ProjectWhere!) "
    "{ data: appendManyAssets(data: $data, where: $where) { id } }"
)
SIGN = "query ($filePaths: [String!]) { urls: createUploadBucketSignedUrls(filePaths: $filePaths) }"
EXISTING = (
    "query ($projectID: ID!, $externalIDs: [String!]!) "
    "{ external_ids: filterExistingAssets(projectID: $projectID, externalIDs: $externalIDs) }"
)


def import_raw(task: dict[str, Any]) -> dict[str, Any]:
    """Sequential floor of an import, with what every client must send."""
    items = contents(task)
    url, project_id = task["url"], task["project_id"]
    external = [f"{task['tag']}-{i}" for i in range(len(items))]
    upload = task["content"] != "urls"
    files = task["content"] == "files"

    def post(http: httpx.Client, query: str, variables: dict[str, Any]) -> Any:
        body = json.dumps({"query": query, "variables": variables})
        return json.loads(http.post(url, content=body).content)["data"]

    with httpx.Client(headers=HEADERS, timeout=600) as http:
        post(http, EXISTING, {"projectID": project_id, "externalIDs": ["warm"]})

        def work() -> int:
            n = 0
            for start in range(0, len(items), 1000):
                post(http, EXISTING, {"projectID": project_id,
                                      "externalIDs": external[start : start + 1000]})  # fmt: skip
            for start in range(0, len(items), 100):
                chunk = items[start : start + 100]
                ids = ["c" + os.urandom(12).hex() for _ in chunk]
                row = list(chunk)
                if upload:
                    paths = [f"projects/{project_id}/assets/{i}/content" for i in ids]
                    signed: list[str] = []
                    for s in range(0, len(paths), 30):
                        signed += post(http, SIGN, {"filePaths": paths[s : s + 30]})["urls"]
                    for slot, (item, signed_url) in enumerate(zip(chunk, signed, strict=True)):
                        target = httpx.URL(signed_url).copy_remove_param("id")
                        data = Path(item).read_bytes() if files else item.encode()
                        http.put(target, content=data,
                                 headers={"Content-Type": "text/plain"}).raise_for_status()  # fmt: skip
                        row[slot] = signed_url
                data = {"contentArray": row, "externalIDArray": external[start : start + 100],
                        "idArray": ids, "jsonMetadataArray": ["{}"] * len(chunk)}  # fmt: skip
                created = post(http, APPEND, {"data": data, "where": {"id": project_id}})["data"]
                n += len(created)
            return n

        return measure(work)


def rss_mib() -> float:
    """Resident set size of this process now, from /proc (MiB)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")  # pragma: no cover - not Linux


def memory_list(task: dict[str, Any]) -> dict[str, Any]:
    """Stream every label; RSS sampled every ``sample`` labels, and the peak."""
    result: dict[str, Any] = {}

    async def go() -> None:
        async with AsyncKili(api_key=KEY, api_endpoint=task["url"]) as kili:
            await kili.count_labels(task["project_id"])  # warm
            before, samples = rss_mib(), []

            async def work() -> int:
                n = 0
                async for _ in kili.labels(task["project_id"], fields=task.get("fields")):
                    n += 1
                    if n % task["sample"] == 0:
                        samples.append((n, round(rss_mib(), 1)))
                return n

            result.update(await _measure_async(work))
            result.update(rss_before_mib=before, samples=samples)

    anyio.run(go)
    return result


def memory_upload(task: dict[str, Any]) -> dict[str, Any]:
    """Import local files; RSS before, and the peak."""
    paths = [Path(p) for p in task["paths"]]
    result: dict[str, Any] = {}

    async def go() -> None:
        async with AsyncKili(api_key=KEY, api_endpoint=task["url"]) as kili:
            await kili.count_assets(task["project_id"])  # warm
            before = rss_mib()

            async def work() -> int:
                out = await kili.append_many_to_dataset(task["project_id"], content_array=paths)
                return len(out["asset_ids"])

            result.update(await _measure_async(work))
            result.update(rss_before_mib=before)

    anyio.run(go)
    return result


def import_raw_async(task: dict[str, Any]) -> dict[str, Any]:
    """The same sequential floor with ``httpx.AsyncClient`` (the floor of an async client)."""
    items = contents(task)
    url, project_id = task["url"], task["project_id"]
    external = [f"{task['tag']}-{i}" for i in range(len(items))]
    upload = task["content"] != "urls"
    files = task["content"] == "files"
    result: dict[str, Any] = {}

    async def go() -> None:
        async with httpx.AsyncClient(headers=HEADERS, timeout=600) as http:

            async def post(query: str, variables: dict[str, Any]) -> Any:
                body = json.dumps({"query": query, "variables": variables})
                return json.loads((await http.post(url, content=body)).content)["data"]

            await post(EXISTING, {"projectID": project_id, "externalIDs": ["warm"]})

            async def work() -> int:
                n = 0
                for start in range(0, len(items), 1000):
                    await post(EXISTING, {"projectID": project_id,
                                          "externalIDs": external[start : start + 1000]})  # fmt: skip
                for start in range(0, len(items), 100):
                    chunk = items[start : start + 100]
                    ids = ["c" + os.urandom(12).hex() for _ in chunk]
                    row = list(chunk)
                    if upload:
                        paths = [f"projects/{project_id}/assets/{i}/content" for i in ids]
                        signed: list[str] = []
                        for s in range(0, len(paths), 30):
                            signed += (await post(SIGN, {"filePaths": paths[s : s + 30]}))["urls"]
                        for slot, (item, signed_url) in enumerate(zip(chunk, signed, strict=True)):
                            target = httpx.URL(signed_url).copy_remove_param("id")
                            data = Path(item).read_bytes() if files else item.encode()  # noqa: ASYNC240 - 1 KiB: the floor reads it blocking
                            response = await http.put(
                                target, content=data, headers={"Content-Type": "text/plain"}
                            )
                            response.raise_for_status()
                            row[slot] = signed_url
                    data = {"contentArray": row, "externalIDArray": external[start : start + 100],
                            "idArray": ids, "jsonMetadataArray": ["{}"] * len(chunk)}  # fmt: skip
                    created = (await post(APPEND, {"data": data, "where": {"id": project_id}}))[
                        "data"
                    ]
                    n += len(created)
                return n

            result.update(await _measure_async(work))

    anyio.run(go)
    return result


TASKS = {
    "list-aiokili": list_aiokili,
    "list-raw-sync": list_raw_sync,
    "list-raw-async": list_raw_async,
    "import-aiokili": import_aiokili,
    "import-raw": import_raw,
    "import-raw-async": import_raw_async,
    "memory-list": memory_list,
    "memory-upload": memory_upload,
    **ISSUE6_TASKS,
}


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        sys.exit(__doc__)
    spec = json.loads(sys.argv[1])
    emit({**TASKS[spec["kind"]](spec), "name": spec.get("name")})
