"""The official SDK (26.2.4) on asset imports and asset queries against the local server."""

from __future__ import annotations

from pathlib import Path

from official_support import official_python, run_official

from aiokili.server import LocalServer

__all__ = ["official_python"]  # the fixture, imported for pytest


def test_official_asset_imports_and_filters(
    official_python: Path, local_server: LocalServer, tmp_path: Path
) -> None:
    out = run_official(official_python, "assets_queries.py", local_server, tmp_path)

    assert len(out["image_ids"]) == 6
    assert out["text_media"] == {"raw": "raw text asset", "file": "text from a local file"}
    # the video went through appendManyAssetsAsynchronously, awaited by the SDK's polling
    assert out["video_result_asset_ids"] == []
    assert out["video_count_after_import"] == 1
    [clip] = out["video_assets"]
    assert clip["externalId"] == "clip" and clip["content"] == "https://videos.example/clip.mp4"
    assert clip["jsonMetadata"] == {"processingParameters": {}}

    assert out["video_count_with_frames"] == 3
    assert out["downloaded_frames"] == ["frame 0", "frame 1", "frame 2"]
    assert out["rich_downloaded"] == [{"children": [{"text": "rich"}], "type": "p"}]

    lists, counts = out["lists"], out["counts"]
    for name, found in lists.items():
        assert counts[name] == len(found), name  # counts equal lists
    every = [f"img-{i}" for i in range(6)]
    assert lists["none"] == every
    assert lists["asset_id"] == ["img-3"]
    assert lists["asset_id_in"] == every[:3]
    assert lists["asset_id_not_in"] == every[3:]
    assert lists["external_id_in"] == ["img-1", "img-2"]  # contains
    assert lists["external_id_strictly_in"] == ["img-1"]  # equals
    assert lists["status_in"] == ["img-0", "img-1", "img-4"]
    assert lists["status_in_reviewed"] == ["img-2"]
    assert lists["metadata_value"] == ["img-1", "img-3", "img-5"]
    assert lists["metadata_range"] == ["img-1", "img-2", "img-3"]
    assert lists["created_at"] == every
    assert lists["updated_at"] == []
    assert lists["skipped"] == every
    assert lists["consensus_mark"] == lists["honeypot_mark"] == lists["inference_mark"] == []
    assert lists["assignee_in"] == []
    assert lists["label_type_in"] == ["img-0", "img-1", "img-4"]
    assert lists["label_category_search"] == ["img-1", "img-2", "img-4"]
    assert lists["label_created_at"] == ["img-0", "img-1", "img-2", "img-4"]
    assert lists["issue_type"] == ["img-1"]
    assert lists["issue_status_solved"] == []
    assert lists["honeypot_mark_computed"] == lists["label_honeypot_mark"] == ["img-4"]
    assert lists["label_labeler_in"] == lists["label_reviewer_in"] == []
    assert out["generator"] == every
    assert out["first_skip"] == ["img-1", "img-2"]
