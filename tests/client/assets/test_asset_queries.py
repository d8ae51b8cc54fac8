"""Asset queries end to end: every filter (both spellings), media download, pandas, look-ups."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from support import answer, import_images, new_project

import aiokili
from aiokili.assets import methods as assets_module
from aiokili.errors import APIConnectionError, APIError, KiliInputError, NotFoundError
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio


def _sql(server: LocalServer, statement: str, *args: Any) -> None:
    """Set workflow state the local server stores but no method of this slice writes."""
    with server.store.db.write() as c:
        c.execute(statement, args)


@pytest.fixture
async def project(kili: aiokili.AsyncKili, local_server: LocalServer) -> tuple[str, list[str]]:
    """10 image assets; workflow state set on some of them."""
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 10)
    s = local_server
    _sql(s, "UPDATE assets SET skipped = 1 WHERE id IN (?, ?)", ids[0], ids[1])
    _sql(s, "UPDATE assets SET consensus_mark = 0.2, honeypot_mark = 0.9, inference_mark = 0.5"
            " WHERE id = ?", ids[2])  # fmt: skip
    _sql(s, "UPDATE assets SET consensus_mark = 0.8, honeypot_mark = 0.1, inference_mark = 0.7"
            " WHERE id = ?", ids[3])  # fmt: skip
    _sql(s, "UPDATE assets SET step_id = 'stepA', step_status = 'TO_DO', step_group_name = 'G1'"
            " WHERE id IN (?, ?)", ids[4], ids[5])  # fmt: skip
    _sql(s, "UPDATE assets SET step_id = 'stepB', step_status = 'DONE' WHERE id = ?", ids[6])
    user = s.store.users.user_for_key(s.api_key)
    assert user is not None
    _sql(s, "INSERT INTO asset_assignees VALUES (?, ?)", ids[7], user.id)
    return project_id, ids


def _read(path: Any) -> bytes:
    return Path(str(path)).read_bytes()


async def _ids(kili: aiokili.AsyncKili, project_id: str, **filters: Any) -> list[str]:
    found = [a.id for a in await kili.assets(project_id, fields=["id"], **filters)]
    assert await kili.count_assets(project_id, **filters) == len(found)  # counts equal lists
    return found


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"skipped": True}, [0, 1]),
        ({"consensus_mark_gte": 0.5}, [3]),
        ({"consensus_mark_gt": 0.5}, [3]),
        ({"consensus_mark_lte": 0.5}, [2]),
        ({"consensus_mark_lt": 0.5}, [2]),
        ({"honeypot_mark_gte": 0.5}, [2]),
        ({"honeypot_mark_gt": 0.5, "honeypot_mark_lt": 1.0}, [2]),
        ({"honeypot_mark_lte": 0.5}, [3]),
        ({"inference_mark_gte": 0.6}, [3]),
        ({"inference_mark_lte": 0.6}, [2]),
        ({"step_id_in": ["stepA"]}, [4, 5]),
        ({"step_id_not_in": ["stepA"]}, [0, 1, 2, 3, 6, 7, 8, 9]),
        ({"step_status_in": ["DONE"]}, [6]),
        ({"step_status_not_in": ["DONE", "REWORK"]}, [0, 1, 2, 3, 4, 5, 7, 8, 9]),
        ({"step_id_and_status_in": [("stepA", "TO_DO"), ("stepB", "DONE")]}, [4, 5, 6]),
        ({"step_id_and_status_not_in": [("stepA", "TO_DO")]}, [0, 1, 2, 3, 6, 7, 8, 9]),
        ({"group_name_in": ["G1"]}, [4, 5]),
        ({"group_name_not_in": ["G1"]}, [0, 1, 2, 3, 6, 7, 8, 9]),
        ({"asset_id_not_in": []}, list(range(10))),
        ({"external_id_in": ["-000"]}, list(range(10))),
        ({"external_id_contains": ["0003", "0005"]}, [3, 5]),
        ({"external_id_strictly_in": ["img-0003", "0005"]}, [3]),
        ({"metadata_where": {"n": [2, 4]}}, [2, 3, 4]),
        ({"metadata_where": {"n": [1, 7, 9]}}, [1, 7, 9]),
        ({"metadata_where": {"split": "train", "n": [0, 4]}}, [1, 3]),
        ({"status_in": ["TODO"], "skipped": False}, [2, 3, 4, 5, 6, 7, 8, 9]),
    ],
)  # fmt: skip
async def test_asset_filters(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]], filters: dict[str, Any],
    expected: list[int],
) -> None:  # fmt: skip
    project_id, ids = project
    assert await _ids(kili, project_id, **filters) == [ids[i] for i in expected]


async def test_assignee_filters(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]], local_server: LocalServer
) -> None:
    project_id, ids = project
    user = local_server.store.users.user_for_key(local_server.api_key)
    assert user is not None
    for who in (user.id, user.email):
        assert await _ids(kili, project_id, assignee_in=[who]) == [ids[7]]
        assert ids[7] not in await _ids(kili, project_id, assignee_not_in=[who])
    assert await _ids(kili, project_id, assignee_in=["nobody@example.com"]) == []


async def test_dates(kili: aiokili.AsyncKili, project: tuple[str, list[str]]) -> None:
    project_id, ids = project
    assert await _ids(kili, project_id, created_at_gte="2000-01-01") == ids
    assert await _ids(kili, project_id, created_at_lte="2000-01-01") == []
    assert await _ids(kili, project_id, updated_at_gte="2999-01-01") == []
    assert await _ids(kili, project_id, updated_at_lte="2999-01-01") == ids


async def test_label_sub_filters(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]], local_server: LocalServer
) -> None:
    project_id, ids = project
    await kili.append_labels(asset_id_array=ids[:2], json_response_array=[answer("A")] * 2)
    await kili.append_labels(
        asset_id_array=[ids[2]], json_response_array=[answer("B")], label_type="REVIEW"
    )
    user = local_server.store.users.user_for_key(local_server.api_key)
    assert user is not None
    me = user.email
    assert await _ids(kili, project_id, label_type_in=["DEFAULT"]) == ids[:2]
    assert await _ids(kili, project_id, label_author_in=[me]) == ids[:3]
    assert await _ids(kili, project_id, label_labeler_in=[me]) == ids[:2]
    assert await _ids(kili, project_id, label_reviewer_in=[me]) == [ids[2]]
    # a label that is not a review by me / not a labelling by x@y.z
    assert await _ids(kili, project_id, label_reviewer_not_in=[me]) == ids[:2]
    assert await _ids(kili, project_id, label_labeler_not_in=["x@y.z"]) == ids[:3]
    assert await _ids(kili, project_id, label_labeler_not_in=[me]) == [ids[2]]
    assert await _ids(kili, project_id, label_category_search="JOB.B.count > 0") == [ids[2]]
    assert await _ids(kili, project_id, label_created_at_gte="2000-01-01") == ids[:3]
    assert await _ids(kili, project_id, label_created_at_gt="2000-01-01") == ids[:3]
    assert await _ids(kili, project_id, label_created_at_lt="2000-01-01") == []


async def test_issue_filters(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]], local_server: LocalServer
) -> None:
    project_id, ids = project
    # the issues domain owns this table (more columns); these are the ones the filter reads
    columns = "id, project_id, asset_id, type, status"
    _sql(local_server, f"INSERT INTO issues ({columns}) VALUES ('i1', ?, ?, 'ISSUE', 'OPEN')",
         project_id, ids[1])  # fmt: skip
    _sql(local_server, f"INSERT INTO issues ({columns}) VALUES ('i2', ?, ?, 'QUESTION', 'SOLVED')",
         project_id, ids[2])  # fmt: skip
    assert await _ids(kili, project_id, issue_type="ISSUE") == [ids[1]]
    assert await _ids(kili, project_id, issue_status="SOLVED") == [ids[2]]
    assert await _ids(kili, project_id, issue_type="ISSUE", issue_status="SOLVED") == []


MARKS = (
    "INSERT INTO asset_marks VALUES (?, {}, {}) ON CONFLICT (asset_id) DO UPDATE SET "
    "consensus_mark = excluded.consensus_mark, honeypot_mark = excluded.honeypot_mark"
)


async def test_computed_marks(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]], local_server: LocalServer
) -> None:
    """Marks computed from labels (asset_marks / label_marks, written by the labels domain)
    are filtered on; an asset's own mark (set by update_properties_in_assets) wins."""
    project_id, ids = project
    await kili.append_labels(asset_id_array=ids[8:], json_response_array=[answer("A")] * 2)
    _sql(local_server, MARKS.format(0.6, 0.3), ids[8])
    _sql(local_server, MARKS.format(0.9, 0.9), ids[2])  # own 0.2 wins
    assert await _ids(kili, project_id, consensus_mark_gte=0.5) == [ids[3], ids[8]]
    assert await _ids(kili, project_id, honeypot_mark_lte=0.5) == [ids[3], ids[8]]
    assert (await kili.get_asset(ids[8])).consensus_mark == 0.6
    labels = {lb.label_of.id: lb.id for lb in await kili.labels(project_id)
              if lb.label_of is not None}  # fmt: skip
    _sql(
        local_server,
        "INSERT INTO label_marks VALUES (?, ?, 0.4, 0.95) ON CONFLICT (label_id) DO UPDATE SET "
        "consensus_mark = excluded.consensus_mark, honeypot_mark = excluded.honeypot_mark",
        labels[ids[9]],
        ids[9],
    )
    assert await _ids(kili, project_id, label_consensus_mark_lte=0.5) == [ids[9]]
    assert await _ids(kili, project_id, label_consensus_mark_lt=0.5) == [ids[9]]
    assert await _ids(kili, project_id, label_honeypot_mark_gte=0.9) == [ids[9]]
    assert await _ids(kili, project_id, label_honeypot_mark_gt=0.96) == []


