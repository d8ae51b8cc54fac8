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
import pytest
import respx
from exports_support import image_project, image_response
from support import answer, import_images, new_project
from typer.testing import CliRunner, Result

import aiokili
from aiokili.cli import _app
from aiokili.cli import labels as labels_cli
from aiokili.errors import APIConnectionError, BulkOperationError, ItemFailure
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


def test_a_failing_export_says_why_before_any_progress_bar(
    local_server: LocalServer, tmp_path: Path
) -> None:
    out = str(tmp_path / "e.zip")
    missing = cli(local_server, "labels", "export", "no-such-project", "-f", "kili", "-o", out)
    assert missing.exit_code == 4
    assert missing.stderr.strip().splitlines() == [
        'Error: Project "no-such-project" not found.',
        "Hint: `aiokili projects list` shows the projects.",
    ]  # no "Exporting 0/?" bar, before nor after


def test_a_failed_media_download_is_one_error_line(
    local_server: LocalServer, tmp_path: Path
) -> None:
    project_id, _ = sdk(local_server, image_project)  # media URLs at images.example
    out = tmp_path / "e.zip"
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.get(url__startswith="https://images.example/").respond(404)
        router.route().pass_through()
        result = cli(local_server, "labels", "export", project_id, "-f", "kili", "-o", str(out),
                     "--with-assets")  # fmt: skip
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr and "ExceptionGroup" not in result.stderr
    assert result.stderr.strip().splitlines()[0].startswith("Error: Downloading the media")
    assert "HTTP 404" in result.stderr and not out.exists()


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


# ----------------------------------------------------------- import: checked first, resumable


def assets_project(server: LocalServer, n: int) -> tuple[str, list[str]]:
    """A new project with ``n`` assets img-0000...: its id and the asset ids."""

    async def work(kili: aiokili.AsyncKili) -> tuple[str, list[str]]:
        project_id = await new_project(kili)
        return project_id, await import_images(kili, project_id, n)

    return sdk(server, work)


def write_labels(
    path: Path, keys: list[str], key: str = "external_id", category: str = "A"
) -> Path:
    path.write_text("".join(json.dumps({key: k, "json_response": answer(category)}) + "\n"
                            for k in keys))  # fmt: skip
    return path


def labels_per_asset(server: LocalServer, project_id: str) -> dict[str, int]:
    """How many labels each asset has (by external id)."""

    async def work(kili: aiokili.AsyncKili) -> dict[str, int]:
        found: dict[str, int] = {}
        async for label in kili.labels(project_id, fields=["labelOf.externalId"]):
            assert label.label_of is not None
            found[label.label_of.external_id or ""] = (
                found.get(label.label_of.external_id or "", 0) + 1
            )
        return found

    return sdk(server, work)


