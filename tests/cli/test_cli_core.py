"""``aiokili projects ...``, ``aiokili assets ...``, ``--version``, ``python -m aiokili`` and
``-v`` logging, against the REAL local server.

Through typer's CliRunner (sync tests: the in-process server runs on its own thread), and
``python -m aiokili projects list --json`` as a real subprocess. respx only for the logging
test (a 503 the local server does not produce on demand).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
import pytest
import respx
from support import INTERFACE, new_project
from typer.testing import CliRunner, Result

import aiokili
from aiokili._core import constants as _constants
from aiokili._core import http as _http
from aiokili.cli import _app, projects
from aiokili.errors import BulkOperationError, ItemFailure, KiliInputError
from aiokili.server import LocalServer

T = TypeVar("T")


def env(server: LocalServer) -> dict[str, str]:
    return {"KILI_API_KEY": server.api_key, "KILI_API_ENDPOINT": server.url}


def cli(server: LocalServer, *args: str, input: str | None = None) -> Result:
    """``aiokili ARGS`` through typer's runner, connected to ``server`` by the environment."""
    return CliRunner().invoke(_app(), list(args), env=env(server), input=input)


def sdk(server: LocalServer, work: Callable[[aiokili.AsyncKili], Awaitable[T]]) -> T:
    async def go() -> T:
        async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
            return await work(kili)

    return anyio.run(go)


def project(server: LocalServer, input_type: str = "IMAGE") -> str:
    return sdk(server, lambda kili: new_project(kili, input_type))


def external_ids(server: LocalServer, project_id: str) -> list[str]:
    async def work(kili: aiokili.AsyncKili) -> list[str]:
        found = await kili.assets(project_id, fields=["externalId"])
        return [a.external_id or "" for a in found]

    return sdk(server, work)


