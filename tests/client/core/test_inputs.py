"""Bad input gets a KiliInputError naming the argument, before any request is sent."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import respx

import aiokili

URL = "https://kili.example/api/label/v2/graphql"
pytestmark = pytest.mark.anyio

Call = Callable[[aiokili.AsyncKili], Awaitable[Any] | Any]
A = {"JOB": {"categories": [{"name": "A"}]}}

CASES: list[tuple[str, Call, str]] = [
    ("str for content_array", lambda k: k.append_many_to_dataset("p", content_array="https://a/1.jpg"),
     "content_array must be a list, got str"),
    ("None content", lambda k: k.append_many_to_dataset("p", content_array=[None]),
     r"content_array\[0\] must be"),
    ("str for external ids", lambda k: k.append_many_to_dataset("p", content_array=["https://a"], external_id_array="e"),
     "external_id_array must be a list"),
    ("empty external id", lambda k: k.append_many_to_dataset("p", content_array=["https://a"], external_id_array=[""]),
     r"external_id_array\[0\] is empty"),
    ("int honeypot flag", lambda k: k.append_many_to_dataset("p", content_array=["https://a"], is_honeypot_array=[1]),
     r"is_honeypot_array\[0\] must be bool"),
    ("str honeypot flag", lambda k: k.append_many_to_dataset("p", content_array=["https://a"], is_honeypot_array=["true"]),
     r"is_honeypot_array\[0\] must be bool"),
    ("metadata as JSON text", lambda k: k.append_many_to_dataset("p", content_array=["https://a"], json_metadata_array=['{"a": 1}']),
     r"json_metadata_array\[0\] must be dict"),
    ("metadata not JSON", lambda k: k.append_many_to_dataset("p", content_array=["https://a"], json_metadata_array=[{"a": float("nan")}]),
     r"json_metadata_array\[0\] is not JSON-serializable"),
    ("label as JSON text", lambda k: k.append_labels(asset_id_array=["a"], json_response_array=['{"JOB": {}}']),
     r"json_response_array\[0\] must be dict"),
    ("str for asset ids", lambda k: k.append_labels(asset_id_array="abc", json_response_array=[A, A, A]),
     "asset_id_array must be a list"),
    ("bool seconds", lambda k: k.append_labels(asset_id_array=["a"], json_response_array=[A], seconds_to_label_array=[True]),
     r"seconds_to_label_array\[0\] must be int or float"),
    ("unknown label type", lambda k: k.append_labels(asset_id_array=["a"], json_response_array=[A], label_type="FINAL"),
     "label_type"),
    ("json_interface as text", lambda k: k.create_project(title="t", input_type="TEXT", json_interface='{"jobs": {}}'),
     "json_interface must be a dict"),
    ("json_interface as list", lambda k: k.create_project(title="t", input_type="TEXT", json_interface=[]),
     "json_interface must be a dict"),
    ("empty title", lambda k: k.create_project(title=" ", input_type="TEXT", json_interface={}),
     "title must be a non-empty string"),
    ("str first", lambda k: k.labels("p", first="10"), "first must be an integer"),
    ("float skip", lambda k: k.assets("p", skip=1.5), "skip must be an integer"),
    ("negative first", lambda k: k.projects(first=-1), "first must be >= 0"),
    ("str for a list filter", lambda k: k.count_assets("p", external_id_strictly_in="img-1"),
     "external_id_strictly_in"),
    ("unknown filter", lambda k: k.count_labels("p", auhtor_in=["x"]), r'unknown filter "auhtor_in"'),
    ("int for a bool filter", lambda k: k.count_projects(archived=1), "archived"),
    ("bad status", lambda k: k.count_assets("p", status_in=["DONE"]), r"status_in\[0\]"),
]  # fmt: skip


@pytest.fixture
def no_requests() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        route = router.route()
        yield router
    assert not route.called, "a request was sent for bad input"


@pytest.mark.parametrize(("name", "call", "message"), CASES, ids=[c[0] for c in CASES])
async def test_bad_input_is_rejected_before_any_request(
    no_requests: respx.MockRouter, name: str, call: Call, message: str
) -> None:
    async with aiokili.AsyncKili(api_key="k", api_endpoint=URL) as kili:
        with pytest.raises(aiokili.KiliInputError, match=message):
            result = call(kili)
            if isinstance(result, Awaitable):
                await result


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("page_size", 1001, "page_size must be between 1 and 1000"),
        ("page_size", "100", "page_size must be an integer"),
        ("page_size", 0, "page_size must be between 1 and 1000"),
        ("prefetch", 0, "prefetch must be between"),
        ("concurrency", 2.5, "concurrency must be an integer"),
        ("max_retries", -1, "max_retries must be between"),
        ("timeout", 0, "timeout must be > 0"),
        ("timeout", "30", "timeout must be a number"),
    ],
)
def test_bad_client_options(option: str, value: object, message: str) -> None:
    with pytest.raises(aiokili.KiliInputError, match=message):
        aiokili.AsyncKili(api_key="k", api_endpoint=URL, **{option: value})  # type: ignore[arg-type]


INPUT_MESSAGES: list[tuple[Call, str]] = [
    (lambda k: k.count_assets("p", status="LABELED"),
     'count_assets() got an unknown filter "status": did you mean "status_in"?'),
    (lambda k: k.labels("p", auhtor_in=["x"]),
     'labels() got an unknown filter "auhtor_in": did you mean "author_in"?'),
    (lambda k: k.count_assets("p", status_in="LABELED"),
     "count_assets(): status_in must be a list, got str 'LABELED': pass a list, e.g. "
     "status_in=['LABELED']."),
    (lambda k: k.projects(tags_in="urgent"),
     "projects(): tags_in must be a list, got str 'urgent': pass a list, e.g. tags_in=['urgent']."),
    (lambda k: k.count_projects(archived="yes"),
     "count_projects(): archived must be True or False, got str 'yes'."),
    (lambda k: k.count_assets("p", status_in=["LABELLED"]),
     "count_assets(): status_in[0] must be 'TODO', 'ONGOING', 'LABELED', 'REVIEWED' or "
     "'TO_REVIEW', got 'LABELLED'."),
    (lambda k: k.create_project(title="t", input_type="PHOTO", json_interface={"jobs": {}}),
     "Invalid CreateProjectData: input_type must be 'IMAGE', 'GEOSPATIAL', 'PDF', 'TEXT', "
     "'VIDEO', 'LLM_RLHF', 'LLM_INSTR_FOLLOWING', 'LLM_STATIC' or 'AUDIO', got 'PHOTO'."),
    (lambda k: k.count_assets("p", consensus_mark_gt="high"),
     "count_assets(): consensus_mark_gt must be a number, got str 'high'."),
    (lambda k: k.append_many_to_dataset("p", content_array="https://a/1.jpg"),
     "content_array must be a list, got str 'https://a/1.jpg': pass a list, e.g. "
     "content_array=['https://a/1.jpg']."),
    (lambda k: k.append_many_to_dataset("p", content_array=["https://a/1.jpg", "no-dir/cat.jpg"]),
     "content_array[1] looks like a file path, but there is no such file: 'no-dir/cat.jpg'. "
     "Check the path. Nothing was imported."),  # once: it said "(nothing was imported)." too
]  # fmt: skip


@pytest.mark.parametrize(("call", "message"), INPUT_MESSAGES)
async def test_input_mistakes_say_the_fix_once(
    no_requests: respx.MockRouter, call: Call, message: str
) -> None:
    async with aiokili.AsyncKili(api_key="k", api_endpoint=URL) as kili:
        with pytest.raises(aiokili.KiliInputError) as info:
            result = call(kili)
            if isinstance(result, Awaitable):
                await result
    assert str(info.value) == message


def test_an_unknown_filter_with_nothing_close_lists_the_filters() -> None:
    kili = aiokili.AsyncKili(api_key="k", api_endpoint=URL)
    with pytest.raises(aiokili.KiliInputError) as info:
        kili.users(colour="red")  # type: ignore[call-overload]
    message = str(info.value)
    assert message.startswith('users() got an unknown filter "colour". Filters of users(): ')
    assert "email" in message and "did you mean" not in message


TYPOS = [  # (method, its positional arguments, a misspelt filter)
    ("count_assets", '"p"', "statuss_in"), ("count_assets", '"p"', "status"),
    ("count_assets", '"p"', "stepp"), ("count_labels", '"p"', "auhtor_in"),
    ("count_projects", "", "archive"), ("count_issues", '"p"', "statuss"),
    ("count_users", "", "emial"), ("count_projects", "", "colour"),
]  # fmt: skip


def test_runtime_suggestions_are_mypys(tmp_path: Path) -> None:
    """A misspelt filter gets the suggestion mypy gives for the same line, or none if mypy
    has none."""
    calls = [
        f"    await kili.{m}({args}{', ' if args else ''}{name}=None)" for m, args, name in TYPOS
    ]
    script = tmp_path / "typos.py"
    script.write_text(
        "import aiokili\n\n\nasync def main(kili: aiokili.AsyncKili) -> None:\n"
        + "\n".join(calls)
        + "\n"
    )
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", str(script)], cwd=root,
                            capture_output=True, text=True, check=False)  # fmt: skip
    pattern = r":(\d+): error: Unexpected keyword argument [^;\n]*(?:; (did you mean [^\n]*?\?))?"
    mypy_says = [m[2] for m in re.finditer(pattern, result.stdout)]
    assert len(mypy_says) == len(TYPOS), result.stdout

    async def runtime_says() -> list[str | None]:
        said: list[str | None] = []
        async with aiokili.AsyncKili(api_key="k", api_endpoint=URL) as kili:
            for method, args, name in TYPOS:
                with pytest.raises(aiokili.KiliInputError) as info:
                    await getattr(kili, method)(*(["p"] if args else []), **{name: ["x"]})
                found = re.search(r"did you mean [^?]*\?", str(info.value))
                said.append(found[0] if found else None)
        return said

    assert anyio.run(runtime_says) == mypy_says
    assert mypy_says[:2] == ['did you mean "status_in"?'] * 2 and mypy_says[-1] is None