def _value(name: str) -> Any:
    if name.endswith(("_in", "_contains")):
        return [("s", "DONE")] if "and_status" in name else ["x"]
    return "2020-01-01" if "created_at" in name else 0.5


ALL_PAIRS = sorted({**assets_module._SEED_NAMES, **assets_module._STEP_NAMES}.items())


@pytest.mark.parametrize(("old", "new"), sorted(assets_module._SEED_NAMES.items()))
async def test_seed_spellings_mean_the_same(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]], old: str, new: str
) -> None:
    project_id, ids = project
    await kili.append_labels(asset_id_array=ids[:1], json_response_array=[answer("A")])
    value = ["img-000"] if "external" in old else _value(old)
    assert await _ids(kili, project_id, **{old: value}) == await _ids(
        kili, project_id, **{new: value}
    )


@pytest.mark.parametrize(("old", "new"), ALL_PAIRS)
async def test_both_spellings_are_refused(kili: aiokili.AsyncKili, old: str, new: str) -> None:
    for call in (lambda f: kili.assets("p", **f), lambda f: kili.count_assets("p", **f)):
        with pytest.raises(KiliInputError, match=f"{old}.*{new}"):
            result = call({old: _value(old), new: _value(new)})
            if not isinstance(result, aiokili.Listing):
                await result


