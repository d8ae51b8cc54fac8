"""Issues against the real local server: create, append, list, count, status changes."""

from __future__ import annotations

from typing import Any

import pytest
from support import answer, gql, import_images, new_project

import aiokili
from aiokili import (
    Issue,
    IssueStatus,
    IssueType,
    KiliInputError,
    NotFoundError,
)
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio


async def _project_with_labels(
    kili: aiokili.AsyncKili, n: int = 3
) -> tuple[str, list[str], list[str]]:
    project_id = await new_project(kili)
    asset_ids = await import_images(kili, project_id, n)
    label_ids = await kili.append_labels(
        asset_id_array=asset_ids, json_response_array=[answer("A")] * n
    )
    return project_id, asset_ids, label_ids


async def test_create_issues_attaches_each_issue_to_its_label_and_asset(
    kili: aiokili.AsyncKili,
) -> None:
    project_id, asset_ids, label_ids = await _project_with_labels(kili)

    created = await kili.create_issues(
        project_id,
        label_id_array=label_ids[:2],
        object_mid_array=["mid-1", None],
        text_array=["box too large", None],
    )

    assert len(created) == 2 and all(set(c) == {"id"} for c in created)
    issues = await kili.issues(project_id)
    assert [i.id for i in issues] == [c["id"] for c in created]  # input order = creation order
    first, second = issues
    assert isinstance(first, Issue)
    assert first.label_id == label_ids[0] and first.asset_id == asset_ids[0]
    assert second.label_id == label_ids[1] and second.asset_id == asset_ids[1]
    assert first.project_id == project_id
    assert first.type_ is IssueType.ISSUE and first.status is IssueStatus.OPEN
    assert first.object_mid == "mid-1" and second.object_mid is None
    assert [c.text for c in first.comments or []] == ["box too large"]
    assert second.comments == []
    assert (first.issue_number, second.issue_number) == (1, 2)
    assert first.author is not None and first.author.email == "admin@aiokili.local"
    assert first.created_at is not None


