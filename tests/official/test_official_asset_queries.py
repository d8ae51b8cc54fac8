"""The official SDK (26.2.4) on asset imports and asset queries against the local server."""

from __future__ import annotations

from typing import Any

from official_support import official_output, official_python

__all__ = ["official_python"]  # the fixture, imported for pytest

out = official_output("assets_queries.py")
EVERY = [f"img-{i}" for i in range(6)]


def test_images_text_and_rich_text_import(out: Any) -> None:
    assert len(out["image_ids"]) == 6
    assert out["text_media"] == {"raw": "raw text asset", "file": "text from a local file"}
    assert out["rich_downloaded"] == [{"children": [{"text": "rich"}], "type": "p"}]


def test_a_video_imports_asynchronously_and_its_frames_download(out: Any) -> None:
    # the video went through appendManyAssetsAsynchronously, awaited by the SDK's polling
    assert out["video_result_asset_ids"] == []
    assert out["video_count_after_import"] == 1
    [clip] = out["video_assets"]
    assert clip["externalId"] == "clip" and clip["content"] == "https://videos.example/clip.mp4"
    assert clip["jsonMetadata"] == {"processingParameters": {}}
    assert out["video_count_with_frames"] == 3
    assert out["downloaded_frames"] == ["frame 0", "frame 1", "frame 2"]


def test_counts_equal_lists(out: Any) -> None:
    lists, counts = out["lists"], out["counts"]
    for name, found in lists.items():
        assert counts[name] == len(found), name


def test_filters_on_ids_status_metadata_and_dates(out: Any) -> None:
    lists = out["lists"]
    assert lists["none"] == EVERY
    assert lists["asset_id"] == ["img-3"]
    assert lists["asset_id_in"] == EVERY[:3]
    assert lists["asset_id_not_in"] == EVERY[3:]
    assert lists["external_id_in"] == ["img-1", "img-2"]  # contains
    assert lists["external_id_strictly_in"] == ["img-1"]  # equals
    assert lists["status_in"] == ["img-0", "img-1", "img-4"]
    assert lists["status_in_reviewed"] == ["img-2"]
    assert lists["metadata_value"] == ["img-1", "img-3", "img-5"]
    assert lists["metadata_range"] == ["img-1", "img-2", "img-3"]
    assert lists["created_at"] == EVERY
    assert lists["updated_at"] == []
    assert lists["skipped"] == EVERY


def test_filters_on_marks_and_assignees(out: Any) -> None:
    lists = out["lists"]
    assert lists["consensus_mark"] == lists["honeypot_mark"] == lists["inference_mark"] == []
    assert lists["assignee_in"] == []
    assert lists["honeypot_mark_computed"] == lists["label_honeypot_mark"] == ["img-4"]


def test_filters_on_labels_and_issues(out: Any) -> None:
    lists = out["lists"]
    assert lists["label_type_in"] == ["img-0", "img-1", "img-4"]
    assert lists["label_category_search"] == ["img-1", "img-2", "img-4"]
    assert lists["label_created_at"] == ["img-0", "img-1", "img-2", "img-4"]
    assert lists["issue_type"] == ["img-1"]
    assert lists["issue_status_solved"] == []
    assert lists["label_labeler_in"] == lists["label_reviewer_in"] == []


def test_generator_and_pages(out: Any) -> None:
    assert out["generator"] == EVERY
    assert out["first_skip"] == ["img-1", "img-2"]