async def test_bad_filters_are_refused_before_any_request(kili: aiokili.AsyncKili) -> None:
    with pytest.raises(KiliInputError, match="unknown filter"):
        kili.assets("p", external_ids_contain=["x"])  # type: ignore[call-overload]
    with pytest.raises(KiliInputError, match="issue_type"):
        await kili.count_assets("p", issue_type="BUG")  # type: ignore[typeddict-item]
    with pytest.raises(KiliInputError, match="step_status_in"):
        await kili.count_assets("p", step_status_in=["NOPE"])  # type: ignore[list-item]
    with pytest.raises(KiliInputError, match="as_generator"):
        kili.assets("p", format="pandas", as_generator=True)
    with pytest.raises(KiliInputError, match="local_media_dir"):
        kili.assets("p", download_media=True, local_media_dir=3)  # type: ignore[typeddict-item]
    with pytest.raises(KiliInputError, match=r"label_category_search.*position"):
        kili.assets("p", label_category_search="JOB.A.count > 0 AND")
    with pytest.raises(KiliInputError, match="label_output_format must be"):
        kili.assets("p", label_output_format="parsed")  # type: ignore[typeddict-item]
    with pytest.raises(KiliInputError, match=r"needs 'labels.jsonResponse'"):
        kili.assets("p", label_output_format="parsed_label", fields=["id", "labels.id"])


async def test_labels_of_assets_parsed_against_the_interface(kili: aiokili.AsyncKili) -> None:
    project = await new_project(kili)
    ids = await import_images(kili, project, 3)
    await kili.append_labels(asset_id_array=ids[:2], json_response_array=[answer("A"), answer("B")])
    assets = await kili.assets(project, label_output_format="parsed_label")
    names = []
    for asset in assets:
        for label in asset.labels or []:
            assert isinstance(label, aiokili.ParsedLabel)
            names.append(label.jobs["JOB"].category.name)
    assert names == ["A", "B"]
    assert assets[2].labels == []
    selected = await kili.assets(project, label_output_format="parsed_label",
                                 fields=["id", "labels.jsonResponse"], first=1)  # fmt: skip
    (label,) = selected[0].labels or []
    assert isinstance(label, aiokili.ParsedLabel) and label.jobs["JOB"].category.name == "A"
    with pytest.raises(NotFoundError, match="nope"):
        await kili.assets("nope", label_output_format="parsed_label")


