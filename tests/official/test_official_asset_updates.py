"""The official SDK's asset mutations (kili==26.2.4, unmodified) against the local server."""

from __future__ import annotations

from pathlib import Path

from official_support import official_python, run_official  # noqa: F401 (fixture)

from aiokili.server import LocalServer


def test_official_sdk_asset_mutations(
    official_python: Path,  # noqa: F811
    local_server: LocalServer,
    tmp_path: Path,
) -> None:
    out = run_official(official_python, "asset_updates.py", local_server, tmp_path)
    a, b, c, d = out["ids"]
    with local_server.store.db.read() as conn:
        assigned = conn.execute(
            "SELECT a.asset_id, u.email FROM asset_assignees a JOIN users u ON u.id = a.user_id "
            "WHERE a.asset_id IN (?, ?)",
            (a, b),
        ).fetchall()
        for_consensus = dict(
            conn.execute(
                "SELECT asset_id, is_used_for_consensus FROM asset_properties "
                "WHERE asset_id IN (?, ?)",
                (a, b),
            ).fetchall()
        )
    assert assigned == [(a, out["email"])]  # b: None resets (as the official SDK means it)
    assert for_consensus == {a: 1, b: 0}
    assert out["updated"] == [{"id": a}, {"id": b}]
    assert out["renamed"] == [{"id": a}]
    assert out["renamed_by_external_id"] == [{"id": b}]

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
