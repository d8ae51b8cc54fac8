"""The official SDK's asset mutations (kili==26.2.4, unmodified) against the local server."""

from __future__ import annotations

from typing import Any

from official_support import official_output, official_python

from aiokili.server import LocalServer

__all__ = ["official_python"]  # the fixture, imported for pytest

out = official_output("asset_updates.py")


def test_assignees_are_written(out: Any, local_server: LocalServer) -> None:
    a, b, _, _ = out["ids"]
    with local_server.store.db.read() as conn:
        assigned = conn.execute(
            "SELECT a.asset_id, u.email FROM asset_assignees a JOIN users u ON u.id = a.user_id "
            "WHERE a.asset_id IN (?, ?)",
            (a, b),
        ).fetchall()
    assert assigned == [(a, out["email"])]  # b: None resets (as the official SDK means it)


def test_consensus_use_is_refused_on_a_project_with_steps(out: Any) -> None:
    """As the platform: ``[deprecated]``, which the SDK raises as DeprecatedArgumentError
    naming its own method."""
    kind, message = out["consensus_refused"]
    assert kind == "DeprecatedArgumentError"
    assert "`update_asset_consensus`" in message and "[deprecated]" not in message


def test_updates_and_renames_return_the_ids(out: Any) -> None:
    a, b, _, _ = out["ids"]
    assert out["updated"] == [{"id": a}, {"id": b}]
    assert out["renamed"] == [{"id": a}]
    assert out["renamed_by_external_id"] == [{"id": b}]


def test_review_send_back_and_delete_report_each_asset(out: Any) -> None:
    a, b, c, d = out["ids"]
    assert out["review"] == {
        "succeeded": [{"assetId": a, "externalId": "a2"}],
        "declined": [{"assetId": d, "externalId": "d"}],  # no label: nothing to review
        "failed": [],
    }
    assert out["back"]["succeeded"] == [{"assetId": b, "externalId": "b2"}]
    assert out["back"]["declined"] == [{"assetId": d, "externalId": "d"}]
    assert out["deleted"] == {
        "succeeded": [{"assetId": c, "externalId": "c"}], "declined": [], "failed": []
    }  # fmt: skip
    assert (out["count_labels_before"], out["count_labels_after"]) == (3, 2)
    assert out["count_assets_after"] == 3
    assert out["ongoing"] == 1


def test_the_assets_read_back_as_updated(out: Any) -> None:
    a, b, _, d = out["ids"]
    assets = out["assets"]
    assert set(assets) == {a, b, d}
    assert assets[a]["externalId"] == "a2"
    assert assets[a]["status"] == "TO_REVIEW"
    assert assets[a]["jsonMetadata"] == {"k": "v"}
    assert (assets[a]["consensusMark"], assets[a]["honeypotMark"]) == (0.4, 0.1)
    assert (assets[a]["priority"], assets[a]["resolution"]) == (2, {"width": 640})
    assert assets[b]["externalId"] == "b2"
    assert assets[b]["status"] == "ONGOING"  # back in the queue
    assert assets[b]["jsonMetadata"] == {"k": "w"}
    assert assets[b]["isHoneypot"] is True
    assert [lb["isSentBackToQueue"] for lb in assets[b]["labels"]] == [True]
    assert [lb["isSentBackToQueue"] for lb in assets[a]["labels"]] == [False]
    assert assets[d]["status"] == "TODO"