async def test_step_names_need_known_steps(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]]
) -> None:
    project_id, _ = project
    with pytest.raises(KiliInputError, match=r"step_name_in.*'Revue'"):
        await kili.count_assets(project_id, step_name_in=["Revue"])
    with pytest.raises(KiliInputError, match="step_name_and_status_in"):
        await kili.assets(project_id, step_name_and_status_in=[("Revue", "DONE")])


async def test_get_asset_and_external_id_lookup(
    kili: aiokili.AsyncKili, project: tuple[str, list[str]]
) -> None:
    project_id, ids = project
    asset = await kili.get_asset(ids[3])
    assert asset.external_id == "img-0003" and asset.skipped is False
    assert (await kili.get_asset(ids[0])).skipped is True
    assert (await kili.get_asset(ids[2])).consensus_mark == 0.2
    with pytest.raises(NotFoundError, match="nope"):
        await kili.get_asset("nope")
    found = await kili.get_asset_ids_for_external_ids(project_id, ["img-0001", "zzz", "img-0009"])
    assert found == {"img-0001": ids[1], "img-0009": ids[9]}
    with pytest.raises(NotFoundError, match="nope"):
        await kili.get_asset_ids_for_external_ids("nope", ["img-0001"])
    with pytest.raises(KiliInputError, match="external_ids"):
        await kili.get_asset_ids_for_external_ids(project_id, "img-0001")  # type: ignore[arg-type]


async def test_download_media(kili: aiokili.AsyncKili, tmp_path: Path) -> None:
    project_id = await new_project(kili)
    files = []
    for i in range(5):
        path = tmp_path / "src" / f"pic{i}.png"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"\x89PNG fake %d" % i)
        files.append(path)
    await kili.append_many_to_dataset(
        project_id, content_array=files, external_id_array=[f"e{i}" for i in range(5)]
    )
    out = tmp_path / "media"
    streamed = [
        a async for a in kili.assets(project_id, download_media=True, local_media_dir=str(out))
    ]
    assert [Path(str(a.content)).name for a in streamed] == [f"e{i}.png" for i in range(5)]
    assert [_read(a.content) for a in streamed] == [_read(f) for f in files]
    narrow = await kili.assets(
        project_id, download_media=True, local_media_dir=out, fields=["content"], first=1
    )
    assert _read(narrow[0].content) == _read(files[0])  # no external id asked: named by id
    with pytest.raises(KiliInputError, match="download_media needs 'content'"):
        kili.assets(project_id, download_media=True, fields=["id"])
    listed = await kili.assets(project_id, download_media=True, local_media_dir=out, first=2)
    assert [a.content for a in listed] == [a.content for a in streamed[:2]]


async def test_download_video_frames(kili: aiokili.AsyncKili, tmp_path: Path) -> None:
    project_id = await new_project(kili, "VIDEO")
    frames = []
    for i in range(3):
        frame = tmp_path / f"f{i}.jpg"
        frame.write_bytes(b"frame %d" % i)
        frames.append(frame)
    await kili.append_many_to_dataset(
        project_id, json_content_array=[frames], external_id_array=["vid"]
    )
    [asset] = await kili.assets(project_id, download_media=True, local_media_dir=tmp_path / "m")
    paths = json.loads(str(asset.json_content))
    assert [_read(p) for p in paths] == [_read(f) for f in frames]
    assert [Path(p).name for p in paths] == ["vid_1.jpg", "vid_2.jpg", "vid_3.jpg"]


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="pandas not installed")
async def test_pandas(kili: aiokili.AsyncKili, project: tuple[str, list[str]]) -> None:
    project_id, ids = project
    frame = await kili.assets(project_id, format="pandas", skipped=True)
    assert list(frame["id"]) == ids[:2]
    assert list(frame["externalId"]) == ["img-0000", "img-0001"]
    narrow = await kili.assets(project_id, format="pandas", fields=["id", "externalId"])
    assert len(narrow) == 10


def test_pandas_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiokili.assets import media as asset_media

    def missing(name: str) -> Any:
        raise ImportError(name)

    monkeypatch.setattr(asset_media.importlib, "import_module", missing)
    with pytest.raises(ImportError, match=r"aiokili\[pandas\]"):
        asset_media._pandas()