def one_error(result: Result) -> str:
    """The one ``Error:`` line on stderr (after the progress bar, if any; no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.output, result.output
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, lines
    return errors[0]


def write_csv(path: Path, lines: Sequence[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ projects


def test_projects_create_list_and_delete(local_server: LocalServer, tmp_path: Path) -> None:
    interface = tmp_path / "interface.json"
    interface.write_text(json.dumps(INTERFACE))
    created = cli(local_server, "projects", "create", "--title", "cli cats", "--input-type",
                  "IMAGE", "--interface", str(interface), "--description", "from the CLI")  # fmt: skip
    assert created.exit_code == 0, created.output
    assert created.stdout.startswith('Project "cli cats" created: ')
    first = created.stdout.split(": ")[-1].strip()
    quiet = cli(local_server, "-q", "projects", "create", "-t", "cli dogs", "-i", "TEXT",
                "--interface", json.dumps(INTERFACE))  # fmt: skip
    second = quiet.stdout.strip()
    assert quiet.exit_code == 0 and len(second) > 10 and "\n" not in second
    as_json = cli(local_server, "projects", "create", "-t", "cli birds", "-i", "PDF",
                  "--interface", json.dumps(INTERFACE), "--json")  # fmt: skip
    third = json.loads(as_json.stdout)
    assert (third["title"], third["inputType"], third["jsonInterface"]) == (
        "cli birds", "PDF", INTERFACE,
    )  # fmt: skip

    listed = cli(local_server, "projects", "list", "--json")
    assert listed.exit_code == 0, listed.output
    by_id = {p["id"]: p for p in json.loads(listed.stdout)}
    assert by_id[first]["title"] == "cli cats" and by_id[first]["description"] == "from the CLI"
    assert by_id[second]["inputType"] == "TEXT" and "roles" in by_id[second]
    table = cli(local_server, "projects", "list")
    assert table.exit_code == 0 and "cli cats" in table.stdout and first in table.stdout
    assert "inputType" in table.stdout
    ids = cli(local_server, "-q", "projects", "list", "--search", "cli %o%s")
    assert set(ids.stdout.split()) == {second}  # 'cli dogs', not 'cli cats' nor 'cli birds'
    ids = cli(local_server, "-q", "projects", "list", "--search", "cli %s")
    assert {first, second, third["id"]} <= set(ids.stdout.split())
    narrowed = cli(local_server, "projects", "list", "--json", "-f", "id,title", "--first", "1")
    (only,) = json.loads(narrowed.stdout)
    assert set(only) == {"id", "title"}
    custom = cli(local_server, "projects", "list", "-f", "title", "-f", "steps.name")
    assert "steps.name" in custom.stdout and '["Labeling", "Review"]' in custom.stdout

    refused = cli(local_server, "projects", "delete", first)  # no terminal to ask on
    assert refused.exit_code == 2
    assert "without confirmation" in one_error(refused) and "--yes" in refused.stderr
    deleted = cli(local_server, "projects", "delete", first, "--yes")
    assert deleted.exit_code == 0, deleted.output
    assert f'Project "cli cats" ({first}) deleted.' in deleted.stdout
    again = cli(local_server, "projects", "delete", first, "--yes")
    assert again.exit_code == 4 and first in one_error(again)
    assert "Hint: `aiokili projects list`" in again.stderr
    assert first not in cli(local_server, "-q", "projects", "list").stdout


def test_projects_delete_asks_on_a_terminal(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projects, "_can_ask", lambda: True)
    project_id = project(local_server)
    kept = cli(local_server, "projects", "delete", project_id, input="n\n")
    assert kept.exit_code == 1 and "you said no" in one_error(kept)
    assert "with all its assets and labels? [y/N]" in kept.stdout
    deleted = cli(local_server, "projects", "delete", project_id, input="y\n")
    assert deleted.exit_code == 0 and "deleted." in deleted.stdout
    assert sdk(local_server, lambda kili: kili.count_projects(project_id=project_id)) == 0


@pytest.mark.parametrize(
    ("interface", "message"),
    [
        ("not json", "--interface 'not json' is neither a file nor JSON text."),
        ("{jobs", "--interface: the JSON text is not valid JSON"),
        ('{"jobz": {}}', '--interface: the JSON text must be a JSON object with a "jobs" object.'),
        ("[1]", '--interface: the JSON text must be a JSON object with a "jobs" object.'),
    ],
)
def test_projects_create_rejects_a_bad_interface(
    local_server: LocalServer, interface: str, message: str
) -> None:
    before = sdk(local_server, lambda kili: kili.count_projects())
    result = cli(local_server, "projects", "create", "-t", "x", "-i", "IMAGE",
                 "--interface", interface)  # fmt: skip
    assert result.exit_code == 2
    assert one_error(result) == f"Error: {message}" or message in one_error(result)
    assert sdk(local_server, lambda kili: kili.count_projects()) == before


def test_projects_create_usage_errors(local_server: LocalServer) -> None:
    bad_type = cli(local_server, "projects", "create", "-t", "x", "-i", "PICTURE",
                   "--interface", "{}")  # fmt: skip
    assert bad_type.exit_code == 2 and "--input-type" in bad_type.stderr
    assert "IMAGE" in bad_type.stderr  # the choices are listed
    no_title = cli(local_server, "projects", "create", "-i", "IMAGE", "--interface", "{}")
    assert no_title.exit_code == 2 and "--title" in no_title.stderr
    blank = cli(local_server, "projects", "create", "-t", " ", "-i", "IMAGE",
                "--interface", json.dumps(INTERFACE))  # fmt: skip
    assert blank.exit_code == 2 and "--title must be a non-empty string" in one_error(blank)
    unknown = cli(local_server, "projects", "list", "-f", "id,nope")
    assert unknown.exit_code == 2 and "Unknown field 'nope' in --fields" in one_error(unknown)


def test_messages_are_about_the_cli(local_server: LocalServer) -> None:
    """Hints name the command that ran; no message advises a Python call."""
    blank = cli(local_server, "projects", "create", "-t", " ", "-i", "IMAGE",
                "--interface", json.dumps(INTERFACE))  # fmt: skip
    assert blank.stderr.strip().splitlines() == [
        "Error: --title must be a non-empty string, got ' '.",
        "Hint: `aiokili projects create --help` shows the arguments.",
    ]
    unknown = cli(local_server, "projects", "delete", "no-such-project", "--yes")
    assert unknown.stderr.strip().splitlines() == [
        'Error: Project "no-such-project" not found.',
        "Hint: `aiokili projects list` shows the projects.",
    ]
    fields = cli(local_server, "projects", "list", "-f", "nope")
    assert one_error(fields).startswith(
        "Error: Unknown field 'nope' in --fields. Fields available here: archived,"
    )
    assert fields.stderr.strip().splitlines()[-1] == (
        "Hint: `aiokili projects list --help` shows the arguments."
    )
    for result in (blank, unknown, fields):
        assert "COMMAND" not in result.stderr and "()" not in result.stderr


# ---------------------------------------------------------------------------- assets import


def test_import_a_folder_then_again_imports_nothing(
    local_server: LocalServer, tmp_path: Path
) -> None:
    project_id = project(local_server)
    folder = tmp_path / "images"
    for name in ("a.jpg", "b.png", "sub/c.jpg", "sub/deeper/d.jpg", ".hidden.jpg", ".git/x"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"image " + name.encode())
    result = cli(local_server, "assets", "import", project_id, str(folder))
    assert result.exit_code == 0, result.output
    assert f"Imported 4 assets into project {project_id}." in result.stdout
    assert "Importing" in result.stderr and "4/4" in result.stderr
    assert "assets/s" in result.stderr and "ETA" in result.stderr  # rate and time left
    assert sorted(external_ids(local_server, project_id)) == [
        "a.jpg", "b.png", "sub/c.jpg", "sub/deeper/d.jpg",
    ]  # fmt: skip

    again = cli(local_server, "assets", "import", project_id, str(folder), "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == {
        "projectId": project_id, "source": str(folder), "total": 4, "alreadyPresent": 4,
        "imported": 0, "failed": [],
    }  # fmt: skip
    quiet = cli(local_server, "assets", "import", project_id, str(folder), "--quiet")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    human = cli(local_server, "assets", "import", project_id, str(folder))
    assert f"Nothing to import: all 4 assets are already in project {project_id}." in human.stdout
    assert len(external_ids(local_server, project_id)) == 4

    async def contents(kili: aiokili.AsyncKili) -> bytes:
        (asset,) = await kili.assets(project_id, external_id_in=["sub/c.jpg"])
        async with httpx.AsyncClient() as http:
            got = await http.get(
                asset.content or "", headers={"Authorization": f"X-API-Key: {local_server.api_key}"}
            )
        return got.content

    assert sdk(local_server, contents) == b"image sub/c.jpg"


def test_import_csv_and_jsonl_with_metadata(local_server: LocalServer, tmp_path: Path) -> None:
    images = project(local_server)
    (tmp_path / "local.jpg").write_bytes(b"local image")
    csv_file = write_csv(tmp_path / "assets.csv", [
        "url,external_id,json_metadata",
        'https://images.example/1.jpg,one,"{""split"": ""train"", ""n"": 1}"',
        "https://images.example/2.jpg,two,",
        "",
    ])  # fmt: skip
    result = cli(local_server, "assets", "import", images, str(csv_file), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["imported"] == 2
    tsv = write_csv(tmp_path / "more.tsv", ["content\texternalId", "local.jpg\tthree"])
    result = cli(local_server, "assets", "import", images, str(tsv))
    assert result.exit_code == 0, result.output

    async def check(kili: aiokili.AsyncKili) -> dict[str, Any]:
        return {a.external_id: a for a in await kili.assets(images)}

    found = sdk(local_server, check)
    assert found["one"].json_metadata == {"split": "train", "n": 1}
    assert found["one"].content == "https://images.example/1.jpg"
    assert found["two"].json_metadata in ({}, None)
    assert "/files?" in (found["three"].content or "")  # the local file was uploaded

    texts = project(local_server, "TEXT")
    jsonl = tmp_path / "texts.jsonl"
    jsonl.write_text(
        json.dumps({"text": "first review", "external_id": "r1", "json_metadata": {"stars": 5}})
        + "\n\n"
        + json.dumps({"text": "second review", "external_id": "r2"})
        + "\n"
    )
    result = cli(local_server, "assets", "import", texts, str(jsonl))
    assert result.exit_code == 0, result.output
    assert f"Imported 2 assets into project {texts}." in result.stdout
    listed = cli(local_server, "assets", "list", texts, "--json", "-f", "externalId,jsonMetadata")
    assert [(a["externalId"], a["jsonMetadata"]) for a in json.loads(listed.stdout)] == [
        ("r1", {"stars": 5}), ("r2", {}),
    ]  # fmt: skip


def test_an_interrupted_import_is_finished_by_running_it_again(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project_id = project(local_server)
    rows = [f"https://images.example/{i}.jpg,img-{i:03d}" for i in range(50)]
    source = write_csv(tmp_path / "fifty.csv", ["url,external_id", *rows])
    real = aiokili.AsyncKili.append_many_to_dataset
    calls = 0

    async def interrupted(self: aiokili.AsyncKili, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt  # Ctrl-C during the third batch
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(aiokili.AsyncKili, "append_many_to_dataset", interrupted)
    first = cli(local_server, "assets", "import", project_id, str(source), "--batch-size", "10")
    assert first.exit_code == 130, first.output
    assert "20 assets were imported before this; run the same command again" in first.stderr
    assert len(external_ids(local_server, project_id)) == 20

    monkeypatch.setattr(aiokili.AsyncKili, "append_many_to_dataset", real)
    second = cli(local_server, "assets", "import", project_id, str(source), "--json")
    assert second.exit_code == 0, second.output
    summary = json.loads(second.stdout)
    assert (summary["total"], summary["alreadyPresent"], summary["imported"]) == (50, 20, 30)
    assert "20 of 50 assets are already in the project" in second.stderr
    found = external_ids(local_server, project_id)
    assert sorted(found) == [f"img-{i:03d}" for i in range(50)]  # all there, none twice


def test_import_reports_each_failed_asset(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the SDK's BulkOperationError says per item reaches the user, per line."""
    project_id = project(local_server)
    rows = [
        f"https://images.example/{i}.jpg,{'bad' if i in (2, 5) else 'ok'}-{i}" for i in range(8)
    ]
    source = write_csv(tmp_path / "some-bad.csv", ["url,external_id", *rows])
    real = aiokili.AsyncKili.append_many_to_dataset

    async def partly(self: aiokili.AsyncKili, project_id: str, **kwargs: Any) -> Any:
        ids = kwargs["external_id_array"]
        good = [i for i, e in enumerate(ids) if not e.startswith("bad")]
        done = await real(self, project_id, content_array=[kwargs["content_array"][i] for i in good],
                          external_id_array=[ids[i] for i in good])  # fmt: skip
        failures = [ItemFailure(i, e, ValueError(f"{e} was refused"))
                    for i, e in enumerate(ids) if e.startswith("bad")]  # fmt: skip
        succeeded = list(zip(good, done["asset_ids"], strict=True))
        raise BulkOperationError("append_many_to_dataset", failures, succeeded)

    monkeypatch.setattr(aiokili.AsyncKili, "append_many_to_dataset", partly)
    result = cli(local_server, "assets", "import", project_id, str(source), "--batch-size", "4")
    assert result.exit_code == 1
    assert one_error(result) == (
        "Error: 2 of 8 assets failed to import (6 imported, 0 already in the project)."
    )
    assert "  some-bad.csv line 4 (bad-2): bad-2 was refused" in result.stderr
    assert "  some-bad.csv line 7 (bad-5): bad-5 was refused" in result.stderr
    assert "Hint: Fix them and run the same command again" in result.stderr
    as_json = cli(local_server, "assets", "import", project_id, str(source), "--json")
    assert as_json.exit_code == 1
    summary = json.loads(as_json.stdout)
    assert (summary["alreadyPresent"], summary["imported"]) == (6, 0)
    assert summary["failed"] == [
        {"externalId": "bad-2", "where": "some-bad.csv line 4", "error": "bad-2 was refused"},
        {"externalId": "bad-5", "where": "some-bad.csv line 7", "error": "bad-5 was refused"},
    ]


