"""The official SDK (26.2.4) runs every label method against the local server."""

from __future__ import annotations

from typing import Any

from official_support import answer, official_output, official_python

__all__ = ["official_python"]  # the fixture, imported for pytest

out = official_output("labels_methods.py")


def test_appends_predictions_and_inferences(out: Any) -> None:
    assert len(out["appended"]) == 3
    assert out["create_predictions"] == {"id": out["project_id"]}  # as the SDK returns
    predictions = out["predictions"]
    assert [(p["labelType"], p["modelName"], p["jsonResponse"]) for p in predictions] == [
        ("PREDICTION", "m1", answer("B"))
    ] * 2
    assert out["inferences"] == [{"labelType": "INFERENCE", "modelName": "m2"}]


def test_honeypot_and_append_to_labels(out: Any) -> None:
    ids = out["asset_ids"]
    assert out["honeypot"]["id"] and out["append_to_labels"]["id"]
    assert out["append_to_labels_warned"]
    by_id = {lb["id"]: lb for lb in out["labels"]}
    assert by_id[out["honeypot"]["id"]]["labelType"] == "REVIEW"
    assert by_id[out["honeypot"]["id"]]["assetId"] == ids[2]
    assert by_id[out["append_to_labels"]["id"]]["jsonResponse"] == answer("B")
    assert by_id[out["appended"][2]]["honeypotMark"] == 1.0  # A on the honeypot answered A


def test_label_counts_and_filters(out: Any) -> None:
    labels = out["labels"]
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


def test_generator_and_parsed_labels(out: Any) -> None:
    assert out["generator"] == 3
    assert out["parsed"] == ["A", "B", "A", "B"]


def test_delete_labels(out: Any) -> None:
    assert out["deleted"] == [p["id"] for p in out["predictions"]]
    assert out["predictions_after"] == 0
    assert "Only PREDICTION and INFERENCE" in out["delete_default"]
    assert out["count_after"] == 6


def test_export_labels_as_df(out: Any) -> None:
    """The official DataFrame: one row per label, its default label fields (``author``
    nested) and the asset's external id, with the columns aiokili's has."""
    frame = out["as_df"]
    assert frame["columns"] == sorted(
        ["author", "createdAt", "id", "labelType", "asset_externalId"]
    )
    assert frame["author_keys"] == ["email", "id"]
    assert len(frame["types"]) == out["count_labels"]
    assert frame["external_ids"] == ["a", "b", "c"]
