"""The unmodified official `kili` SDK (26.2.4), start-up checks on, against the local server.

The SDK runs in its own virtualenv (``tests/official_env.py``: created on first use, then
cached), with its own pinned dependencies (graphql-core 3.2.6 through gql), as a subprocess:
the scripts in ``tests/official/scripts/`` do the calls and print their results as JSON, asserted on
here. The server runs in this process, in our environment. A failing script fails its tests
with the script's stderr (its traceback) in the report; the tests of a script's output
share one run of it (``official_support.official_output``), one test per topic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from official_support import answer, official_output, official_python, run_official

from aiokili.server import LocalServer

__all__ = ["official_python"]  # the fixture

out = official_output("round_trip.py")


def test_round_trip_imports_and_lists_assets(out: Any) -> None:
    assert len(out["imported_asset_ids"]) == 2
    assets = out["assets"]
    assert [a["externalId"] for a in assets] == ["one", "two"]
    assert assets[0]["content"] == "https://img.example/1.jpg"
    assert assets[1]["jsonMetadata"] == {"split": "test"}
    assert out["count_assets"] == 2
    assert out["count_assets_external_id_in_tw"] == 1


def test_round_trip_labels_and_statuses(out: Any) -> None:
    labels = out["labels"]
    assert [lb["jsonResponse"] for lb in labels] == [answer("A"), answer("B"), answer("B")]
    assert labels[0]["authorEmail"]
    assert out["count_labels"] == 3
    assert out["count_labels_review"] == 1
    assert out["statuses"] == {"one": "REVIEWED", "two": "LABELED"}


def test_round_trip_renames_and_deletes_the_project(out: Any) -> None:
    assert out["updated_title"] == "renamed"
    assert out["deleted"] == out["project_id"]
    assert out["count_projects_after_delete"] == 0


def test_official_sdk_uploads_raw_text(
    official_python: Path, local_server: LocalServer, tmp_path: Path
) -> None:
    (asset,) = run_official(official_python, "upload_text.py", local_server, tmp_path)
    assert "/api/label/v2/files" in asset["content"]  # went through the signed-URL upload
    got = httpx.get(
        asset["content"], headers={"Authorization": f"X-API-Key: {local_server.api_key}"}
    )
    assert got.text == "hello raw text"


def test_official_sdk_rejects_a_wrong_key(
    official_python: Path, local_server: LocalServer, tmp_path: Path
) -> None:
    out = run_official(official_python, "wrong_key.py", local_server, tmp_path, api_key=False)
    assert out["raised"] == "AuthenticationFailed", out