BAD_CSV = [
    (["url,external_id,json_metadata", "https://x/1.jpg,a,", 'https://x/2.jpg,b,"{bad"'],
     "bad.csv line 3, column json_metadata: not valid JSON"),
    (["url,external_id,json_metadata", 'https://x/1.jpg,a,"[1, 2]"'],
     "bad.csv line 2, column json_metadata: must be a JSON object"),
    (["url,external_id", "https://x/1.jpg,a", "https://x/2.jpg,"],
     "bad.csv line 3, column external_id: empty"),
    (["url,external_id", "https://x/1.jpg,a", "https://x/2.jpg,b", "https://x/3.jpg,a"],
     "bad.csv line 4, column external_id: 'a' is already on line 2."),
    (["url,external_id", "ftp://x/1.jpg,a"],
     "bad.csv line 2, column url: 'ftp://x/1.jpg' is not an http(s) URL."),
    (["url,external_id", ",a"], "bad.csv line 2, column url: empty"),
    (["url,external_id,split", "https://x/1.jpg,a,train"],
     "bad.csv line 1: unknown column 'split'"),
    (["url,external_id", "https://x/1.jpg,a,extra"],
     "bad.csv line 2: 3 value(s) for the header's 2 column(s) (url,external_id)."),
    (["url", "https://x/1.jpg"], "bad.csv line 2: no external_id."),
    (["external_id", "a"], "bad.csv line 2: give exactly one of the columns content, url, text"),
    (["url,external_id"], "bad.csv has no assets."),
]  # fmt: skip


