"""Helpers shared by the client tests (the interface, answers, project set-up)."""

from __future__ import annotations

from typing import Any

import httpx

import aiokili
from aiokili.server import LocalServer

INTERFACE: dict[str, Any] = {
    "jobs": {
        "JOB": {
            "mlTask": "CLASSIFICATION",
            "content": {"input": "radio", "categories": {"A": {"name": "A"}, "B": {"name": "B"}}},
            "required": 1,
            "isChild": False,
        }
    }
}


def answer(category: str) -> dict[str, Any]:
    """A classification label choosing ``category``."""
    return {"JOB": {"categories": [{"name": category}]}}


async def new_project(kili: aiokili.AsyncKili, input_type: str = "IMAGE") -> str:
    project = await kili.create_project(
        title=f"test {input_type}",
        input_type=input_type,  # type: ignore[arg-type]
        json_interface=INTERFACE,
    )
    return project.id


async def import_images(kili: aiokili.AsyncKili, project_id: str, n: int) -> list[str]:
    """Import ``n`` image URLs ``img-0000``... with ``split`` / ``n`` metadata."""
    result = await kili.append_many_to_dataset(
        project_id,
        content_array=[f"https://images.example/{i}.jpg" for i in range(n)],
        external_id_array=[f"img-{i:04d}" for i in range(n)],
        json_metadata_array=[{"split": "train" if i % 2 else "test", "n": i} for i in range(n)],
    )
    return result["asset_ids"]


def gql(server: LocalServer, query: str, **variables: Any) -> dict[str, Any]:
    """POST one GraphQL document to the local server with its key; return the JSON body."""
    headers = {"Authorization": f"X-API-Key: {server.api_key}"}
    response = httpx.post(
        server.url, json={"query": query, "variables": variables}, headers=headers, timeout=120
    )
    body: dict[str, Any] = response.json()
    return body


async def download(url: str, server: LocalServer) -> bytes:
    """GET ``url`` with the server's API key; the body."""
    async with httpx.AsyncClient() as http:
        got = await http.get(url, headers={"Authorization": f"X-API-Key: {server.api_key}"})
    got.raise_for_status()
    return got.content


def answer_interface_lookups(router: Any, url: str, interface: Any = None) -> None:
    """Have a respx ``router`` answer the look-ups ``append_labels`` makes before sending
    (the assets' project "p", then its interface: ``INTERFACE`` by default), so a mock that
    plays ``appendManyLabels`` sees only the labels."""
    import json

    def projects(request: httpx.Request) -> httpx.Response:
        ids = json.loads(request.content)["variables"]["where"]["idIn"]
        found = [{"id": i, "project": {"id": "p"}} for i in ids]
        return httpx.Response(200, json={"data": {"data": found}})

    router.post(url, json__operationName="LabelAssetsProjects").mock(side_effect=projects)
    project = {"id": "p", "inputType": "IMAGE", "jsonInterface": json.dumps(interface or INTERFACE)}
    router.post(url, json__operationName="LabelProjectInterface").respond(
        json={"data": {"data": [project]}}
    )