async def test_create_issues_with_nothing_sends_nothing(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    assert await kili.create_issues(project_id, label_id_array=[]) == []


async def test_issue_filters(kili: aiokili.AsyncKili, local_server: LocalServer) -> None:
    project_id, asset_ids, label_ids = await _project_with_labels(kili)
    created = await kili.create_issues(project_id, label_id_array=label_ids)
    # a question on asset 2, through the API the web app uses
    body = gql(
        local_server,
        "mutation($i:[IssueToCreate!]!,$w:AssetWhere!){createIssues(issues:$i,where:$w){id}}",
        i=[{"type": "QUESTION", "assetId": asset_ids[2], "text": "which class?"}],
        w={"project": {"id": project_id}},
    )
    question_id = body["data"]["createIssues"][0]["id"]
    await kili.update_issue_status(created[0]["id"], "SOLVED")

    assert await kili.count_issues(project_id) == 4
    assert await kili.count_issues(project_id, asset_id=asset_ids[2]) == 2
    assert await kili.count_issues(project_id, asset_id_in=asset_ids[:2]) == 2
    assert await kili.count_issues(project_id, issue_type="QUESTION") == 1
    assert await kili.count_issues(project_id, issue_type=IssueType.ISSUE) == 3
    assert await kili.count_issues(project_id, status="SOLVED") == 1
    assert await kili.count_issues(project_id, status="OPEN", issue_type="ISSUE") == 2
    questions = await kili.issues(project_id, issue_type="QUESTION")
    assert [q.id for q in questions] == [question_id]
    assert questions[0].label_id is None and questions[0].asset_id == asset_ids[2]
    solved = await kili.issues(project_id, status=IssueStatus.SOLVED)
    assert [i.id for i in solved] == [created[0]["id"]]
    # counts equal lists, for every filter
    for filters in ({}, {"asset_id": asset_ids[2]}, {"status": "OPEN"}, {"issue_type": "ISSUE"}):
        listed = await kili.issues(project_id, **filters)  # type: ignore[arg-type]
        assert len(listed) == await kili.count_issues(project_id, **filters)  # type: ignore[arg-type]


async def test_issues_paging_and_fields(kili: aiokili.AsyncKili) -> None:
    project_id, _, label_ids = await _project_with_labels(kili, 5)
    await kili.create_issues(project_id, label_id_array=label_ids * 10)  # 50: 3 pages of 20

    everything = await kili.issues(project_id)
    assert len(everything) == 50
    assert [i.issue_number for i in everything] == list(range(1, 51))
    page = await kili.issues(project_id, first=5, skip=10)
    assert [i.id for i in page] == [i.id for i in everything[10:15]]
    narrow = await kili.issues(project_id, fields=["status", "author.email"], first=2)
    assert narrow[0].status is IssueStatus.OPEN
    assert narrow[0].author is not None and narrow[0].author.email == "admin@aiokili.local"
    with pytest.raises(AttributeError, match="add 'labelId' to fields="):
        _ = narrow[0].label_id  # not selected
    assert await kili.issues(project_id).count() == 50


async def test_issue_status_transitions(kili: aiokili.AsyncKili) -> None:
    project_id, _, label_ids = await _project_with_labels(kili, 1)
    (created,) = await kili.create_issues(project_id, label_id_array=label_ids)
    issue_id = created["id"]

    solved = await kili.update_issue_status(issue_id, "SOLVED")
    assert isinstance(solved, Issue) and solved.status is IssueStatus.SOLVED
    with pytest.raises(aiokili.InvalidRequestError, match="SOLVED: it can only become OPEN"):
        await kili.update_issue_status(issue_id, "CANCELLED")
    assert (await kili.update_issue_status(issue_id, "OPEN")).status is IssueStatus.OPEN
    assert (await kili.update_issue_status(issue_id, "CANCELLED")).status is IssueStatus.CANCELLED
    assert await kili.count_issues(project_id, status="CANCELLED") == 1


async def test_append_to_issues_creates_one_issue_or_question(kili: aiokili.AsyncKili) -> None:
    project_id, asset_ids, label_ids = await _project_with_labels(kili, 2)

    with pytest.warns(DeprecationWarning, match="create_issues"):
        issue = await kili.append_to_issues(label_ids[1], project_id, text="check this")
    with pytest.warns(DeprecationWarning):
        question = await kili.append_to_issues(
            label_id=label_ids[0], project_id=project_id, object_mid="m", type_="QUESTION"
        )

    listed = {i.id: i for i in await kili.issues(project_id)}
    assert listed[issue["id"]].asset_id == asset_ids[1]
    assert [c.text for c in listed[issue["id"]].comments or []] == ["check this"]
    assert listed[question["id"]].type_ is IssueType.QUESTION
    assert listed[question["id"]].object_mid == "m"


async def test_unknown_ids_are_not_found_naming_them(kili: aiokili.AsyncKili) -> None:
    project_id, _, label_ids = await _project_with_labels(kili, 1)
    other_project, _, other_labels = await _project_with_labels(kili, 1)

    with pytest.raises(NotFoundError, match="no-such-label"):
        await kili.create_issues(project_id, label_id_array=[label_ids[0], "no-such-label"])
    with pytest.raises(NotFoundError, match=other_labels[0]):  # a label of another project
        await kili.create_issues(project_id, label_id_array=other_labels)
    assert await kili.count_issues(project_id) == 0  # nothing was written
    with pytest.raises(NotFoundError, match="no-such-label"):
        with pytest.warns(DeprecationWarning):
            await kili.append_to_issues("no-such-label", project_id)
    with pytest.raises(NotFoundError, match="no-such-issue"):
        await kili.update_issue_status("no-such-issue", "SOLVED")
    with pytest.raises(NotFoundError, match="no-such-project"):
        await kili.issues("no-such-project")
    with pytest.raises(NotFoundError, match="no-such-project"):
        await kili.count_issues("no-such-project")
    assert await kili.count_issues(other_project) == 0


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"label_id_array": "abc"}, "label_id_array"),
        ({"label_id_array": [1]}, r"label_id_array\[0\]"),
        ({"label_id_array": ["a"], "text_array": ["x", "y"]}, "text_array has 2"),
        ({"label_id_array": ["a"], "object_mid_array": [3]}, r"object_mid_array\[0\]"),
        ({"label_id_array": ["a"], "text_array": "x"}, "text_array"),
    ],
)
async def test_create_issues_bad_input(
    kili: aiokili.AsyncKili, kwargs: dict[str, Any], named: str
) -> None:
    project_id = await new_project(kili)
    with pytest.raises(KiliInputError, match=named):
        await kili.create_issues(project_id, **kwargs)


