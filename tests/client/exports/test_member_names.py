"""Archive member names made from external ids: safe, bounded, unique, and mapped back."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from exports_support import IMAGE_INTERFACE, image_response, png

import aiokili
from aiokili._core.names import MAX_NAME, MemberNames

pytestmark = pytest.mark.anyio
EXTERNAL_IDS = [
    "a b", "a_b", "../../evil", "/etc/passwd", "back\\slash", "x" * 300, "A", "a", ".hidden",
    "..", "é",
]  # fmt: skip


def _safe(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        not path.is_absolute()
        and "\\" not in name
        and ".." not in path.parts
        and all(not part.startswith(".") and len(part) <= MAX_NAME + 20 for part in path.parts)
    )


@pytest.mark.parametrize(("fmt", "layout"), [("kili", "split"), ("yolo_v8", "merged"),
                                             ("pascal_voc", "merged")])  # fmt: skip
async def test_members_named_by_external_ids_are_safe_unique_and_mapped(
    kili: aiokili.AsyncKili, tmp_path: Path, fmt: str, layout: str
) -> None:
    project = await kili.create_project(
        title="names", input_type="IMAGE", json_interface=IMAGE_INTERFACE
    )
    files = []
    for number in range(len(EXTERNAL_IDS)):
        files.append(tmp_path / f"{number}.png")
        files[-1].write_bytes(png(20, 10))
    created = await kili.append_many_to_dataset(
        project.id, content_array=files, external_id_array=EXTERNAL_IDS
    )
    await kili.append_labels(
        asset_id_array=created["asset_ids"],
        json_response_array=[image_response("A")] * len(EXTERNAL_IDS),
    )
    target = tmp_path / "export.zip"
    await kili.export_labels(project.id, target, fmt, layout=layout, with_assets=True)
    with zipfile.ZipFile(target) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        mapping = json.loads(archive.read("external_ids.json"))
    assert all(_safe(name) for name in names), names
    labels = [PurePosixPath(n) for n in names if PurePosixPath(n).parent.name == "labels"]
    stems = [p.stem for p in labels if p.suffix in (".json", ".txt", ".xml")]
    assert len(stems) == len(set(stems)) == len(EXTERNAL_IDS)  # one each: none collided
    assert len({s.casefold() for s in stems}) == len(stems)  # not even on macOS / Windows
    back = {mapping.get(stem, stem) for stem in stems}
    assert back == set(EXTERNAL_IDS)  # the mapping gives each file's external id
    assert "a_b" in stems and mapping.get("a_b") is None  # a safe id keeps its name
    media = [PurePosixPath(n).stem for n in names if n.endswith(".png")]
    assert sorted(media) == sorted(stems)  # the media files have the labels' names


def test_the_same_id_has_the_same_name_and_names_are_bounded() -> None:
    names = MemberNames()
    first = names.name("a b")
    assert names.name("a b") == first and first.startswith("a_b-")
    assert names.name("a_b") == "a_b"
    assert len(names.name("y" * 1000)) <= MAX_NAME + 11
    assert names.name("Y") == "Y" and names.name("y") != "y"  # case-insensitive file systems


async def test_downloaded_media_get_safe_distinct_names(
    kili: aiokili.AsyncKili, tmp_path: Path
) -> None:
    project = await kili.create_project(
        title="media names", input_type="IMAGE", json_interface=IMAGE_INTERFACE
    )
    ids = ["a b", "a_b", ".."]
    files = [tmp_path / f"{n}.png" for n in range(len(ids))]
    for file in files:
        file.write_bytes(png(20, 10))
    await kili.append_many_to_dataset(project.id, content_array=files, external_id_array=ids)
    out = tmp_path / "media"
    assets = await kili.assets(project.id, download_media=True, local_media_dir=out)
    paths = {Path(str(a.content)) for a in assets}
    assert len(paths) == 3 and all(p.parent == out.resolve() for p in paths)  # before: 2
