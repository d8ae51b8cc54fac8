"""Transport edge cases the local server cannot produce on demand (respx mocks)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import anyio
import httpx
import pytest
import respx
from support import answer_interface_lookups

import aiokili
from aiokili._core import http as _http
from aiokili._core.failures import retry_after
from aiokili._core.uploads import UploadItem
from aiokili.server import LocalServer
from aiokili.testing import ProjectFactory

URL = "https://kili.example/api/label/v2/graphql"
KEY = "secret-key-do-not-leak"
VIEWER = {"data": {"data": {"id": "u1", "email": "a@b.c", "firstname": None, "lastname": None}}}

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http, "backoff", lambda attempt: 0.0)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        yield router


def client(**kw: object) -> aiokili.AsyncKili:
    return aiokili.AsyncKili(api_key=KEY, api_endpoint=URL, **kw)  # type: ignore[arg-type]


async def test_sends_kili_api_key_header(api: respx.MockRouter) -> None:
    route = api.post(URL).respond(200, json=VIEWER)
    async with client() as kili:
        user = await kili.verify()
    assert user.email == "a@b.c"
    assert route.calls.last.request.headers["Authorization"] == f"X-API-Key: {KEY}"


async def test_graphql_errors_with_4xx_status_are_typed(api: respx.MockRouter) -> None:
    body = {
        "data": None,
        "errors": [
            {"message": "Project not found", "path": ["data"], "extensions": {"code": "NOT_FOUND"}}
        ],
    }
    route = api.post(URL).respond(400, json=body)
    async with client() as kili:
        with pytest.raises(aiokili.NotFoundError) as info:
            await kili.count_projects(project_id="nope")
    err = info.value
    assert err.status_code == 400
    assert err.errors[0].message == "Project not found"
    assert err.errors[0].path == ("data",)
    assert err.code == "NOT_FOUND"
    assert err.operation == "CountProjects" and err.call == "count_projects"
    assert str(err) == "count_projects(): Project not found"  # the call made, not the operation
    assert route.call_count == 1  # a GraphQL answer is never retried


async def test_wrong_key_is_authentication_error_without_the_key(api: respx.MockRouter) -> None:
    api.post(URL).respond(401, json={"errors": [{"message": "Invalid API key"}]})
    async with client() as kili:
        with pytest.raises(aiokili.AuthenticationError) as info:
            await kili.verify()
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    for shown in (kili, kili.graphql, kili._core.settings, kili.with_options(timeout=1)):
        assert KEY not in repr(shown) and KEY not in str(shown)


async def test_partial_data_is_kept_on_the_error(api: respx.MockRouter) -> None:
    api.post(URL).respond(200, json={"data": {"data": 3}, "errors": [{"message": "partial"}]})
    async with client() as kili:
        with pytest.raises(aiokili.GraphQLError) as info:
            await kili.count_projects()
    assert info.value.data == {"data": 3}


async def test_non_json_2xx_body_is_invalid_response(api: respx.MockRouter) -> None:
    api.post(URL).respond(200, text="<html>proxy</html>")
    async with client() as kili:
        with pytest.raises(aiokili.InvalidResponseError, match="proxy"):
            await kili.count_projects()


async def test_query_retried_on_503_then_succeeds(api: respx.MockRouter) -> None:
    route = api.post(URL).mock(
        side_effect=[
            httpx.Response(503, text="overloaded"),
            httpx.Response(502, text="bad gateway"),
            httpx.Response(200, json={"data": {"data": 7}}),
        ]
    )
    async with client() as kili:
        assert await kili.count_projects() == 7
    assert route.call_count == 3


async def test_query_gives_up_after_max_retries(api: respx.MockRouter) -> None:
    route = api.post(URL).respond(503, text="down")
    async with client(max_retries=2) as kili:
        with pytest.raises(aiokili.HTTPStatusError) as info:
            await kili.count_projects()
    assert info.value.status_code == 503 and info.value.body == "down"
    assert route.call_count == 3


async def test_mutation_not_retried_on_500(api: respx.MockRouter) -> None:
    route = api.post(URL).respond(500, text="boom", headers={"X-Request-Id": "req_1"})
    async with client() as kili:
        with pytest.raises(aiokili.MutationOutcomeUnknownError) as info:
            await kili.delete_project("p1")
    assert route.call_count == 1  # the server may have run it: never resent
    error = info.value
    assert isinstance(error.__cause__, aiokili.HTTPStatusError)
    assert (error.operation, error.call, error.identifiers) == (
        "DeleteProject",
        "delete_project",
        ("p1",),
    )
    assert (error.status_code, error.request_id, error.attempts) == (500, "req_1", 1)
    assert str(error) == (
        "delete_project(): the outcome of DeleteProject is unknown (it names 'p1'): HTTP 500 "
        f"from {URL}: boom. It may have been applied, so it was not sent again: check before "
        "calling again."
    )


async def test_mutation_retried_on_429_honouring_retry_after(api: respx.MockRouter) -> None:
    route = api.post(URL).mock(
        side_effect=[
            httpx.Response(429, text="slow down", headers={"Retry-After": "0"}),
            httpx.Response(200, json={"data": {"data": "p1"}}),
        ]
    )
    async with client() as kili:
        assert await kili.delete_project("p1") == "p1"
    assert route.call_count == 2


async def test_rate_limit_error_after_retries(api: respx.MockRouter) -> None:
    api.post(URL).respond(429, text="slow down", headers={"Retry-After": "0"})
    async with client(max_retries=1) as kili:
        with pytest.raises(aiokili.RateLimitError) as info:
            await kili.count_projects()
    assert info.value.retry_after == 0


async def test_read_timeout_retried_for_queries_only(api: respx.MockRouter) -> None:
    route = api.post(URL).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json={"data": {"data": 1}})]
    )
    async with client() as kili:
        assert await kili.count_projects() == 1
        assert route.call_count == 2
        route.reset()
        route.mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(aiokili.MutationOutcomeUnknownError) as info:
            await kili.delete_project("p1")
        assert route.call_count == 1
    assert isinstance(info.value.__cause__, aiokili.APITimeoutError)
    assert info.value.request_id is None  # no answer came


async def test_connection_refused_is_api_connection_error(api: respx.MockRouter) -> None:
    route = api.post(URL).mock(side_effect=httpx.ConnectError("refused"))
    async with client(max_retries=1) as kili:
        with pytest.raises(aiokili.APIConnectionError) as info:
            await kili.delete_project("p1")  # connect failures are safe to resend
    assert str(info.value) == (
        f"delete_project(): could not connect to {URL}: refused. Check that the server is "
        "running and reachable, or correct api_endpoint=."
    )
    assert route.call_count == 2


def test_missing_key_raises_before_any_request(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KILI_API_KEY", raising=False)
    with pytest.raises(aiokili.ConfigurationError, match="KILI_API_KEY"):
        aiokili.AsyncKili(api_endpoint=URL)
    assert not api.calls


def test_key_and_endpoint_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILI_API_KEY", KEY)
    monkeypatch.setenv("KILI_API_ENDPOINT", URL)
    kili = aiokili.AsyncKili()
    assert kili.api_endpoint == URL


def test_bad_endpoint_is_configuration_error() -> None:
    with pytest.raises(aiokili.ConfigurationError, match="http"):
        aiokili.AsyncKili(api_key=KEY, api_endpoint="localhost:4000/graphql")


async def test_upload_put_is_retried_on_503(api: respx.MockRouter, tmp_path: object) -> None:
    import json as _json
    from pathlib import Path

    image = Path(str(tmp_path)) / "a.png"
    image.write_bytes(b"png")
    signed = "https://bucket.example/put?sig=1&id=projects/p/assets/a/content"
    answers = {
        "ProjectInputType": {"data": [{"id": "p", "inputType": "IMAGE"}]},
        "FilterExistingAssets": {"data": []},
        "AssetIds": {"data": []},
        "CreateUploadBucketSignedUrls": {"data": [signed]},
        "AppendManyAssets": {"data": [{"id": "a", "externalId": "e"}]},
    }

    def graphql(request: httpx.Request) -> httpx.Response:
        name = _json.loads(request.content)["operationName"]
        return httpx.Response(200, json={"data": answers[name]})

    api.post(URL).mock(side_effect=graphql)
    put = api.put("https://bucket.example/put?sig=1").mock(
        side_effect=[httpx.Response(503, text="busy"), httpx.Response(200)]
    )
    async with client() as kili:
        result = await kili.append_many_to_dataset("p", content_array=[str(image)], id_array=["a"])
    assert result["asset_ids"] == ["a"]
    assert put.call_count == 2
    assert put.calls.last.request.content == b"png"
    assert "Authorization" not in put.calls.last.request.headers  # no key to a bucket host


@pytest.mark.parametrize(
    "body",
    [
        {"data": {}},  # no field
        {"data": {"data": "seven"}},  # wrong type
        {"errors": 5},  # not a list
        {"data": None},  # no data, no errors
        [1, 2],  # not an object
    ],
)
async def test_malformed_2xx_bodies_are_invalid_response(
    api: respx.MockRouter, body: object
) -> None:
    api.post(URL).respond(200, json=body)
    async with client() as kili:
        with pytest.raises(aiokili.InvalidResponseError) as info:
            await kili.count_projects()
    assert info.value.operation == "CountProjects"
    assert info.value.call == "count_projects"
    assert str(info.value).startswith("count_projects(): ")


async def test_undecodable_gzip_answer_is_invalid_response(api: respx.MockRouter) -> None:
    route = api.post(URL).mock(
        side_effect=lambda request: httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip")
        )
    )
    async with client(max_retries=1) as kili:
        with pytest.raises(aiokili.MutationOutcomeUnknownError, match="unreadable answer") as info:
            await kili.delete_project("p1")
    assert route.call_count == 1  # a mutation whose answer was lost is not resent
    assert isinstance(info.value.__cause__, aiokili.InvalidResponseError)


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    def wait(value: str) -> float | None:
        return retry_after(httpx.Response(429, headers={"Retry-After": value}))

    soon = datetime.now(timezone.utc) + timedelta(seconds=30)
    assert wait(format_datetime(soon, usegmt=True)) == pytest.approx(30, abs=2)
    assert wait("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # past: now
    assert wait("2.5") == 2.5
    assert wait("3600") == 60  # at most a minute
    assert wait("Wed, 32 Oct 2015 07:28:00 GMT") is None  # no such date: the backoff


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "soon", "Wed, 32 Oct 2015 07:28:00 GMT"])
async def test_odd_retry_after_values_fall_back_to_backoff(
    api: respx.MockRouter, value: str
) -> None:
    api.post(URL).mock(
        side_effect=[
            httpx.Response(429, text="slow down", headers={"Retry-After": value}),
            httpx.Response(200, json={"data": {"data": 2}}),
        ]
    )
    async with client() as kili:
        assert await kili.count_projects() == 2


async def test_401_with_a_text_body_is_authentication_error(api: respx.MockRouter) -> None:
    route = api.post(URL).respond(401, text="Unauthorized")
    async with client() as kili:
        with pytest.raises(aiokili.AuthenticationError, match="401") as info:
            await kili.verify()
    assert route.call_count == 1
    assert KEY not in str(info.value)


async def test_server_input_errors_are_kili_input_errors(api: respx.MockRouter) -> None:
    api.post(URL).respond(
        400,
        json={"errors": [{"message": "first: too big", "extensions": {"code": "BAD_USER_INPUT"}}]},
    )
    async with client() as kili:
        with pytest.raises(aiokili.KiliInputError, match="too big") as info:
            await kili.count_projects()
    assert isinstance(info.value, aiokili.InvalidRequestError)


async def test_timeout_is_a_deadline_for_the_whole_answer(api: respx.MockRouter) -> None:
    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"data": {"data": '
        for _ in range(50):  # a byte every 50 ms: no single read ever times out
            await anyio.sleep(0.05)
            yield b" "
        yield b"1}}"

    api.post(URL).mock(side_effect=lambda request: httpx.Response(200, stream=_Stream(trickle())))
    async with client(timeout=0.3, max_retries=0) as kili:
        started = anyio.current_time()
        with pytest.raises(aiokili.APITimeoutError, match=r"within 0\.3 s"):
            await kili.count_projects()
        assert anyio.current_time() - started < 2.0


async def test_bulk_call_fails_fast_when_the_endpoint_is_down(api: respx.MockRouter) -> None:
    answer_interface_lookups(api, URL)  # answered; then the endpoint goes down
    route = api.post(URL).mock(side_effect=httpx.ConnectError("refused"))
    labels = [{"JOB": {"categories": [{"name": "A"}]}}] * 1000
    async with client(max_retries=2, concurrency=4) as kili:
        with pytest.raises(aiokili.BulkOperationError) as info:
            await kili.append_labels(asset_id_array=[f"a{i}" for i in range(1000)],
                                     json_response_array=labels)  # fmt: skip
    assert len(info.value.failures) == 1000 and info.value.succeeded == []
    assert all(isinstance(f.error, aiokili.APIConnectionError) for f in info.value.failures)
    # 4 chunks in flight, 3 attempts each; the 6 other chunks are never sent.
    assert route.call_count == 4 * 3


UNKNOWN = aiokili.MutationOutcomeUnknownError


@pytest.mark.parametrize(
    ("document", "posts", "raised"),
    [
        ("mutation { deleteLabels(ids: []) }", 1, UNKNOWN),
        ("# a comment\nmutation { deleteLabels(ids: []) }", 1, UNKNOWN),
        ("fragment F on User { id }\nmutation M { deleteLabels(ids: []) }", 1, UNKNOWN),
        ('query Q { viewer { id } }\nmutation { deleteLabels(ids: ["query"]) }', 1, None),
        ("not graphql at all", 1, None),  # neither is resent: it may be a mutation
        ("query { viewer { id } }", 3, None),
        ("# mutation\n{ viewer { id } }", 3, None),
    ],
)
async def test_retry_safety_comes_from_the_parsed_operation(
    api: respx.MockRouter, document: str, posts: int, raised: type[Exception] | None
) -> None:
    route = api.post(URL).respond(500, text="boom")
    async with client(max_retries=2) as kili:
        with pytest.raises(raised or aiokili.HTTPStatusError) as info:
            await kili.execute(document)
    assert route.call_count == posts
    assert info.value.outcome_unknown == (posts == 1)
    assert info.value.attempts == posts


class _Stream(httpx.AsyncByteStream):
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            yield chunk


# Where the API key may go: each URL (the API's own origin is the local server's) and whether
# it gets the key.
KEY_SCOPE = {
    "the API's files": ("http://{host}:{port}/api/label/v2/files?path=a", True),
    "the API's root": ("http://{host}:{port}/api/label/v2", True),
    "a path the API's only begins": ("http://{host}:{port}/api/label/v2x/files", False),
    "another path of the API's host": ("http://{host}:{port}/media/a.jpg", False),
    "another scheme": ("https://{host}:{port}/api/label/v2/files", False),
    "another port": ("http://{host}:{other_port}/api/label/v2/files", False),
    "a host under another domain": ("http://{host}.evil.com:{port}/api/label/v2/files", False),
    "a bucket": ("https://bucket.example/api/label/v2/files", False),
}


@pytest.mark.parametrize("case", KEY_SCOPE)
async def test_the_key_goes_only_to_the_apis_own_urls(
    case: str,
    kili: aiokili.AsyncKili,
    kili_server: LocalServer,
    kili_project: ProjectFactory,
    tmp_path: Path,
) -> None:
    """An upload, a media download and an export with media each send the key to the API's
    own URLs only (the GraphQL calls go to the local server; the URLs are mocked)."""
    api = httpx.URL(kili_server.url)
    template, gets_key = KEY_SCOPE[case]
    url = template.format(host=api.host, port=api.port, other_port=(api.port or 80) + 1)
    project_id = await kili_project()
    (asset_id,) = (await kili.append_many_to_dataset(project_id, content_array=[url]))["asset_ids"]
    cat = {"CLASSIFICATION_JOB": {"categories": [{"name": "CAT"}]}}
    await kili.append_labels(asset_id_array=[asset_id], json_response_array=[cat])
    with respx.mock(using="httpx", assert_all_called=False) as router:
        media = router.route(url=url).respond(200, content=b"media")
        router.route().pass_through()
        await kili._core.uploads.put(url, UploadItem("a.txt", b"text", "text/plain"))
        await kili.assets(project_id, download_media=True, local_media_dir=tmp_path / "media")
        await kili.export_labels(project_id, tmp_path / "export.zip", "kili", with_assets=True)
    assert [call.request.method for call in media.calls] == ["PUT", "GET", "GET"]
    assert ["Authorization" in call.request.headers for call in media.calls] == [gets_key] * 3