@pytest.mark.parametrize(("lines", "message"), BAD_CSV)
def test_a_bad_csv_exits_2_naming_the_line_and_column(
    local_server: LocalServer, tmp_path: Path, lines: list[str], message: str
) -> None:
    source = write_csv(tmp_path / "bad.csv", lines)
    result = CliRunner().invoke(
        _app(), ["assets", "import", "no-such-project", str(source)], env=env(local_server)
    )  # the file is checked before any request: the unknown project is not reached
    assert result.exit_code == 2
    assert one_error(result).startswith(f"Error: {message}"), result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Hint: ")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.jsonl", '{"url": "https://x/1.jpg", "external_id": "a"}\n{oops\n',
         "bad.jsonl line 2: not valid JSON"),
        ("bad.jsonl", '["https://x/1.jpg"]\n', "bad.jsonl line 1: expected a JSON object."),
        ("bad.jsonl", '{"url": "https://x/1.jpg", "externalid": "a"}\n',
         "bad.jsonl line 1: unknown key 'externalid'"),
        ("bad.jsonl", '{"url": "https://x/1.jpg", "external_id": "a", "json_metadata": 3}\n',
         "bad.jsonl line 1, key json_metadata: must be a JSON object"),
        ("bad.txt", "https://x/1.jpg\n", "SOURCE 'bad.txt': expected a folder, a .csv/.tsv"),
        ("bad.csv", None, "SOURCE"),
    ],
)  # fmt: skip
def test_a_bad_source_exits_2(
    local_server: LocalServer, tmp_path: Path, name: str, text: str | None, message: str
) -> None:
    source = tmp_path / name
    if text is not None:
        source.write_text(text)
    result = cli(local_server, "assets", "import", "no-such-project", str(source))
    assert result.exit_code == 2
    assert one_error(result).startswith(f"Error: {message}"), result.stderr
    if text is None:
        assert "no such file or folder" in one_error(result)


