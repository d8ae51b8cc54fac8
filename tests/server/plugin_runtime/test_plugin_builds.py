"""The local server's plugins and webhooks: upload flow, builds, runs under limits, webhooks.

Only what the raw wire can show (an archive the SDK would never build, a runner before any
PUT, error codes, the JSON shape of entries), through raw GraphQL (``support.gql``) and an
httpx PUT of the zip, as the official SDK does. The lifecycle through the SDK (runs, limits,
webhooks...) is in ``test_plugins_e2e.py``.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from support import answer, gql, import_images, new_project

import aiokili
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio

HEADER = "from aiokili.plugins import PluginCore\n"


@pytest.fixture
def server(kili_server: LocalServer) -> LocalServer:
    """The test session's local server (aiokili's pytest plugin; ``kili`` is a client on it)."""
    return kili_server


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return buffer.getvalue()


def data(body: dict[str, Any]) -> Any:
    assert "errors" not in body, body
    return body["data"]["data"]


def put_zip(url: str, archive: bytes) -> None:
    httpx.put(url, content=archive, headers={"Content-type": "application/zip"}).raise_for_status()


def status(server: LocalServer, name: str) -> str:
    q = "query($name: String!) { data: getPluginRunnerStatus(name: $name) }"
    found: str = data(gql(server, q, name=name))
    return found


def wait_deployed(server: LocalServer, name: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while (found := status(server, name)) not in ("ACTIVE", "FAILED"):
        assert found == "DEPLOYING"
        assert time.monotonic() < deadline, f"{name} still {found}"
        time.sleep(0.05)
    return found


def upload(server: LocalServer, name: str, files: dict[str, str], handlers: Any = None) -> str:
    """createPlugin, PUT, createPluginRunner; the status once the build is over."""
    url = data(gql(server, "mutation($n: String!) { data: createPlugin(data: {pluginName: $n}) }",
                   n=name))  # fmt: skip
    put_zip(url, zip_of(files))
    runner = ("mutation($n: String!, $h: [PluginHandlerType!]) "
              "{ data: createPluginRunner(data: {pluginName: $n, handlerTypes: $h}) }")  # fmt: skip
    variables = {"n": name} if handlers is None else {"n": name, "h": handlers}
    data(gql(server, runner, **variables))
    return wait_deployed(server, name)


def activate(server: LocalServer, name: str, project_id: str, on: bool = True) -> None:
    op = "activatePluginOnProject" if on else "deactivatePluginOnProject"
    q = f"mutation($n: String!, $p: ID!) {{ data: {op}(where: {{pluginName: $n, projectId: $p}}) }}"
    data(gql(server, q, n=name, p=project_id))


LOGS = """query($p: ID!, $n: String!) { data: getPluginLogs(data: {projectId: $p, pluginName: $n}) {
  content createdAt logType metadata { assetId labelId } pluginName projectId runId } }"""


def logs(server: LocalServer, project_id: str, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = data(gql(server, LOGS, p=project_id, n=name))
    return found


def wait_logs(
    server: LocalServer, project_id: str, name: str,
    until: Callable[[list[dict[str, Any]]], bool], timeout: float = 30,
) -> list[dict[str, Any]]:  # fmt: skip
    deadline = time.monotonic() + timeout
    while not until(found := logs(server, project_id, name)):
        assert time.monotonic() < deadline, found
        time.sleep(0.05)
    return found


def finished(entries: list[dict[str, Any]]) -> bool:
    return any(e["content"].startswith("Run on_") for e in entries)


async def project_with_asset(kili: aiokili.AsyncKili) -> tuple[str, str]:
    project_id = await new_project(kili)
    return project_id, (await import_images(kili, project_id, 1))[0]


async def submit(
    kili: aiokili.AsyncKili, asset_id: str, category: str, kind: str = "DEFAULT"
) -> str:
    ids = await kili.append_labels(
        asset_id_array=[asset_id], json_response_array=[answer(category)], label_type=kind
    )  # type: ignore[arg-type]
    return str(ids[0])


def test_build_failures_are_reported_with_their_reason(server: LocalServer) -> None:
    build_errors = ("query($n: String!) { data: getPluginBuildErrors(data: {pluginName: $n}) "
                    "{ content createdAt logType pluginName } }")  # fmt: skip
    no_handler = {"main.py": HEADER + "class Other(PluginCore):\n    pass\n"}
    assert upload(server, "nohandler", no_handler) == "FAILED"
    errors = data(gql(server, build_errors, n="nohandler"))
    assert "class PluginHandler(PluginCore)" in errors[0]["content"]
    assert errors[0]["logType"] == "ERROR" and errors[0]["pluginName"] == "nohandler"

    assert upload(server, "escape", {"main.py": "", "../evil.py": "x = 1"}) == "FAILED"
    (error,) = data(gql(server, build_errors, n="escape"))
    assert "leaves the plugin folder" in error["content"]


def test_upload_flow_errors(server: LocalServer) -> None:
    create = "mutation($n: String!) { data: createPlugin(data: {pluginName: $n}) }"
    data(gql(server, create, n="twice"))
    body = gql(server, create, n="twice")
    assert "an entity Plugin already exists with value" in body["errors"][0]["message"]
    runner = "mutation($n: String!) { data: createPluginRunner(data: {pluginName: $n}) }"
    body = gql(server, runner, n="twice")  # nothing PUT yet
    assert "No archive was uploaded for plugin 'twice'" in body["errors"][0]["message"]
    body = gql(server, "query($name: String!) { data: getPluginRunnerStatus(name: $name) }",
               name="nope")  # fmt: skip
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "nope" in body["errors"][0]["message"]
    activate = ("mutation($n: String!, $p: ID!) { data: activatePluginOnProject(where: "
                "{pluginName: $n, projectId: $p}) }")  # fmt: skip
    body = gql(server, activate, n="twice", p="no-such-project")
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "no-such-project" in body["errors"][0]["message"]
    webhook = ("mutation($n: String!, $u: String!) { data: createWebhook(data: "
               "{pluginName: $n, webhookUrl: $u}) }")  # fmt: skip
    body = gql(server, webhook, n="wh", u="ftp://nope")
    assert "webhookUrl must be an http(s) URL" in body["errors"][0]["message"]
    body = gql(server, LOGS, p="no-such-project", n="twice")
    assert "no-such-project" in body["errors"][0]["message"]


async def test_official_sdk_plugin_gets_a_kili_client_on_the_local_server(
    server: LocalServer, kili: aiokili.AsyncKili
) -> None:
    """``from kili.plugins import PluginCore``: ``self.kili`` is ``kili.client.Kili``.

    The plugin ships a minimal stand-in ``kili`` package (as if it were installed in the
    plugin's environment), so the dispatch is checked without the official SDK here.
    """
    files = {
        "kili/__init__.py": "",
        "kili/plugins.py": (
            "class PluginCore:\n"
            "    def __init__(self, kili, project_id, logger=None):\n"
            "        self.kili, self.project_id, self.logger = kili, project_id, logger\n"
        ),
        "kili/client.py": (
            "class Kili:\n"
            "    def __init__(self, api_key, api_endpoint):\n"
            "        self.api_key, self.api_endpoint = api_key, api_endpoint\n"
        ),
        "main.py": (
            "from kili.plugins import PluginCore\n\n"
            "class PluginHandler(PluginCore):\n"
            "    def on_submit(self, label, asset_id):\n"
            "        k = self.kili\n"
            "        print(type(k).__module__, k.api_endpoint, k.api_key)\n"
        ),
    }
    assert upload(server, "official", files) == "ACTIVE"
    project_id, asset_id = await project_with_asset(kili)
    activate(server, "official", project_id)
    label_id = await submit(kili, asset_id, "A")
    entries = wait_logs(server, project_id, "official", finished)
    (line,) = [e["content"] for e in entries if e["content"].startswith("kili.client ")]
    _, endpoint, key = line.split()
    assert endpoint == server.url
    assert key != server.api_key  # a key of the plugin's own, for this run only
    # the wire format of a log entry: Kili's DateTime, camelCase metadata
    assert entries[0]["createdAt"].endswith("Z")
    assert entries[0]["metadata"] == {"assetId": asset_id, "labelId": label_id}
