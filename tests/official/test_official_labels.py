"""The official SDK (26.2.4) runs every label method against the local server."""

from __future__ import annotations

from pathlib import Path

from official_support import answer, official_python, run_official

from aiokili.server import LocalServer

__all__ = ["official_python"]  # the fixture, shared


def test_official_sdk_label_methods(
    official_python: Path, local_server: LocalServer, tmp_path: Path
) -> None:
    out = run_official(official_python, "labels_methods.py", local_server, tmp_path)
    ids = out["asset_ids"]
    assert len(out["appended"]) == 3
    assert out["create_predictions"] == {"id": out["project_id"]}  # as the SDK returns

    predictions = out["predictions"]
    assert [(p["labelType"], p["modelName"], p["jsonResponse"]) for p in predictions] == [
        ("PREDICTION", "m1", answer("B"))
    ] * 2
    assert out["inferences"] == [{"labelType": "INFERENCE", "modelName": "m2"}]
    assert out["honeypot"]["id"] and out["append_to_labels"]["id"]
    assert out["append_to_labels_warned"]

    labels = out["labels"]
    by_id = {lb["id"]: lb for lb in labels}
    assert by_id[out["honeypot"]["id"]]["labelType"] == "REVIEW"
    assert by_id[out["honeypot"]["id"]]["assetId"] == ids[2]
    assert by_id[out["append_to_labels"]["id"]]["jsonResponse"] == answer("B")
    assert by_id[out["appended"][2]]["honeypotMark"] == 1.0  # A on the honeypot answered A
    assert out["count_labels"] == len(labels) == 8
    assert out["count_by_type"] == {"DEFAULT": 4, "REVIEW": 1, "PREDICTION": 2, "INFERENCE": 1}
    assert out["count_honeypot_gte"] == 1
    assert out["count_author_in"] == 8
    assert out["count_search"] == sum("'B'" in str(lb["jsonResponse"]) for lb in labels) == 4
    assert out["count_strictly_in"] == 3  # a: DEFAULT, PREDICTION, INFERENCE
    assert out["count_id_contains"] == 2
    assert out["count_status_in"] == 8  # every asset is LABELED (the honeypot's too: labelled)
    assert out["count_created_at"] == 8
    assert out["predictions_asset_id"] == 1
    assert out["generator"] == 3
    assert out["parsed"] == ["A", "B", "A", "B"]

    assert out["deleted"] == [p["id"] for p in predictions]
    assert out["predictions_after"] == 0
    assert "Only PREDICTION and INFERENCE" in out["delete_default"]
    assert out["count_after"] == 6