def test_import_takes_no_file_from_outside_the_source_folder_unless_told(
    local_server: LocalServer, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"secret")
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"image a")
    (folder / "leak.jpg").symlink_to(secret)  # a link out of the folder
    (folder / "inside.jpg").symlink_to(folder / "a.jpg")  # a link within it: fine
    table = write_csv(folder / "assets.csv", ["content,external_id", "../secret.txt,s"])
    project_id = project(local_server)
    for source, message in [
        (folder, f"SOURCE folder: file leak.jpg is a link to {str(secret)!r}, outside the "
                 "folder. Remove it, or pass --allow-outside"),
        (table, f"assets.csv line 2, column content: '../secret.txt' is the file "
                f"{str(secret)!r}, outside the folder of assets.csv."),
    ]:  # fmt: skip
        refused = cli(local_server, "assets", "import", project_id, str(source))
        assert refused.exit_code == 2, refused.output
        assert one_error(refused).startswith(f"Error: {message}"), refused.stderr
    assert external_ids(local_server, project_id) == []  # refused before any request
    allowed = cli(local_server, "assets", "import", project_id, str(table), "--allow-outside")
    assert allowed.exit_code == 0, allowed.output
    assert external_ids(local_server, project_id) == ["s"]


def test_import_errors_from_the_project(local_server: LocalServer, tmp_path: Path) -> None:
    texts = write_csv(tmp_path / "texts.csv", ["text,external_id", "a review,r1"])
    unknown = cli(local_server, "assets", "import", "no-such-project", str(texts))
    assert unknown.exit_code == 4 and "no-such-project" in one_error(unknown)
    assert "Hint: `aiokili projects list` shows the projects." in unknown.stderr
    images = project(local_server)
    wrong = cli(local_server, "assets", "import", images, str(texts))
    assert wrong.exit_code == 2
    assert one_error(wrong) == (
        "Error: texts.csv line 2, column text: 'a review' is neither a URL nor an existing "
        "file, and raw text only goes into TEXT projects (this one is IMAGE). Nothing was "
        "imported."
    )
    assert "Hint: give URLs or file paths, or import into a TEXT project." in wrong.stderr
    text_project = project(local_server, "TEXT")
    paths = write_csv(tmp_path / "paths.csv", ["content,external_id", "a review,r1",
                                               "missing/review.txt,r2"])  # fmt: skip
    missing = cli(local_server, "assets", "import", text_project, str(paths))
    assert missing.exit_code == 2  # the SDK's content_array[1] is the file's line 3
    assert one_error(missing).startswith(
        "Error: paths.csv line 3 looks like a file path, but there is no such file: "
        "'missing/review.txt'."
    )
    assert external_ids(local_server, text_project) == []
    assert external_ids(local_server, images) == []
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = cli(local_server, "assets", "import", images, str(empty))
    assert nothing.exit_code == 2 and "has no files" in one_error(nothing)
    separator = cli(local_server, "assets", "import", images, str(texts), "--separator", ";;")
    assert separator.exit_code == 2 and "--separator must be one character" in one_error(separator)


