"""``aiokili labels export|import`` against the REAL local server, through typer's runner
and once as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
from exports_support import image_project, image_response
from typer.testing import CliRunner, Result

import aiokili
from aiokili.cli import _app
from aiokili.server import LocalServer

T = TypeVar("T")


def env(server: LocalServer) -> dict[str, str]:
    return {"KILI_API_KEY": server.api_key, "KILI_API_ENDPOINT": server.url}


def cli(server: LocalServer, *args: str) -> Result:
    return CliRunner().invoke(_app(), list(args), env=env(server))


def sdk(server: LocalServer, work: Callable[[aiokili.AsyncKili], Awaitable[T]]) -> T:
    async def go() -> T:
        async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
            return await work(kili)

    return anyio.run(go)


def test_export_writes_the_archive_with_a_progress_bar(
    local_server: LocalServer, tmp_path: Path
) -> None:
    project_id, _ = sdk(local_server, image_project)
    out = tmp_path / "e.zip"
    result = cli(local_server, "labels", "export", project_id, "--format", "yolo_v8",
                 "--output", str(out), "--layout", "merged")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Exported 2 asset(s) of {project_id} to {out} (yolo_v8)." in result.stdout
    assert "Exporting" in result.stderr and "2/2" in result.stderr
    with zipfile.ZipFile(out) as archive:
        assert {"data.yaml", "labels/img-1.txt", "labels/img-2.txt"} <= set(archive.namelist())
    quiet = CliRunner().invoke(
        _app(),
        ["-q", "labels", "export", project_id, "-f", "kili", "-o", str(out), "--single-file",
         "--json"],
        env=env(local_server),
    )  # fmt: skip
    assert quiet.exit_code == 0, quiet.output
    assert json.loads(quiet.stdout) == {"output": str(out), "format": "kili", "assets": 2}
    assert quiet.stderr == ""
    with zipfile.ZipFile(out) as archive:
        assert len(json.loads(archive.read("data.json"))) == 2


def test_export_errors_are_one_line_with_exit_codes(
    local_server: LocalServer, tmp_path: Path
) -> None:
    project_id, _ = sdk(local_server, image_project)
    out = str(tmp_path / "e.zip")
    bad = cli(local_server, "labels", "export", project_id, "-f", "csv", "-o", out)
    assert bad.exit_code == 2
    assert "Error: --format must be one of" in bad.stderr
    layout = cli(local_server, "labels", "export", project_id, "-f", "pascal_voc", "-o", out)
    assert layout.exit_code == 2 and "--layout='merged'" in layout.stderr
    missing = cli(local_server, "labels", "export", "nope", "-f", "kili", "-o", out)
    assert missing.exit_code == 4 and "nope" in missing.stderr
    assert not Path(out).exists()


def test_import_json_and_jsonl_by_external_or_asset_id(
    local_server: LocalServer, tmp_path: Path
) -> None:
    project_id, ids = sdk(local_server, image_project)
    jsonl = tmp_path / "labels.jsonl"
    jsonl.write_text(
        "\n".join(
            json.dumps({"external_id": e, "json_response": image_response("B")})
            for e in ("img-3", "img-4")
        )
    )
    result = cli(local_server, "labels", "import", project_id, str(jsonl))
    assert result.exit_code == 0, result.output
    assert f"Imported 2 label(s) into {project_id}." in result.stdout
    assert "Importing" in result.stderr
    array = tmp_path / "labels.json"
    array.write_text(json.dumps([{"asset_id": ids[0], "json_response": image_response("B")}]))
    result = cli(local_server, "labels", "import", project_id, str(array), "--json",
                 "--label-type", "REVIEW")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 1

    async def latest(kili: aiokili.AsyncKili) -> list[tuple[str, Any]]:
        labels = await kili.labels(project_id, type_in=["DEFAULT", "REVIEW"])
        return sorted((str(x.label_type.value), x.label_of.external_id) for x in labels)  # type: ignore[union-attr]

    got = sdk(local_server, latest)
    assert ("DEFAULT", "img-3") in got and ("DEFAULT", "img-4") in got
    assert ("REVIEW", "img-1") in got


def test_import_bad_files_exit_2(local_server: LocalServer, tmp_path: Path) -> None:
    project_id, _ = sdk(local_server, image_project)
    cases = {
        "not json {": "not JSON or JSONL",
        json.dumps([{"external_id": "img-1"}]): "label 1 has no json_response",
        json.dumps([{"json_response": {}}]): "exactly one of external_id, asset_id",
        json.dumps([{"external_id": "a", "json_response": {}},
                    {"asset_id": "b", "json_response": {}}]): "for every label",
    }  # fmt: skip
    for text, message in cases.items():
        path = tmp_path / "bad.json"
        path.write_text(text)
        result = cli(local_server, "labels", "import", project_id, str(path))
        assert result.exit_code == 2, (text, result.output)
        assert message in result.stderr
    missing = cli(local_server, "labels", "import", project_id, str(tmp_path / "none.json"))
    assert missing.exit_code == 2 and "cannot read it" in missing.stderr


def test_export_as_a_real_subprocess(local_server: LocalServer, tmp_path: Path) -> None:
    project_id, _ = sdk(local_server, image_project)
    out = tmp_path / "c.zip"
    proc = subprocess.run(
        [sys.executable, "-m", "aiokili.cli", "-q", "labels", "export", project_id, "-f", "coco",
         "-o", str(out), "--layout", "merged", "--json"],
        env={**os.environ, **env(local_server)}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["assets"] == 2
    with zipfile.ZipFile(out) as archive:
        coco = json.loads(archive.read("labels.json"))
    assert len(coco["images"]) == 2 and len(coco["annotations"]) == 4