async def test_deprecated_step_statuses_warn(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    with pytest.warns(DeprecationWarning, match="'DOING' is deprecated, use 'IN_PROGRESS'"):
        assert await kili.count_assets(project_id, step_status_in=["DOING"]) == 0
    with pytest.warns(DeprecationWarning, match="'REDO' is deprecated, use 'REWORK'"):
        assert await kili.assets(project_id, step_status_not_in=["REDO"]) == []


async def test_media_that_cannot_be_downloaded_is_a_typed_error(
    kili: aiokili.AsyncKili, local_server: LocalServer, tmp_path: Path
) -> None:
    project_id = await new_project(kili)
    missing = f"{local_server.url.rsplit('/graphql', 1)[0]}/files?id=no/such/file"
    await kili.append_many_to_dataset(project_id, content_array=[missing])
    with pytest.raises(APIError, match="HTTP 404") as caught:
        await kili.assets(project_id, download_media=True, local_media_dir=tmp_path)
    assert "no/such/file" in str(caught.value)
    await kili.append_many_to_dataset(project_id, content_array=["http://127.0.0.1:9/x.jpg"])
    with pytest.raises(APIConnectionError, match=r"127\.0\.0\.1:9/"):
        await kili.assets(project_id, download_media=True, local_media_dir=tmp_path, skip=1)


async def test_marks_computed_from_labels_are_filtered_on(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 3)
    for asset_id in ids[:2]:
        await kili.create_honeypot(answer("A"), asset_id=asset_id)
    await kili.append_labels(asset_id_array=ids[:2], json_response_array=[answer("A"), answer("B")])
    assert await _ids(kili, project_id, honeypot_mark_gte=0.9) == [ids[0]]
    assert await _ids(kili, project_id, honeypot_mark_lte=0.1) == [ids[1]]
    assert await _ids(kili, project_id, label_honeypot_mark_gte=0.9, label_type_in=["DEFAULT"]) == [
        ids[0]
    ]
    assert (await kili.get_asset(ids[0])).honeypot_mark == 1.0


def test_mypy_types_asset_calls() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]

    def mypy(script: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", f"tests/typing/{script}"],
            cwd=root, capture_output=True, text=True, check=False,
        )  # fmt: skip
        return result.stdout + result.stderr

    assert "Success" in mypy("assets_user_script.py"), mypy("assets_user_script.py")
    found = mypy("assets_bad_script.py")
    lines = {int(line.split(":")[1]) for line in found.splitlines() if ": error:" in line}
    assert lines == {9, 10, 11, 12, 13}, found  # one error per mistake, each on its line
    assert "Literal['BUG']" in found and "Literal['FINISHED']" in found
    assert 'did you mean "external_id_contains"' in found
    assert '(expression has type "list[Asset]", variable has type "list[Label]")' in found


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="pandas not installed")
async def test_pandas_with_downloaded_media(kili: aiokili.AsyncKili, tmp_path: Path) -> None:
    project_id = await new_project(kili)
    picture = tmp_path / "p.png"
    picture.write_bytes(b"\x89PNG pixels")
    await kili.append_many_to_dataset(project_id, content_array=[picture], external_id_array=["p"])
    frame = await kili.assets(
        project_id, format="pandas", download_media=True, local_media_dir=tmp_path / "out"
    )
    [path] = list(frame["content"])
    assert Path(path).name == "p.png" and _read(path) == b"\x89PNG pixels"


async def test_filters_see_what_asset_mutations_wrote(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 4)
    user = local_server.store.users.user_for_key(local_server.api_key)
    assert user is not None
    with pytest.warns(DeprecationWarning, match="to_be_labeled_by_array"):
        await kili.update_properties_in_assets(
            asset_ids=ids[:2], consensus_marks=[0.3, 0.9], honeypot_marks=[0.8, None],
            to_be_labeled_by_array=[[user.email], None],
        )  # fmt: skip
    assert await _ids(kili, project_id, consensus_mark_gte=0.5) == [ids[1]]
    assert await _ids(kili, project_id, honeypot_mark_gt=0.5) == [ids[0]]
    assert await _ids(kili, project_id, assignee_in=[user.email]) == [ids[0]]
    await kili.append_labels(asset_id_array=ids[2:], json_response_array=[answer("A")] * 2)
    await kili.add_to_review(asset_ids=[ids[3]])
    assert await _ids(kili, project_id, status_in=["LABELED"]) == [ids[2]]
    assert await _ids(kili, project_id, status_in=["TO_REVIEW"]) == [ids[3]]