async def test_bad_filters_and_arguments_fail_before_any_request(
    kili: aiokili.AsyncKili,
) -> None:
    with pytest.raises(KiliInputError, match="project_id"):
        kili.issues("")
    with pytest.raises(KiliInputError, match="project_id"):
        await kili.create_issues("", label_id_array=["a"])
    with pytest.raises(KiliInputError, match="status"):
        kili.issues("p", status="DONE")  # type: ignore[arg-type]
    with pytest.raises(KiliInputError, match="issue_type"):
        await kili.count_issues("p", issue_type="BUG")  # type: ignore[arg-type]
    with pytest.raises(KiliInputError, match="asset_id_in"):
        kili.issues("p", asset_id_in="asset")  # type: ignore[typeddict-item]
    with pytest.raises(KiliInputError, match="both asset_id and asset_id_in"):
        kili.issues("p", asset_id="a", asset_id_in=["b"])
    with pytest.raises(KiliInputError, match=r"unknown filter.*label_id"):
        kili.issues("p", label_id="x")  # type: ignore[call-arg]
    with pytest.raises(KiliInputError, match="status"):
        await kili.update_issue_status("i", "DONE")  # type: ignore[arg-type]
    with pytest.raises(KiliInputError, match="issue_id"):
        await kili.update_issue_status("", "OPEN")
    with pytest.raises(KiliInputError, match="Unknown field 'nope'"):
        kili.issues("p", fields=["nope"])
    with pytest.warns(DeprecationWarning):
        with pytest.raises(KiliInputError, match="text"):
            await kili.append_to_issues("l", "p", text=3)  # type: ignore[arg-type]
    with pytest.warns(DeprecationWarning):
        with pytest.raises(KiliInputError, match="type_"):
            await kili.append_to_issues("l", "p", type_="BUG")  # type: ignore[arg-type]