def test_import_stops_when_the_api_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_http, "backoff", lambda attempt: 0.0)
    source = write_csv(tmp_path / "a.csv", ["url,external_id", "https://x/1.jpg,a"])
    result = CliRunner().invoke(
        _app(), ["-v", "assets", "import", "p", str(source)],
        env={"KILI_API_KEY": "k", "KILI_API_ENDPOINT": "http://127.0.0.1:9/graphql"},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "connection refused by http://127.0.0.1:9/graphql" in one_error(result)
    # -v: each retry logged; nothing listens on this machine: 3 quick retries, not 4
    assert "nothing is listening there; retry 3 of 3 in 0.4 s" in result.stderr
    assert "Hint: Is the API at --endpoint" in result.stderr


# ------------------------------------------------------------------------------ assets list


def test_assets_list(local_server: LocalServer, tmp_path: Path) -> None:
    project_id = project(local_server)
    rows = [f'https://images.example/{i}.jpg,img-{i},"{{""n"": {i}}}"' for i in range(5)]
    source = write_csv(tmp_path / "five.csv", ["url,external_id,json_metadata", *rows])
    assert cli(local_server, "assets", "import", project_id, str(source)).exit_code == 0

    table = cli(local_server, "assets", "list", project_id)
    assert table.exit_code == 0, table.output
    assert all(f"img-{i}" in table.stdout for i in range(5)) and "status" in table.stdout
    assert "TODO" in table.stdout
    listed = cli(local_server, "assets", "list", project_id, "--json")
    assets = json.loads(listed.stdout)
    assert [a["externalId"] for a in assets] == [f"img-{i}" for i in range(5)]
    assert set(assets[0]) == {"id", "externalId", "status", "content", "jsonMetadata"}
    assert assets[3]["jsonMetadata"] == {"n": 3}
    some = cli(local_server, "assets", "list", project_id, "--json", "--fields", "externalId",
               "--fields", "labels.jsonResponse", "--first", "2")  # fmt: skip
    assert json.loads(some.stdout) == [
        {"id": assets[0]["id"], "externalId": "img-0", "labels": []},
        {"id": assets[1]["id"], "externalId": "img-1", "labels": []},
    ]
    ids = cli(local_server, "-q", "assets", "list", project_id, "-n", "3")
    assert ids.stdout.split() == [a["id"] for a in assets[:3]]
    narrow = cli(local_server, "assets", "list", project_id, "-f", "externalId,jsonMetadata")
    assert '{"n": 4}' in narrow.stdout and "content" not in narrow.stdout

    empty = project(local_server)
    assert cli(local_server, "assets", "list", empty).stdout.strip() == "No assets."
    assert cli(local_server, "assets", "list", empty, "--json").stdout.strip() == "[]"
    unknown = cli(local_server, "assets", "list", "no-such-project")
    assert unknown.exit_code == 4 and "no-such-project" in one_error(unknown)
    field = cli(local_server, "assets", "list", project_id, "-f", "externalid")
    assert field.exit_code == 2 and "Unknown field 'externalid' in --fields" in one_error(field)


def test_assets_list_table_stops_at_1000_rows(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from aiokili.cli import assets as assets_cli

    monkeypatch.setattr(assets_cli, "TABLE_LIMIT", 3)
    project_id = project(local_server)
    rows = [f"https://images.example/{i}.jpg,img-{i}" for i in range(5)]
    source = write_csv(tmp_path / "five.csv", ["url,external_id", *rows])
    assert cli(local_server, "assets", "import", project_id, str(source)).exit_code == 0
    table = cli(local_server, "assets", "list", project_id)
    assert "img-2" in table.stdout and "img-3" not in table.stdout
    assert "Only the first 3 assets are shown: --first N shows more" in table.stdout
    more = cli(local_server, "assets", "list", project_id, "--first", "5")
    assert "img-4" in more.stdout and "Only the first" not in more.stdout


# -------------------------------------------------------------- python -m aiokili, --version


def test_python_m_aiokili_projects_list_json(local_server: LocalServer) -> None:
    project_id = project(local_server)
    done = subprocess.run(
        [sys.executable, "-m", "aiokili", "projects", "list", "--json"],
        env={**os.environ, **env(local_server)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert project_id in [p["id"] for p in json.loads(done.stdout)]
    assert local_server.api_key not in done.stdout + done.stderr
    version = subprocess.run(
        [sys.executable, "-m", "aiokili", "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.stdout.strip() == f"aiokili {_constants.VERSION}"


def test_version_and_help() -> None:
    result = CliRunner().invoke(_app(), ["--version"])
    assert (result.exit_code, result.stdout.strip()) == (0, f"aiokili {_constants.VERSION}")
    for group in ("projects", "assets"):
        shown = CliRunner().invoke(_app(), [group, "--help"])
        assert shown.exit_code == 0 and "Exit codes: 0 ok" in shown.stdout


# ---------------------------------------------------------------------------------- logging

URL = "https://kili.example/api/label/v2/graphql"
KEY = "secret-key-do-not-leak"
PROJECT = {"id": "p1", "title": "t", "inputType": "IMAGE", "createdAt": "2026-01-31T00:00:00Z"}


def fake_api(first: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    """``first``, then the answers ``projects list`` needs."""
    calls = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return first
        operation = json.loads(request.content)["operationName"]
        data: Any = 1 if operation == "CountProjects" else [PROJECT]
        return httpx.Response(200, json={"data": {"data": data}})

    return answer


def logged(args: list[str], first: httpx.Response) -> Result:
    with respx.mock(using="httpx", assert_all_called=False) as api:
        api.post(URL).mock(side_effect=fake_api(first))
        return CliRunner().invoke(_app(), args, env={"KILI_API_KEY": KEY, "KILI_API_ENDPOINT": URL})


def test_verbose_logs_retries_and_never_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http, "backoff", lambda attempt: 0.01)
    result = logged(["-v", "-q", "projects", "list"], httpx.Response(503, text="busy"))
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["p1"]
    assert "INFO aiokili.http: the Kili API (" in result.stderr
    assert "HTTP 503; retry 1 of 4 in 0.0 s" in result.stderr
    assert KEY not in result.output
    silent = logged(["-q", "projects", "list"], httpx.Response(503, text="busy"))
    assert silent.exit_code == 0 and silent.stderr == ""

    paused = logged(["-v", "-q", "projects", "list"],
                    httpx.Response(429, headers={"Retry-After": "0.05"}))  # fmt: skip
    assert "HTTP 429, every request of the client pauses 0.1 s" in paused.stderr
    assert KEY not in paused.output

    debug = logged(["-vv", "-q", "projects", "list"], httpx.Response(503, text="busy"))
    assert "DEBUG aiokili.http: the Kili API (Projects) answered HTTP 200 in" in debug.stderr
    assert KEY not in debug.output


def test_verbose_logs_slow_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_constants, "SLOW_REQUEST", 0.0)
    result = logged(
        ["-v", "-q", "projects", "list"], httpx.Response(200, json={"data": {"data": 1}})
    )
    assert result.exit_code == 0, result.output
    assert "INFO aiokili.http: the Kili API (CountProjects) answered HTTP 200 in" in result.stderr


def test_no_key_in_logs_of_a_failed_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http, "backoff", lambda attempt: 0.0)
    with respx.mock(using="httpx", assert_all_called=False) as api:
        api.post(URL).mock(return_value=httpx.Response(503, text=f"echo {KEY[:3]}"))
        result = CliRunner().invoke(
            _app(), ["-vv", "projects", "list"], env={"KILI_API_KEY": KEY, "KILI_API_ENDPOINT": URL}
        )
    assert result.exit_code == 1
    assert "giving up after 4 retries" in result.stderr
    assert KEY not in result.output


def test_cli_input_error_type_is_kili_input_error() -> None:
    """The CLI's own checks of the import file raise the SDK's input error type."""
    from aiokili.cli.assets import _check_contents
    from aiokili.cli.sources import Item

    with pytest.raises(KiliInputError, match="line 2, column text"):
        _check_contents([Item("hello", "a", None, "f.csv line 2", "text")], None)
