"""Official SDK: asset imports (URLs, raw text, local files, an asynchronous video import) and
assets / count_assets with many filters, 26.2.4 names; prints lists and counts side by side."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from _common import INTERFACE, answer, emit, kili

client = kili()
out: dict[str, Any] = {}

# ---------------------------------------------------------------- imports
image = client.create_project(title="q-image", input_type="IMAGE", json_interface=INTERFACE)
pid = image["id"]
imported = client.append_many_to_dataset(
    pid,
    content_array=[f"https://img.example/{i}.jpg" for i in range(6)],
    external_id_array=[f"img-{i}" for i in range(6)],
    json_metadata_array=[{"split": "train" if i % 2 else "test", "n": i} for i in range(6)],
)
ids = imported["asset_ids"]
out["image_ids"] = ids

text = client.create_project(title="q-text", input_type="TEXT", json_interface=INTERFACE)
tmp = Path(tempfile.mkdtemp())
local = tmp / "doc.txt"
local.write_text("text from a local file")
client.append_many_to_dataset(
    text["id"], content_array=["raw text asset"], external_id_array=["raw"]
)
client.append_many_to_dataset(text["id"], content_array=[str(local)], external_id_array=["file"])
media_dir = tmp / "media"
downloaded = client.assets(
    text["id"], fields=["externalId", "content"], download_media=True,
    local_media_dir=str(media_dir),
)  # fmt: skip
out["text_media"] = {a["externalId"]: Path(a["content"]).read_text() for a in downloaded}

video = client.create_project(title="q-video", input_type="VIDEO", json_interface=INTERFACE)
result = client.append_many_to_dataset(
    video["id"], content_array=["https://videos.example/clip.mp4"], external_id_array=["clip"]
)
out["video_result_asset_ids"] = result["asset_ids"]
out["video_count_after_import"] = client.count_assets(video["id"])
out["video_assets"] = [
    {"externalId": a["externalId"], "content": a["content"], "jsonMetadata": a["jsonMetadata"]}
    for a in client.assets(video["id"], fields=["externalId", "content", "jsonMetadata"])
]

frames = []
for i in range(3):
    frame = tmp / f"frame{i}.jpg"
    frame.write_bytes(b"frame %d" % i)
    frames.append(str(frame))
client.append_many_to_dataset(
    video["id"], json_content_array=[frames], external_id_array=["local-frames"]
)
client.append_many_to_dataset(
    video["id"], json_content_array=[[f"https://frames.example/{i}.jpg" for i in range(2)]],
    external_id_array=["hosted-frames"],
)  # fmt: skip
out["video_count_with_frames"] = client.count_assets(video["id"])
frames_dir = tmp / "frames"
downloaded_frames = client.assets(
    video["id"], fields=["externalId", "content", "jsonContent"], download_media=True,
    local_media_dir=str(frames_dir), external_id_strictly_in=["local-frames"],
)  # fmt: skip
out["downloaded_frames"] = [
    Path(p).read_bytes().decode() for p in downloaded_frames[0]["jsonContent"]
]
rich = [{"children": [{"text": "rich"}], "type": "p"}]
client.append_many_to_dataset(text["id"], json_content_array=[rich], external_id_array=["rich"])
[rich_asset] = client.assets(
    text["id"], fields=["externalId", "content", "jsonContent"], external_id_strictly_in=["rich"],
    download_media=True, local_media_dir=str(media_dir),
)  # fmt: skip
out["rich_downloaded"] = json.loads(Path(rich_asset["jsonContent"]).read_text())

# ---------------------------------------------------------------- labels to filter on
client.append_labels(asset_id_array=ids[:2], json_response_array=[answer("A"), answer("B")])
client.append_labels(
    asset_id_array=[ids[2]], json_response_array=[answer("B")], label_type="REVIEW"
)

label_of = {
    lb["labelOf"]["externalId"]: lb["id"]
    for lb in client.labels(pid, fields=["id", "labelOf.externalId"], type_in=["DEFAULT"])
}
client.create_issues(pid, label_id_array=[label_of["img-1"]], text_array=["look"])
client.create_honeypot(answer("A"), asset_id=ids[4])
client.append_labels(asset_id_array=[ids[4]], json_response_array=[answer("B")])

# ---------------------------------------------------------------- filters
FILTERS: dict[str, dict[str, Any]] = {
    "none": {},
    "asset_id": {"asset_id": ids[3]},
    "asset_id_in": {"asset_id_in": ids[:3]},
    "asset_id_not_in": {"asset_id_not_in": ids[:3]},
    "external_id_in": {"external_id_in": ["img-1", "mg-2"]},
    "external_id_strictly_in": {"external_id_strictly_in": ["img-1", "mg-2"]},
    "status_in": {"status_in": ["LABELED"]},
    "status_in_reviewed": {"status_in": ["REVIEWED"]},
    "metadata_value": {"metadata_where": {"split": "train"}},
    "metadata_range": {"metadata_where": {"n": [1, 3]}},
    "created_at": {"created_at_gte": "2000-01-01", "created_at_lte": "2999-12-31"},
    "updated_at": {"updated_at_gte": "2999-01-01"},
    "skipped": {"skipped": False},
    "consensus_mark": {"consensus_mark_gte": 0.5},
    "honeypot_mark": {"honeypot_mark_gte": 0.5},
    "inference_mark": {"inference_mark_gte": 0.1, "inference_mark_lte": 0.9},
    "assignee_in": {"assignee_in": ["nobody@example.com"]},
    "label_type_in": {"label_type_in": ["DEFAULT"]},
    "label_category_search": {"label_category_search": "JOB.B.count > 0"},
    "label_created_at": {"label_created_at_gte": "2000-01-01"},
    "label_labeler_in": {"label_labeler_in": ["nobody@example.com"]},
    "label_reviewer_in": {"label_reviewer_in": ["nobody@example.com"]},
    "issue_type": {"issue_type": "ISSUE"},
    "issue_status_solved": {"issue_type": "ISSUE", "issue_status": "SOLVED"},
    "honeypot_mark_computed": {"honeypot_mark_lte": 0.5},
    "label_honeypot_mark": {"label_honeypot_mark_lte": 0.5},
}
lists: dict[str, list[str]] = {}
counts: dict[str, int] = {}
for name, filters in FILTERS.items():
    lists[name] = [a["externalId"] for a in client.assets(pid, fields=["externalId"], **filters)]
    counts[name] = client.count_assets(pid, **filters)
out["lists"] = lists
out["counts"] = counts
out["generator"] = [
    a["externalId"] for a in client.assets(pid, fields=["externalId"], as_generator=True)
]
out["first_skip"] = [
    a["externalId"] for a in client.assets(pid, fields=["externalId"], first=2, skip=1)
]
emit(out)