async def test_server_refuses_issues_without_label_or_asset(local_server: LocalServer) -> None:
    body = gql(
        local_server,
        "mutation($i:[IssueToCreate!]!,$w:AssetWhere!){createIssues(issues:$i,where:$w){id}}",
        i=[{"type": "ISSUE", "text": "floating"}],
        w={},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "issues[].labelID" in body["errors"][0]["message"]  # what names its project
    body = gql(
        local_server,
        "mutation($i:[IssueToCreate!]!,$w:AssetWhere!){createIssues(issues:$i,where:$w){id}}",
        i=[{"type": "ISSUE", "assetId": "nope"}],
        w={},
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert '"nope"' in body["errors"][0]["message"]


async def test_server_checks_each_issue_against_its_label_and_the_where(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    """A label must be on the assetId given with it, inside where's project and asset; one
    refused issue refuses the call; issues are numbered in their own project."""
    project_id, asset_ids, label_ids = await _project_with_labels(kili, 2)
    other_project, _, other_labels = await _project_with_labels(kili, 1)
    create = "mutation($i:[IssueToCreate!]!,$w:AssetWhere!){createIssues(issues:$i,where:$w){id}}"

    def refused(issues: list[dict[str, Any]], where: dict[str, Any]) -> str:
        body = gql(local_server, create, i=[{"type": "ISSUE", **i} for i in issues], w=where)
        return str(body["errors"][0]["message"])

    mismatch = [{"labelID": label_ids[0]}, {"labelID": label_ids[0], "assetId": asset_ids[1]}]
    assert refused(mismatch, {}) == (
        f"issues[1]: label {label_ids[0]!r} is on asset {asset_ids[0]!r}, "
        f"not on assetId {asset_ids[1]!r}."
    )
    assert refused([{"labelID": label_ids[1]}], {"id": asset_ids[0]}) == (
        f"issues[0] is about asset {asset_ids[1]!r}, outside where.id {asset_ids[0]!r}."
    )
    outside = [{"assetId": asset_ids[0]}, {"labelID": other_labels[0]}]
    assert refused(outside, {"project": {"id": project_id}}) == (
        f"issues[1]: label {other_labels[0]!r} is not in project {project_id!r}. "
        "Nothing was written."
    )
    assert await kili.count_issues(project_id) == 0

    mixed = [{"labelID": label_ids[0]}, {"labelID": other_labels[0]}, {"assetId": asset_ids[1]}]
    body = gql(local_server, create, i=[{"type": "ISSUE", **i} for i in mixed], w={})
    assert "errors" not in body, body
    ours = sorted(i.issue_number for i in await kili.issues(project_id))
    theirs = [i.issue_number for i in await kili.issues(other_project)]
    assert (ours, theirs) == ([1, 2], [1])


async def test_deleting_a_project_deletes_its_issues(kili: aiokili.AsyncKili) -> None:
    project_id, _, label_ids = await _project_with_labels(kili, 1)
    (created,) = await kili.create_issues(project_id, label_id_array=label_ids)
    await kili.delete_project(project_id)
    with pytest.raises(NotFoundError, match=created["id"]):
        await kili.update_issue_status(created["id"], "SOLVED")


async def test_server_update_issue_needs_an_id_and_a_known_status(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id, _, label_ids = await _project_with_labels(kili, 1)
    (created,) = await kili.create_issues(project_id, label_id_array=label_ids)
    update = (
        "mutation($d:IssueData!,$w:IssueWhere!){updatePropertiesInIssue(data:$d,where:$w){status}}"
    )
    body = gql(local_server, update, d={"status": "SOLVED"}, w={})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "where.id is required: give the issue id" in body["errors"][0]["message"]
    body = gql(local_server, update, d={"status": "DONE"}, w={"id": created["id"]})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = gql(local_server, update, d={}, w={"id": created["id"]})  # nothing to change
    assert body["data"]["updatePropertiesInIssue"] == {"status": "OPEN"}


def test_mypy_types_issue_and_user_calls() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]

    def mypy(script: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", f"tests/typing/{script}"],
            cwd=root, capture_output=True, text=True, check=False,
        )  # fmt: skip
        return result.stdout + result.stderr

    assert "Success" in mypy("issues_user_script.py")
    found = mypy("issues_bad_script.py")
    assert "Literal['DONE']" in found
    assert 'Unexpected keyword argument "label_id"' in found
    assert 'incompatible type "int"; expected "str"' in found
    assert '(expression has type "list[Issue]", variable has type "list[Label]")' in found


async def test_create_issues_partial_failure_reports_each_item(local_server: LocalServer) -> None:
    """The 2nd chunk's request fails with a 500 (not resent: a mutation): the others stay."""
    import httpx

    calls = {"createIssues": 0}

    class FailSecondChunk(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.AsyncHTTPTransport()

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if b"CreateIssues" in request.content:
                calls["createIssues"] += 1
                if calls["createIssues"] == 2:
                    return httpx.Response(500, json={"errors": [{"message": "boom"}]})
            return await self.inner.handle_async_request(request)

        async def aclose(self) -> None:
            await self.inner.aclose()

    async with httpx.AsyncClient(transport=FailSecondChunk()) as http:
        async with aiokili.AsyncKili(
            api_key=local_server.api_key, api_endpoint=local_server.url, http_client=http,
            concurrency=1,
        ) as kili:  # fmt: skip
            project_id, _, label_ids = await _project_with_labels(kili, 5)
            labels = label_ids * 50  # 250 issues: chunks of 100, 100, 50
            with pytest.raises(aiokili.BulkOperationError) as info:
                await kili.create_issues(project_id, label_id_array=labels)
            err = info.value
            assert [f.index for f in err.failures] == list(range(100, 200))
            assert err.failures[0].key == labels[100]
            assert len(err.succeeded) == 150
            assert calls["createIssues"] == 3  # the failed chunk was not resent
            assert await kili.count_issues(project_id) == 150
