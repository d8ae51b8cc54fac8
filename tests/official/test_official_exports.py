"""The unmodified official SDK (26.2.4) exports a project aiokili made, through the local
server; its archives have the same members, with the same content, as aiokili's: kili (split
and single file), COCO (merged and split), YOLO v8 split, YOLO v4 merged and Pascal VOC,
without and with media. COCO info (its date) and README (the export date) are left out."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from exports_support import image_project, normalize
from official_support import official_python, run_official

import aiokili
from aiokili.server import LocalServer

__all__ = ["official_python"]  # the fixture, shared with test_official_sdk

CASES = [
    ("kili", "kili", "split", False),
    ("kili_single", "kili", "split", True),
    ("coco", "coco", "merged", False),
    ("coco_split", "coco", "split", False),
    ("yolo_v8", "yolo_v8", "split", False),
    ("yolo_v4_merged", "yolo_v4", "merged", False),
    ("voc", "pascal_voc", "merged", False),
]


def coco_path(into: Path) -> str:
    """Links to this environment's numpy and shapely (same CPython), for the official SDK's
    COCO export: its venv has kili without the ``coco`` extra."""
    import numpy
    import shapely

    into.mkdir()
    for module in (numpy, shapely):
        folder = Path(str(module.__file__)).parent
        for item in folder.parent.glob(f"{folder.name}*"):
            if not item.name.endswith(".dist-info"):
                (into / item.name).symlink_to(item)
    return str(into)


def contents(path: Path) -> dict[str, Any]:
    """Files of the archive (no folders, no README: its date differs), JSON parsed and
    normalized (ids, dates); COCO's ``info`` left out (its date)."""
    out: dict[str, Any] = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith("/") or name == "README.kili.txt":
                continue
            raw = archive.read(name)
            if name.endswith(".json"):
                value = normalize(json.loads(raw))
                if isinstance(value, dict):
                    value.pop("info", None)
                out[name] = value
            elif name.startswith(("labels/", "BBOX/", "POLY/", "SEG/")) and name.endswith(".txt"):
                out[name] = sorted(raw.decode().splitlines())  # the official's job order: a set
            else:
                out[name] = raw
    return out


@pytest.fixture(scope="module", params=[False, True], ids=["without media", "with media"])
def archives(
    request: pytest.FixtureRequest,
    official_python: Path,
    local_server: LocalServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, str]]:
    """One project exported in every case by aiokili (the folder of ``<case>.zip``) and by the
    official SDK (the archive of each case), once per module for each ``with_assets``."""
    with_assets: bool = request.param
    tmp_path = tmp_path_factory.mktemp("media" if with_assets else "no_media")

    async def make() -> str:
        async with aiokili.AsyncKili(
            api_key=local_server.api_key, api_endpoint=local_server.url
        ) as kili:
            media = tmp_path / "media" if with_assets else None
            project_id, _ = await image_project(kili, media)
            for name, fmt, layout, single_file in CASES:
                await kili.export_labels(
                    project_id, tmp_path / "ours" / f"{name}.zip", fmt,  # type: ignore[arg-type]
                    layout=layout, single_file=single_file,  # type: ignore[arg-type]
                    with_assets=with_assets,
                )  # fmt: skip
            return project_id

    project_id = anyio.run(make)
    (tmp_path / "export-args.json").write_text(
        json.dumps(
            {
                "project_id": project_id,
                "cases": CASES,
                "with_assets": with_assets,
                "extra_path": coco_path(tmp_path / "coco-path"),
            }
        )
    )
    theirs = run_official(official_python, "exports_methods.py", local_server, tmp_path)
    return tmp_path / "ours", theirs


def test_both_export_every_case(archives: tuple[Path, dict[str, str]]) -> None:
    ours, theirs = archives
    names = [name for name, *_ in CASES]
    assert sorted(path.stem for path in ours.glob("*.zip")) == sorted(names)
    assert set(names) <= set(theirs)


@pytest.mark.parametrize("case", [name for name, *_ in CASES])
def test_the_official_archive_matches_ours(
    archives: tuple[Path, dict[str, str]], case: str
) -> None:
    ours_dir, theirs = archives
    ours = contents(ours_dir / f"{case}.zip")
    official = contents(Path(theirs[case]))
    assert sorted(ours) == sorted(official), case
    for member in ours:
        assert ours[member] == official[member], (case, member)
