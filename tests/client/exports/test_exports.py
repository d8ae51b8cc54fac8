"""export_labels against the local server: every format on a project with every job type it
supports, compared with hand-worked files in tests/data/exports/; layouts, single_file,
filters, sent-back and label types, media, bad inputs; export_labels_as_df.

The expected files hold what a reader checks by hand: 200x100 images, a square with corners
(0.25, 0.25)-(0.75, 0.75) (pixels 50,25 -> 150,75; YOLO centre 0.5 0.5, size 0.5 0.5) and a
triangle (0.5, 0.25), (0.75, 0.75), (0.25, 0.75). Ids and dates are replaced by placeholders.
Set AIOKILI_WRITE_EXPECTED=1 to rewrite them (then review the diff).
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from exports_support import (
    IMAGE_INTERFACE,
    TEXT_INTERFACE,
    image_project,
    image_response,
    normalize,
)
from support import answer, import_images, new_project

import aiokili
from aiokili import ExportFormatError, KiliInputError, NotFoundError

pytestmark = pytest.mark.anyio
DATA = Path(__file__).resolve().parents[2] / "data" / "exports"


def members(path: Path) -> dict[str, str]:
    """The archive's files (not folders, not the README), JSON members normalized."""
    out: dict[str, str] = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith("/") or name == "README.kili.txt":
                continue
            text = archive.read(name).decode()
            if name.endswith((".json", ".geojson")):
                text = json.dumps(normalize(json.loads(text)), indent=2, sort_keys=True) + "\n"
            out[name] = text
    return out


def expected(case: str) -> dict[str, str]:
    folder = DATA / case
    return {
        p.relative_to(folder).as_posix(): p.read_bytes().decode()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def check(case: str, archive: Path) -> None:
    got = members(archive)
    if os.environ.get("AIOKILI_WRITE_EXPECTED"):
        for name, text in got.items():
            target = DATA / case / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode())
    assert got == expected(case)


@pytest.fixture
async def project(kili: aiokili.AsyncKili) -> tuple[str, list[str]]:
    return await image_project(kili)


CASES = [
    ("kili", "split", False, "kili"),
    ("raw", "merged", True, "kili_single_file"),
    ("coco", "split", False, "coco_split"),
    ("coco", "merged", False, "coco_merged"),
    ("yolo_v4", "split", False, "yolo_v4_split"),
    ("yolo_v4", "merged", False, "yolo_v4_merged"),
    ("yolo_v5", "split", False, "yolo_v5_split"),
    ("yolo_v5", "merged", False, "yolo_v5_merged"),
    ("yolo_v7", "merged", False, "yolo_v7_merged"),
    ("yolo_v8", "split", False, "yolo_v8_split"),
    ("yolo_v8", "merged", False, "yolo_v8_merged"),
    ("pascal_voc", "merged", False, "pascal_voc"),
]


@pytest.mark.parametrize(("fmt", "layout", "single_file", "case"), CASES)
async def test_every_format_matches_the_hand_worked_files(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]], tmp_path: Path,
    fmt: Any, layout: Any, single_file: bool, case: str,
) -> None:  # fmt: skip
    project_id, _ = project
    out = tmp_path / "export.zip"
    result = await kili.export_labels(
        project_id, str(out), fmt, layout=layout, single_file=single_file, with_assets=False
    )
    assert result is None
    check(case, out)
    with zipfile.ZipFile(out) as archive:
        readme = archive.read("README.kili.txt").decode()
    assert f"- Project identifier: {project_id}" in readme
    assert f"- Exported format: {fmt}" in readme


async def test_geojson_of_a_geospatial_project(kili: aiokili.AsyncKili, tmp_path: Path) -> None:
    jobs = {k: v for k, v in IMAGE_INTERFACE["jobs"].items()}
    project = await kili.create_project(
        title="geo", input_type="GEOSPATIAL", json_interface={"jobs": jobs}
    )
    result = await kili.append_many_to_dataset(
        project.id, content_array=["https://maps.example/a.tif"], external_id_array=["geo-1"]
    )
    await kili.append_labels(
        asset_id_array=result["asset_ids"], json_response_array=[image_response("A")]
    )
    out = tmp_path / "geo.zip"
    await kili.export_labels(project.id, out, "geojson", layout="merged", with_assets=False)
    check("geojson", out)


