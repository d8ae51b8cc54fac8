"""The unmodified official `kili` SDK (26.2.4), start-up checks on, against the local server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from aiokili.server import LocalServer

pytest.importorskip("kili")

INTERFACE = {
    "jobs": {
        "JOB": {
            "mlTask": "CLASSIFICATION",
            "content": {"input": "radio", "categories": {"A": {"name": "A"}, "B": {"name": "B"}}},
            "required": 1,
            "isChild": False,
        }
    }
}


def answer(name: str) -> dict[str, Any]:
    return {"JOB": {"categories": [{"name": name}]}}


@pytest.fixture
def kili(local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("KILI_SDK_SKIP_CHECKS", raising=False)  # the start-up checks run
    monkeypatch.setenv("KILI_API_ENDPOINT", local_server.url)
    monkeypatch.chdir(tmp_path)  # no kili-sdk-config.json from elsewhere
    from kili.client import Kili

    return Kili(
        api_key=local_server.api_key,
        disable_tqdm=True,
        graphql_client_params={"graphql_schema_cache_dir": str(tmp_path / "schema-cache")},
    )


def test_official_sdk_round_trip(kili: Any, local_server: LocalServer) -> None:
    project = kili.create_project(title="official", input_type="IMAGE", json_interface=INTERFACE)
    project_id = project["id"]

    imported = kili.append_many_to_dataset(
        project_id,
        content_array=["https://img.example/1.jpg", "https://img.example/2.jpg"],
        external_id_array=["one", "two"],
        json_metadata_array=[{"split": "train"}, {"split": "test"}],
    )
    assert len(imported["asset_ids"]) == 2
    assets = kili.assets(project_id)
    assert [a["externalId"] for a in assets] == ["one", "two"]
    assert assets[0]["content"] == "https://img.example/1.jpg"
    assert assets[1]["jsonMetadata"] == {"split": "test"}
    assert kili.count_assets(project_id) == 2
    assert kili.count_assets(project_id, external_id_in=["tw"]) == 1

    kili.append_labels(
        asset_id_array=imported["asset_ids"], json_response_array=[answer("A"), answer("B")]
    )
    kili.append_labels(
        asset_external_id_array=["one"],
        project_id=project_id,
        json_response_array=[answer("B")],
        label_type="REVIEW",
    )
    labels = kili.labels(project_id)
    assert [lb["jsonResponse"] for lb in labels] == [answer("A"), answer("B"), answer("B")]
    assert labels[0]["author"]["email"]
    assert kili.count_labels(project_id) == 3
    assert kili.count_labels(project_id, type_in=["REVIEW"]) == 1
    statuses = {
        a["externalId"]: a["status"]
        for a in kili.assets(project_id, fields=["externalId", "status"])
    }
    assert statuses == {"one": "REVIEWED", "two": "LABELED"}

    updated = kili.update_properties_in_project(project_id, title="renamed")
    assert updated["title"] == "renamed"
    assert kili.delete_project(project_id) == project_id
    assert kili.count_projects(project_id=project_id) == 0


def test_official_sdk_uploads_raw_text(kili: Any, local_server: LocalServer) -> None:
    project = kili.create_project(title="text", input_type="TEXT", json_interface=INTERFACE)
    kili.append_many_to_dataset(project["id"], content_array=["hello raw text"])
    (asset,) = kili.assets(project["id"], fields=["id", "content"])
    assert "/api/label/v2/files" in asset["content"]  # went through the signed-URL upload
    got = httpx.get(
        asset["content"], headers={"Authorization": f"X-API-Key: {local_server.api_key}"}
    )
    assert got.text == "hello raw text"


def test_official_sdk_rejects_a_wrong_key(local_server: LocalServer, tmp_path: Path) -> None:
    from kili.client import Kili
    from kili.exceptions import AuthenticationFailed

    with pytest.raises(AuthenticationFailed):
        Kili(
            api_key="wrong-key",
            api_endpoint=local_server.url,
            graphql_client_params={"graphql_schema_cache_dir": str(tmp_path)},
        )
