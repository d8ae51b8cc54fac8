"""What a user reads when a call fails: the call they made (``projects()``, not the operation
it sent), the endpoint it used and how to change it, and a fix; fast when nothing listens
on this machine. Real local server and real sockets where they can produce the failure;
a mock transport for DNS failures and the cloud endpoint, which no test can reach."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
from support import answer, import_images, new_project

import aiokili
from aiokili._core import constants as C
from aiokili._core import http as _http
from aiokili._generated.input_types import ProjectWhere
from aiokili.errors import ItemFailure
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio
BACKENDS = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
REMOTE = "https://kili.example/api/label/v2/graphql"
CLOUD = "https://cloud.kili-technology.com/api/label/v2/graphql"


class Counting(httpx.AsyncBaseTransport):
    """A real transport that counts the attempts sent through it."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class FailOperation(httpx.AsyncBaseTransport):
    """Forwards to the real server, but answers a GraphQL error to one operation."""

    def __init__(self, operation: str) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.operation = operation

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if json.loads(request.content).get("operationName") == self.operation:
            return httpx.Response(200, json={"data": None, "errors": [{"message": "broken"}]})
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A fake clock for the retry policy: the waits it asks for, none of them slept."""
    asked: list[float] = []

    async def sleep(seconds: float) -> None:
        asked.append(seconds)
        await anyio.lowlevel.checkpoint()

    monkeypatch.setattr(_http, "wait_before_retry", sleep)
    return asked


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def says_each_thing_once(message: str) -> bool:
    sentences = [s.strip(" .").lower() for s in message.replace("; ", ". ").split(". ")]
    return len(sentences) == len(set(sentences)) and ".." not in message


# ------------------------------------------------------------------- where it went


@BACKENDS
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_nothing_listening_on_loopback_fails_within_a_second(
    closed_port: int, waits: list[float], host: str
) -> None:
    url = f"http://{host}:{closed_port}{C.API_PATH}"
    transport = Counting()
    async with httpx.AsyncClient(transport=transport) as http:
        kili = aiokili.AsyncKili(api_key="k", api_endpoint=url, http_client=http, max_retries=10)
        with pytest.raises(aiokili.APIConnectionError) as info:
            await kili.projects()  # not inside `async with kili`: nothing to close
    assert str(info.value) == (
        f"projects(): connection refused by {url}: nothing is listening there. Start the "
        "server (`aiokili server` runs a local one), or correct api_endpoint=."
    )
    # Three quick resends (a server that is starting gets them), not max_retries=10.
    assert transport.attempts == 4 and waits == [0.1, 0.2, 0.4] and sum(waits) < 1
    assert info.value.call == "projects" and info.value.operation == "CountProjects"


async def test_loopback_refusals_keep_max_retries_zero(
    closed_port: int, waits: list[float]
) -> None:
    transport = Counting()
    async with httpx.AsyncClient(transport=transport) as http:
        kili = aiokili.AsyncKili(api_key="k", api_endpoint=f"http://127.0.0.1:{closed_port}",
                                 http_client=http, max_retries=0)  # fmt: skip
        with pytest.raises(aiokili.APIConnectionError, match="nothing is listening"):
            await kili.count_projects()
    assert transport.attempts == 1 and waits == []


class Failing:
    """Answers no request: each fails as the operating system reports ``cause`` (counted).
    (respx would replace the exception's cause, which is what the policy reads.)"""

    def __init__(self, cause: OSError) -> None:
        self.cause, self.calls = cause, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        try:
            raise self.cause
        except OSError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc


@contextlib.asynccontextmanager
async def client_over(
    handler: Callable[[httpx.Request], httpx.Response], **options: Any
) -> AsyncIterator[aiokili.AsyncKili]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        async with aiokili.AsyncKili(api_key="k", http_client=http, **options) as kili:
            yield kili


NO_SUCH_NAME = socket.gaierror(socket.EAI_NONAME, "Name or service not known")


async def test_a_remote_refusal_keeps_the_usual_backoff(
    waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_http, "backoff", lambda attempt: 2.0)
    refused = Failing(ConnectionRefusedError(111, "Connection refused"))
    async with client_over(refused, api_endpoint=REMOTE, max_retries=3) as kili:
        with pytest.raises(aiokili.APIConnectionError) as info:
            await kili.count_projects()
    assert refused.calls == 4 and waits == [2.0, 2.0, 2.0]  # a load balancer may recover
    assert str(info.value) == (
        f"count_projects(): could not connect to {REMOTE}: connection refused. Check that the "
        "server is running and reachable, or correct api_endpoint=."
    )


async def test_a_host_name_that_does_not_resolve_says_so_at_once(waits: list[float]) -> None:
    unknown = Failing(NO_SUCH_NAME)
    async with client_over(unknown, api_endpoint=REMOTE) as kili:
        with pytest.raises(aiokili.APIConnectionError) as info:
            await kili.count_projects()
    assert str(info.value) == (
        f'count_projects(): cannot reach {REMOTE}: its host name "kili.example" does not '
        "resolve. Check its spelling and your network, or correct api_endpoint=."
    )
    assert unknown.calls == 1 and waits == []  # no retry makes a name exist


async def test_a_temporary_dns_failure_is_retried(waits: list[float]) -> None:
    again = Failing(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"))
    async with client_over(again, api_endpoint=REMOTE, max_retries=2) as kili:
        with pytest.raises(aiokili.APIConnectionError) as info:
            await kili.count_projects()
    assert again.calls == 3 and len(waits) == 2
    assert str(info.value) == (
        f'count_projects(): cannot reach {REMOTE}: its host name "kili.example" could not be '
        "resolved (Temporary failure in name resolution). Check your network, or correct "
        "api_endpoint=."
    )


async def test_without_kili_api_endpoint_the_message_says_the_cloud_was_used(
    waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KILI_API_ENDPOINT", raising=False)
    async with client_over(Failing(NO_SUCH_NAME)) as kili:
        with pytest.raises(aiokili.APIConnectionError) as info:
            await kili.projects()
    assert str(info.value) == (
        f"projects(): cannot reach {CLOUD} (Kili's cloud: KILI_API_ENDPOINT is not set): its "
        'host name "cloud.kili-technology.com" does not resolve. Check your network, or set '
        "KILI_API_ENDPOINT or pass api_endpoint= to use another server."
    )

    def unknown_key(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"errors": [{"message": "Invalid API key."}]})

    async with client_over(unknown_key) as kili:
        with pytest.raises(aiokili.AuthenticationError) as auth:
            await kili.verify()
    assert str(auth.value) == (
        f"verify(): Invalid API key. The key was sent to {CLOUD} (Kili's cloud: "
        "KILI_API_ENDPOINT is not set)."
    )


async def test_an_endpoint_from_the_environment_says_so(
    waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KILI_API_ENDPOINT", REMOTE)
    async with client_over(Failing(NO_SUCH_NAME)) as kili:
        with pytest.raises(aiokili.APIConnectionError) as info:
            await kili.count_assets("p")
    assert str(info.value) == (
        f"count_assets(): cannot reach {REMOTE} (from KILI_API_ENDPOINT): its host name "
        '"kili.example" does not resolve. Check its spelling and your network, or correct '
        "KILI_API_ENDPOINT (or pass api_endpoint=)."
    )


async def test_a_404_suggests_the_api_path(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = local_server.url.removesuffix(C.API_PATH)
    good = f"{base}{C.API_PATH}"
    async with aiokili.AsyncKili(api_key=local_server.api_key, api_endpoint=f"{base}/graphql",
                                 max_retries=0) as kili:  # fmt: skip
        with pytest.raises(aiokili.HTTPStatusError) as info:
            await kili.count_projects()
    assert str(info.value) == (
        f"count_projects(): HTTP 404 from {base}/graphql: Not Found. Kili's GraphQL API is at "
        f"the path {C.API_PATH}: try api_endpoint='{good}'."
    )
    monkeypatch.setenv("KILI_API_ENDPOINT", base)
    async with aiokili.AsyncKili(api_key=local_server.api_key, max_retries=0) as kili:
        with pytest.raises(aiokili.HTTPStatusError) as info:
            await kili.projects()
    assert str(info.value) == (
        f"projects(): HTTP 404 from {base} (from KILI_API_ENDPOINT): Not Found. Kili's GraphQL "
        f"API is at the path {C.API_PATH}: try KILI_API_ENDPOINT={good}."
    )
    assert info.value.status_code == 404


async def test_a_wrong_key_names_the_server_it_was_sent_to(local_server: LocalServer) -> None:
    async with aiokili.AsyncKili(api_key="wrong", api_endpoint=local_server.url) as kili:
        with pytest.raises(aiokili.AuthenticationError) as info:
            await kili.count_projects()
    message = str(info.value)
    assert message.startswith("count_projects(): ")
    assert message.endswith(f" The key was sent to {local_server.url}.")
    assert "wrong" not in message and says_each_thing_once(message)


def test_an_endpoint_that_is_not_a_url_names_its_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILI_API_ENDPOINT", "localhost:4000/graphql")
    with pytest.raises(aiokili.ConfigurationError) as info:
        aiokili.AsyncKili(api_key="k")
    assert str(info.value) == (
        "KILI_API_ENDPOINT must be an http(s) URL, got 'localhost:4000/graphql' (e.g. "
        f"{CLOUD}, or http://127.0.0.1:4000{C.API_PATH} for `aiokili server`)."
    )


# ------------------------------------------------------------- the call the user made


@contextlib.asynccontextmanager
async def failing(
    server: LocalServer, operation: str, **options: Any
) -> AsyncIterator[aiokili.AsyncKili]:
    """A client of ``server`` whose requests of ``operation`` get a GraphQL error."""
    async with httpx.AsyncClient(transport=FailOperation(operation)) as http:
        async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url,
                                     http_client=http, **options) as kili:  # fmt: skip
            yield kili


@pytest.mark.parametrize("first", [None, 1])  # after a count / one page, no count
async def test_listing_errors_name_the_listing_even_from_prefetch_tasks(
    local_server: LocalServer, kili: aiokili.AsyncKili, first: int | None
) -> None:
    for _ in range(3):
        await new_project(kili)
    async with failing(local_server, "Projects", page_size=1) as client:
        listing = client.projects(first=first)  # made now, its pages fetched later
        with pytest.raises(aiokili.GraphQLError) as info:
            async for _ in listing:
                pass
        assert str(info.value) == "projects(): broken"
        assert (info.value.call, info.value.operation) == ("projects", "Projects")
        with pytest.raises(aiokili.GraphQLError, match=r"^projects\(\): broken$"):
            await client.projects()
    async with failing(local_server, "CountProjects") as client:
        with pytest.raises(aiokili.GraphQLError, match=r"^projects\(\): broken$"):
            await client.projects().count()
        with pytest.raises(aiokili.GraphQLError, match=r"^count_projects\(\): broken$"):
            await client.count_projects()
        with pytest.raises(aiokili.GraphQLError, match=r"^CountProjects: broken$"):
            await client.graphql.count_projects(where=ProjectWhere())


async def test_a_call_made_inside_another_is_named_as_the_user_called_it(
    local_server: LocalServer, kili: aiokili.AsyncKili
) -> None:
    project_id = await new_project(kili)
    [asset] = await import_images(kili, project_id, 1)
    async with failing(local_server, "AppendManyLabels") as client:
        with pytest.raises(aiokili.BulkOperationError) as info:
            await client.create_predictions(project_id, asset_id_array=[asset],
                                             json_response_array=[answer("A")], model_name="m")  # fmt: skip
    assert str(info.value) == (
        "create_predictions(): 1 item(s) failed, 0 succeeded; first error at index 0: broken. "
        "Fix the failed items and call again with only those."
    )
    assert str(info.value.failures[0].error) == "create_predictions(): broken"


async def test_an_async_generator_names_itself(
    local_server: LocalServer, kili: aiokili.AsyncKili
) -> None:
    async with failing(local_server, "GetPluginLogs") as client:
        with pytest.raises(aiokili.GraphQLError, match=r"^iter_plugin_logs\(\): broken$"):
            async for _ in client.iter_plugin_logs("p", "plugin"):
                pass


async def test_calls_made_by_a_subscription_callback_name_themselves(
    local_server: LocalServer, kili: aiokili.AsyncKili
) -> None:
    project_id = await new_project(kili)
    [asset] = await import_images(kili, project_id, 1)
    async with failing(local_server, "CountProjects") as client:

        async def on_label(subscription_id: str, label: aiokili.Label) -> None:
            await client.count_projects()  # the user's own call, made from the callback

        subscription = client.label_created_or_updated(project_id, on_label)
        with anyio.fail_after(20):
            await _subscribed(local_server, project_id)
            await kili.append_labels(asset_id_array=[asset], json_response_array=[answer("A")])
            with pytest.raises(aiokili.GraphQLError, match=r"^count_projects\(\): broken$"):
                await subscription.wait()


async def _subscribed(server: LocalServer, project_id: str) -> None:
    """Wait until the server has a subscriber on the project (its state has no event)."""
    from aiokili.server.live.feed import LabelFeed

    feed = LabelFeed.of(server.store)
    while not feed._subscribers.get(project_id):  # noqa: ASYNC110
        await anyio.sleep(0.02)


def test_every_public_method_names_itself() -> None:
    public = [n for n in dir(aiokili.AsyncKili) if not n.startswith("_")]
    methods = [n for n in public if callable(getattr(aiokili.AsyncKili, n))]
    assert len(methods) > 50
    unnamed = [n for n in methods if not hasattr(getattr(aiokili.AsyncKili, n), "__wrapped__")]
    assert unnamed == []


def test_a_bulk_error_quotes_its_first_failure_without_repeating_itself() -> None:
    inner = aiokili.NotFoundError.from_message("Asset 'a1' not found.", "NOT_FOUND",
                                               call="append_labels")  # fmt: skip
    error = aiokili.BulkOperationError("append_labels", [ItemFailure(0, "a1", inner)], ["l2"])
    assert str(inner) == "append_labels(): Asset 'a1' not found."
    assert str(error) == (
        "append_labels(): 1 item(s) failed, 1 succeeded; first error at index 0: Asset 'a1' "
        "not found. Fix the failed items and call again with only those."
    )
    assert says_each_thing_once(str(error))