async def test_named_entities_of_a_text_project_in_kili_format(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project = await kili.create_project(
        title="ner", input_type="TEXT", json_interface=TEXT_INTERFACE
    )
    result = await kili.append_many_to_dataset(
        project.id, content_array=["Ada Lovelace wrote."], external_id_array=["text-1"]
    )
    entity = {"mid": "e1", "beginOffset": 0, "content": "Ada Lovelace",
              "categories": [{"name": "PER"}]}  # fmt: skip
    await kili.append_labels(
        asset_id_array=result["asset_ids"], json_response_array=[{"NER": {"entities": [entity]}}]
    )
    out = tmp_path / "ner.zip"
    await kili.export_labels(project.id, out, "kili", with_assets=False)
    got = json.loads(members(out)["labels/text-1.json"])
    assert got["latestLabel"]["jsonResponse"] == normalize({"NER": {"entities": [entity]}})
    for fmt in ("coco", "yolo_v8", "pascal_voc", "geojson"):
        with pytest.raises(ExportFormatError, match=f"{fmt} format cannot export a TEXT"):
            await kili.export_labels(project.id, tmp_path / "x.zip", fmt, layout="merged")
    assert not (tmp_path / "x.zip").exists()


async def test_a_format_without_a_job_it_takes_is_refused_before_writing(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    jobs = {
        "POINT": IMAGE_INTERFACE["jobs"]["POINT"],
        "CLASSIF": IMAGE_INTERFACE["jobs"]["CLASSIF"],
    }
    project = await kili.create_project(
        title="points", input_type="IMAGE", json_interface={"jobs": jobs}
    )
    for fmt in ("coco", "yolo_v4", "pascal_voc"):
        with pytest.raises(ExportFormatError) as raised:
            await kili.export_labels(project.id, tmp_path / "x.zip", fmt, layout="merged")
        message = str(raised.value)
        assert fmt in message and "POINT (OBJECT_DETECTION: marker)" in message
        assert isinstance(raised.value, NotImplementedError)
    with pytest.raises(ExportFormatError, match="llm_dynamic_v1"):
        await kili.export_labels(project.id, tmp_path / "x.zip", "llm_dynamic_v1")
    assert not any(tmp_path.iterdir())  # noqa: ASYNC240


async def test_latest_label_is_the_platforms_and_predictions_are_left_out(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]], tmp_path: Path
) -> None:
    project_id, _ = project
    out = tmp_path / "e.zip"
    await kili.export_labels(project_id, out, "kili", with_assets=False)
    got = members(out)
    assert sorted(got) == ["labels/img-1.json", "labels/img-2.json"]
    img2 = json.loads(got["labels/img-2.json"])["latestLabel"]
    assert img2["labelType"] == "REVIEW"  # the later REVIEW label, not the first DEFAULT one
    assert img2["jsonResponse"]["CLASSIF"] == {"categories": [{"name": "A"}]}


async def test_label_type_in_exports_predictions(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]], tmp_path: Path
) -> None:
    project_id, _ = project
    out = tmp_path / "p.zip"
    await kili.export_labels(
        project_id, out, "kili", with_assets=False, label_type_in=["PREDICTION"]
    )
    assert sorted(members(out)) == []  # img-3's latest DEFAULT/REVIEW label: none
    await kili.export_labels(project_id, out, "kili", with_assets=False, label_type_in=["REVIEW"])
    assert sorted(members(out)) == ["labels/img-2.json"]


async def test_export_type_normal_exports_every_label_of_each_asset(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]], tmp_path: Path
) -> None:
    project_id, _ = project
    out = tmp_path / "n.zip"
    await kili.export_labels(project_id, out, "kili", with_assets=False, export_type="normal")
    got = members(out)
    assert sorted(got) == ["labels/img-1.json", "labels/img-2.json"]
    img2 = json.loads(got["labels/img-2.json"])
    assert "latestLabel" not in img2
    assert [label["labelType"] for label in img2["labels"]] == ["DEFAULT", "REVIEW"]
    with zipfile.ZipFile(out) as archive:
        assert "- Exported labels: normal\n" in archive.read("README.kili.txt").decode()
    await kili.export_labels(
        project_id, out, "raw", with_assets=False, export_type="normal", single_file=True,
        label_type_in=["PREDICTION"],
    )  # fmt: skip
    (img3,) = json.loads(members(out)["data.json"])
    assert img3["externalId"] == "img-3"
    assert [label["labelType"] for label in img3["labels"]] == ["PREDICTION"]
    await kili.export_labels(project_id, out, "kili", with_assets=False, export_type="latest")
    assert json.loads(members(out)["labels/img-2.json"])["latestLabel"]["labelType"] == "REVIEW"