def test_import_finds_every_asset_before_writing_anything(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent in batches of 5, the 11th label's unknown external id used to be found after
    10 labels were written, and the message said "Nothing was written."."""
    monkeypatch.setattr(labels_cli, "IMPORT_CHUNK", 5)
    project_id, ids = assets_project(local_server, 10)
    keys = [f"img-{i:04d}" for i in range(10)]
    source = write_labels(tmp_path / "labels.jsonl", [*keys, "unknown"])
    result = cli(local_server, "labels", "import", project_id, str(source))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[0] == (
        f"Error: FILE {source}: 1 of 11 labels name an external id that project {project_id} "
        "does not have: 'unknown' (label 11). Nothing was written."
    )
    assert result.stderr.splitlines()[1] == (
        "Hint: fix them, or import those assets first (`aiokili assets import`); "
        f"`aiokili assets list {project_id}` shows the project's assets."
    )
    assert "Importing" not in result.stderr  # no progress bar: nothing was sent
    assert labels_per_asset(local_server, project_id) == {}

    by_id = write_labels(tmp_path / "ids.jsonl", [*ids[:7], "no-such-asset"], key="asset_id")
    result = cli(local_server, "labels", "import", project_id, str(by_id))
    assert result.exit_code == 2, result.output
    assert "1 of 8 labels name an asset id that project" in result.stderr
    assert "'no-such-asset' (label 8). Nothing was written." in result.stderr
    assert labels_per_asset(local_server, project_id) == {}

    unknown = cli(local_server, "labels", "import", "no-such-project", str(source))
    assert unknown.exit_code == 4, unknown.output
    assert "no-such-project" in unknown.stderr
    assert "Hint: `aiokili projects list` shows the projects." in unknown.stderr
    bad_type = cli(local_server, "labels", "import", project_id, str(source), "--label-type", "X")
    assert bad_type.exit_code == 2
    assert bad_type.stderr.startswith(
        "Error: --label-type 'X' is not a label type: use one of AUTOSAVE, DEFAULT, "
        "INFERENCE, PREDICTION, REVIEW."
    )


def test_running_an_import_again_writes_only_what_is_missing(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-running a file used to append every label again (6,000 labels for 3,000 assets)."""
    monkeypatch.setattr(labels_cli, "IMPORT_CHUNK", 5)
    project_id, _ = assets_project(local_server, 13)
    keys = [f"img-{i:04d}" for i in range(13)]
    source = write_labels(tmp_path / "labels.jsonl", keys[:10])
    first = cli(local_server, "labels", "import", project_id, str(source))
    assert first.exit_code == 0, first.output
    assert f"Imported 10 label(s) into {project_id}." in first.stdout

    again = cli(local_server, "labels", "import", project_id, str(source), "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == {
        "total": 10, "already_present": 10, "created": 0, "label_ids": [], "failed": [],
    }  # fmt: skip
    human = cli(local_server, "labels", "import", project_id, str(source))
    assert human.stdout.strip() == (
        f"Nothing to import: all 10 labels are already in project {project_id}."
    )
    assert labels_per_asset(local_server, project_id) == dict.fromkeys(keys[:10], 1)

    # 3 new assets, and another answer on img-0000: 4 labels are missing
    grown = tmp_path / "grown.jsonl"
    grown.write_text(source.read_text() + "".join(
        json.dumps({"external_id": k, "json_response": answer("B" if k == keys[0] else "A")})
        + "\n" for k in [keys[0], *keys[10:]]
    ))  # fmt: skip
    more = cli(local_server, "labels", "import", project_id, str(grown))
    assert more.exit_code == 0, more.output
    assert "10 of 14 labels are already in the project: importing the others." in more.stderr
    assert f"Imported 4 label(s) into {project_id} (10 were already there)." in more.stdout
    assert labels_per_asset(local_server, project_id) == {**dict.fromkeys(keys, 1), keys[0]: 2}

    # another label type, or another model's predictions, are other labels
    review = cli(local_server, "labels", "import", project_id, str(source), "--label-type",
                 "REVIEW", "--json")  # fmt: skip
    assert json.loads(review.stdout)["created"] == 10
    for model in ("m1", "m1", "m2"):
        cli(local_server, "labels", "import", project_id, str(source), "--label-type",
            "PREDICTION", "--model-name", model)  # fmt: skip

    async def predictions(kili: aiokili.AsyncKili) -> list[str | None]:
        return sorted(p.model_name for p in await kili.predictions(project_id))

    assert sdk(local_server, predictions) == ["m1"] * 10 + ["m2"] * 10


def test_an_interrupted_import_says_what_was_written_and_finishes_when_run_again(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(labels_cli, "IMPORT_CHUNK", 5)
    project_id, _ = assets_project(local_server, 15)
    keys = [f"img-{i:04d}" for i in range(15)]
    source = write_labels(tmp_path / "labels.jsonl", keys)
    real = aiokili.AsyncKili.append_labels
    calls = 0

    async def interrupted(self: aiokili.AsyncKili, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt  # Ctrl-C while the third batch is being sent
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(aiokili.AsyncKili, "append_labels", interrupted)
    first = cli(local_server, "labels", "import", project_id, str(source))
    assert first.exit_code == 130, first.output
    assert first.stderr.strip().splitlines()[-1] == (
        "10 labels were written before this, and up to 5 of the batch being sent; run the "
        "same command again: only the missing labels are imported."
    )
    assert sum(labels_per_asset(local_server, project_id).values()) == 10

    monkeypatch.setattr(aiokili.AsyncKili, "append_labels", real)
    second = cli(local_server, "labels", "import", project_id, str(source))
    assert second.exit_code == 0, second.output
    assert f"Imported 5 label(s) into {project_id} (10 were already there)." in second.stdout
    assert labels_per_asset(local_server, project_id) == dict.fromkeys(keys, 1)


def test_a_failed_import_says_exactly_how_many_labels_were_written(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failed labels are listed by where they are in the file; the count written is exact."""
    monkeypatch.setattr(labels_cli, "IMPORT_CHUNK", 4)
    project_id, _ = assets_project(local_server, 8)
    keys = [f"img-{i:04d}" for i in range(8)]
    source = write_labels(tmp_path / "labels.jsonl", keys)
    real = aiokili.AsyncKili.append_labels

    async def partly(self: aiokili.AsyncKili, **kwargs: Any) -> Any:
        """Every label but those of the third and sixth lines is written."""
        responses = kwargs.pop("json_response_array")
        assets = kwargs.pop("asset_id_array")
        external = await self.assets(project_id, asset_id_in=assets, fields=["externalId"])
        names = {a.id: a.external_id for a in external}
        bad = [i for i, a in enumerate(assets) if names[a] in (keys[2], keys[5])]
        good = [i for i in range(len(assets)) if i not in bad]
        done = await real(self, asset_id_array=[assets[i] for i in good],
                          json_response_array=[responses[i] for i in good],
                          **kwargs) if good else []  # fmt: skip
        failures = [ItemFailure(i, assets[i], ValueError("refused")) for i in bad]
        raise BulkOperationError("append_labels", failures, done)

    monkeypatch.setattr(aiokili.AsyncKili, "append_labels", partly)
    result = cli(local_server, "labels", "import", project_id, str(source))
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert "Error: 2 of 8 labels failed to import (6 written, 0 already in the project)." in lines
    assert "  label 3 (img-0002): refused" in lines and "  label 6 (img-0005): refused" in lines
    assert lines[-1] == (
        "Hint: Fix them and run the same command again: only the missing labels are imported."
    )
    as_json = cli(local_server, "labels", "import", project_id, str(source), "--json")
    summary = json.loads(as_json.stdout)
    assert (summary["already_present"], summary["created"]) == (6, 0)
    assert summary["failed"] == [
        {"where": "label 3", "external_id": "img-0002", "error": "refused"},
        {"where": "label 6", "external_id": "img-0005", "error": "refused"},
    ]

    async def unreachable(self: aiokili.AsyncKili, **kwargs: Any) -> Any:
        down = APIConnectionError("Could not connect to the Kili API.")
        failures = [ItemFailure(i, a, down) for i, a in enumerate(kwargs["asset_id_array"])]
        raise BulkOperationError("append_labels", failures, [])

    monkeypatch.setattr(aiokili.AsyncKili, "append_labels", unreachable)
    down = cli(local_server, "labels", "import", project_id, str(source))
    assert down.exit_code == 1, down.output
    assert down.stderr.strip().splitlines()[-1] == "Nothing was written."
    monkeypatch.setattr(aiokili.AsyncKili, "append_labels", real)
    fixed = cli(local_server, "labels", "import", project_id, str(source))
    assert f"Imported 2 label(s) into {project_id} (6 were already there)." in fixed.stdout
    assert labels_per_asset(local_server, project_id) == dict.fromkeys(keys, 1)