@pytest.mark.parametrize(
    ("fmt", "export_type", "message"),
    [
        ("yolo_v8", "normal", "export_type='normal' exports every label of each asset"),
        ("kili", "latest_from_last_step", "'latest_from_last_step' is not supported"),
        ("kili", "everything", "export_type must be one of latest, latest_from_last_step"),
    ],
)
async def test_export_types_aiokili_cannot_write_are_refused_first(
    kili: aiokili.AsyncKili, tmp_path: Path, fmt: str, export_type: str, message: str
) -> None:
    with pytest.raises(KiliInputError, match=message):
        await kili.export_labels("no-request", tmp_path / "x.zip", fmt, export_type=export_type)  # type: ignore[arg-type]
    assert not (tmp_path / "x.zip").exists()


async def test_asset_ids_external_ids_and_asset_filters(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]], tmp_path: Path
) -> None:
    project_id, ids = project
    out = tmp_path / "f.zip"
    await kili.export_labels(project_id, out, "kili", asset_ids=[ids[1]], with_assets=False)
    assert sorted(members(out)) == ["labels/img-2.json"]
    await kili.export_labels(project_id, out, "yolo_v8", external_ids=["img-1"], with_assets=False)
    assert sorted(n for n in members(out) if "/labels/" in n) == [
        "BBOX/labels/img-1.txt", "POLY/labels/img-1.txt", "SEG/labels/img-1.txt",
    ]  # fmt: skip
    await kili.export_labels(
        project_id, out, "kili", with_assets=False,
        asset_filter_kwargs={"external_id_strictly_in": ["img-2"]},
    )  # fmt: skip
    assert sorted(members(out)) == ["labels/img-2.json"]
    with pytest.raises(NotFoundError, match=r"external_ids.*'nope'"):
        await kili.export_labels(project_id, out, "kili", external_ids=["img-1", "nope"])


async def test_include_sent_back_labels(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]], tmp_path: Path
) -> None:
    project_id, ids = project
    await kili.send_back_to_queue(asset_ids=[ids[0]])
    out = tmp_path / "s.zip"
    await kili.export_labels(project_id, out, "kili", with_assets=False)
    assert sorted(members(out)) == ["labels/img-1.json", "labels/img-2.json"]
    sent = json.loads(members(out)["labels/img-1.json"])["latestLabel"]
    assert sent["isSentBackToQueue"] is True
    await kili.export_labels(
        project_id, out, "kili", with_assets=False, include_sent_back_labels=False
    )
    assert sorted(members(out)) == ["labels/img-2.json"]


async def test_with_assets_puts_the_media_in_the_archive(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project_id, _ = await image_project(kili, tmp_path / "media")
    out = tmp_path / "m.zip"
    await kili.export_labels(project_id, out, "kili")
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert {"assets/img-1.png", "assets/img-2.png"} <= names
        assert archive.read("assets/img-1.png") == (tmp_path / "media" / "img-1.png").read_bytes()
        asset = json.loads(archive.read("labels/img-1.json"))
    assert asset["content"] == "assets/img-1.png"
    await kili.export_labels(project_id, out, "coco", layout="merged")
    with zipfile.ZipFile(out) as archive:
        assert {"data/img-1.png", "data/img-2.png"} <= set(archive.namelist())
        coco = json.loads(archive.read("labels.json"))
    assert [i["file_name"] for i in coco["images"]] == ["data/img-1.png", "data/img-2.png"]
    await kili.export_labels(project_id, out, "yolo_v5", layout="merged")
    with zipfile.ZipFile(out) as archive:
        assert {"images/img-1.png", "labels/img-1.txt"} <= set(archive.namelist())
        assert "images/remote_assets.csv" not in archive.namelist()


async def test_coco_annotation_modifier_and_ids_across_pages(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    small = kili.with_options(page_size=1)  # one asset per page: ids must still run on
    project_id, _ = await image_project(small)

    def modifier(annotation: dict[str, Any], image: dict[str, Any], kili_annotation: Any) -> Any:
        return {**annotation, "attributes": {"image": image["id"], "mid": kili_annotation["mid"]}}

    out = tmp_path / "c.zip"
    await small.export_labels(
        project_id, out, "coco", layout="merged", with_assets=False,
        annotation_modifier=modifier,
    )  # fmt: skip
    with zipfile.ZipFile(out) as archive:
        coco = json.loads(archive.read("labels.json"))
    assert [i["id"] for i in coco["images"]] == [0, 1]
    assert [(a["id"], a["image_id"]) for a in coco["annotations"]] == [
        (1, 0), (2, 0), (3, 1), (4, 1),
    ]  # fmt: skip
    assert [a["attributes"] for a in coco["annotations"]] == [
        {"image": 0, "mid": "bbox-1"}, {"image": 0, "mid": "seg-1"},
        {"image": 1, "mid": "bbox-1"}, {"image": 1, "mid": "seg-1"},
    ]  # fmt: skip


async def test_progress_is_reported_per_page(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]], tmp_path: Path
) -> None:
    project_id, _ = project
    seen: list[tuple[int, int]] = []
    await kili.export_labels(
        project_id, tmp_path / "x.zip", "kili", with_assets=False,
        progress=lambda done, total: seen.append((done, total)),
    )  # fmt: skip
    assert seen[-1] == (2, 2)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"fmt": "csv"}, "fmt"),
        ({"layout": "flat"}, "layout"),
        ({"fmt": "yolo_v4", "single_file": True}, "single_file"),
        ({"fmt": "pascal_voc", "layout": "split"}, "layout"),
        ({"fmt": "geojson", "normalized_coordinates": True, "layout": "merged"},
         "normalized_coordinates"),
        ({"fmt": "coco", "normalized_coordinates": True}, "normalized_coordinates"),
        ({"fmt": "yolo_v8", "normalized_coordinates": False}, "normalized_coordinates"),
        ({"filename": None}, "filename"),
        ({"asset_ids": "abc"}, "asset_ids"),
        ({"external_ids": [1]}, "external_ids"),
        ({"label_type_in": ["LATEST"]}, "label_type_in"),
        ({"include_sent_back_labels": "yes"}, "include_sent_back_labels"),
        ({"with_assets": "no"}, "with_assets"),
        ({"asset_filter_kwargs": {"colour": "red"}}, "asset_filter_kwargs"),
        ({"annotation_modifier": 3}, "annotation_modifier"),
        ({"project_id": ""}, "project_id"),
    ],
)  # fmt: skip
async def test_bad_inputs_name_the_argument(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]], tmp_path: Path,
    kwargs: dict[str, Any], argument: str,
) -> None:  # fmt: skip
    project_id, _ = project
    call: dict[str, Any] = {"project_id": project_id, "filename": str(tmp_path / "x.zip"),
                            "fmt": "kili", **kwargs}  # fmt: skip
    with pytest.raises(KiliInputError, match=argument):
        await kili.export_labels(**call)
    assert not (tmp_path / "x.zip").exists()


async def test_unknown_project(kili: aiokili.AsyncKili, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        await kili.export_labels("nope", tmp_path / "x.zip", "kili")
    assert not (tmp_path / "x.zip").exists()


async def test_export_labels_as_df(kili: aiokili.AsyncKili, project: tuple[str, list[str]]) -> None:
    project_id, _ = project
    frame = await kili.export_labels_as_df(project_id)
    assert list(frame.columns) == ["author", "createdAt", "id", "labelType", "asset_externalId"]
    assert set(frame["author"][0]) == {"email", "id"}  # nested, as the official SDK's
    assert sorted(zip(frame["asset_externalId"], frame["labelType"], strict=False)) == [
        ("img-1", "DEFAULT"), ("img-2", "DEFAULT"), ("img-2", "REVIEW"), ("img-3", "PREDICTION"),
    ]  # fmt: skip
    small = await kili.export_labels_as_df(project_id, fields=["labelType"], asset_fields=[])
    assert list(small.columns) == ["labelType"] and len(small) == 4
    with pytest.raises(KiliInputError, match="fields"):
        await kili.export_labels_as_df(project_id, fields="id")
    with pytest.raises(NotFoundError):
        await kili.export_labels_as_df("nope")


async def test_export_labels_as_df_spans_pages_and_checks_fields_first(
    kili: aiokili.AsyncKili,
) -> None:
    """Many pages (of 20 here), in label order; fields checked against the schema before
    any request, asset fields beyond the external id."""
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 45)
    created = await kili.append_labels(asset_id_array=ids, json_response_array=[answer("A")] * 45)
    frame = await kili.export_labels_as_df(
        project_id,
        fields=["id", "jsonResponse", "createdAt", "labelType"],
        asset_fields=["externalId", "content"],
    )
    assert list(frame.columns) == [
        "id",
        "jsonResponse",
        "createdAt",
        "labelType",
        "asset_externalId",
        "asset_content",
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", frame["createdAt"][0])
    assert set(frame["labelType"]) == {"DEFAULT"} and type(frame["labelType"][0]) is str
    assert list(frame["id"]) == created
    assert list(frame["asset_externalId"]) == [f"img-{i:04d}" for i in range(45)]
    assert frame["asset_content"][44] == "https://images.example/44.jpg"
    assert frame["jsonResponse"][0] == answer("A")
    with pytest.raises(KiliInputError, match=r"Unknown field 'labelOf\.contnet'"):
        await kili.export_labels_as_df("no-request-made", asset_fields=["contnet"])


LLM_INTERFACE: dict[str, Any] = {
    "jobs": {
        "PREF": {"mlTask": "CLASSIFICATION", "required": 0, "isChild": False,
                 "content": {"input": "radio", "categories": {"A": {"name": "A"}}}},
        "NOTE": {"mlTask": "TRANSCRIPTION", "required": 0, "isChild": False,
                 "content": {"input": "textField"}},
    }
}  # fmt: skip


async def test_llm_v1_returns_or_writes_the_conversations(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project = await kili.create_project(
        title="llm", input_type="LLM_RLHF", json_interface=LLM_INTERFACE
    )
    conversation = tmp_path / "conv.json"
    conversation.write_text(
        json.dumps({"version": "0.1", "prompts": [
            {"prompt": "Hi?", "completions": [{"content": "Hello"}, {"content": "Hey"}]}]})
    )  # fmt: skip
    result = await kili.append_many_to_dataset(
        project.id, content_array=[conversation], external_id_array=["conv-1"],
        json_metadata_array=[{"chat_id": "c1"}],
    )  # fmt: skip
    await kili.append_labels(
        asset_id_array=result["asset_ids"],
        json_response_array=[{"PREF": {"categories": [{"name": "A"}]}, "NOTE": {"text": "ok"}}],
    )
    got = await kili.export_labels(project.id, None, "llm_v1")
    assert got is not None and len(got) == 1
    item = got[0]
    assert item["external_id"] == "conv-1" and item["status"] == "LABELED"
    assert [(m["role"], m["content"]) for m in item["raw_data"]] == [
        ("user", "Hi?"), ("assistant", "Hello"), ("assistant", "Hey"),
    ]  # fmt: skip
    assert [label["label"] for label in item["labels"]] == [
        {"conversation": {"PREF": ["A"], "NOTE": "ok"}}
    ]
    out = tmp_path / "llm.json"
    assert await kili.export_labels(project.id, str(out), "llm_v1") is None
    assert json.loads(out.read_text()) == normalize_llm(got)


def normalize_llm(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return json.loads(json.dumps(items))


def test_archive_keeps_no_member_index_in_memory(tmp_path: Path) -> None:
    """The zip's member infos go to disk as members complete (memory flat for any count);
    the archive reads back whole, spooled members included, temporary files removed."""
    from aiokili.exports.archive import Archive

    archive = Archive(tmp_path / "a.zip")
    spool = archive.spool("big/data.json")
    for i in range(3000):
        archive.write(f"labels/a{i}.json", json.dumps({"i": i}))
        spool.write(f"{i},")
        assert len(archive._zip.filelist) == 0
    archive.close()
    assert not Path(archive.temp_dir).exists()
    assert not (tmp_path / "a.zip.part").exists()
    with zipfile.ZipFile(tmp_path / "a.zip") as done:
        assert done.testzip() is None
        names = done.namelist()
        assert len(names) == 3000 + 3  # + labels/, big/, big/data.json
        assert json.loads(done.read("labels/a2999.json")) == {"i": 2999}
        assert done.read("big/data.json").decode().startswith("0,1,2,")


def test_a_failed_export_leaves_no_file(tmp_path: Path) -> None:
    from aiokili.exports.archive import Archive

    archive = Archive(tmp_path / "b.zip")
    archive.write("x.txt", "x")
    archive.discard()
    assert list(tmp_path.iterdir()) == []
