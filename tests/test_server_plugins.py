"""The local server's plugins and webhooks: upload flow, builds, runs under limits, webhooks.

Raw GraphQL (``support.gql``) and an httpx PUT of the zip, as the official SDK does; a
server of its own with a short time limit so the hanging plugin's test stays fast.
"""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import anyio
import httpx
import pytest
from support import answer, gql, import_images, new_project

import aiokili
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio

# a stand-in for aiokili.plugins.PluginCore while the SDK side is on another branch
PLUGIN_CORE = """
try:
    from aiokili.plugins import PluginCore
except ImportError:
    class PluginCore:
        def __init__(self, kili, project_id, logger=None):
            self.kili, self.project_id, self.logger = kili, project_id, logger
"""
HEADER = "from plugin_core import PluginCore\n"

GATEKEEPER = (
    HEADER
    + """
import helpers.rules as rules

class PluginHandler(PluginCore):
    async def on_submit(self, label, asset_id):
        print(f"submitted {label['id']} type={label['labelType']}")
        if not rules.ok(label["jsonResponse"]):
            self.logger.warning("rule failed: back to the queue")
            await self.kili.send_back_to_queue(asset_ids=[asset_id])

    def on_review(self, label, asset_id):
        self.logger.info(f"reviewed {label['reviewedLabel']['id']} by {label['id']}")
"""
)
RULES = """
def ok(response):
    return response["JOB"]["categories"][0]["name"] == "A"
"""

RUN_TIMEOUT_S = 3.0


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(plugin_timeout_s=RUN_TIMEOUT_S) as srv:
        yield srv


@pytest.fixture
async def kili(server: LocalServer) -> Any:
    async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as client:
        yield client


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
    put_zip(url, zip_of({"plugin_core.py": PLUGIN_CORE, **files}))
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


def asset_status(server: LocalServer, asset_id: str) -> str:
    q = "query($w: AssetWhere!) { data: assets(where: $w) { status } }"
    found: str = data(gql(server, q, w={"id": asset_id}))[0]["status"]
    return found


async def test_folder_plugin_sends_asset_back_and_its_run_is_logged(
    server: LocalServer, kili: aiokili.AsyncKili
) -> None:
    files = {"main.py": GATEKEEPER, "helpers/__init__.py": "", "helpers/rules.py": RULES}
    assert upload(server, "gatekeeper", files) == "ACTIVE"
    listed = data(gql(server, "query { data: listPlugins { name projectIds createdAt } }"))
    assert {"name": "gatekeeper", "projectIds": []} in [
        {k: p[k] for k in ("name", "projectIds")} for p in listed
    ]
    project_id, asset_id = await project_with_asset(kili)
    activate(server, "gatekeeper", project_id)

    started = time.monotonic()
    label_id = await submit(kili, asset_id, "B")
    assert time.monotonic() - started < 2  # the mutation never waits for the run
    entries = wait_logs(server, project_id, "gatekeeper", finished)
    contents = [e["content"] for e in entries]
    assert f"submitted {label_id} type=DEFAULT" in contents
    assert "rule failed: back to the queue" in contents
    warning = next(e for e in entries if e["content"].startswith("rule failed"))
    assert warning["logType"] == "WARNING"
    assert warning["metadata"] == {"assetId": asset_id, "labelId": label_id}
    assert warning["projectId"] == project_id and warning["pluginName"] == "gatekeeper"
    assert len({e["runId"] for e in entries}) == 1 and entries[0]["createdAt"].endswith("Z")
    assert asset_status(server, asset_id) == "ONGOING"

    review_id = await submit(kili, asset_id, "A", "REVIEW")
    entries = wait_logs(server, project_id, "gatekeeper", lambda es: any(
        e["content"].startswith("reviewed") for e in es))  # fmt: skip
    assert f"reviewed {label_id} by {review_id}" in [e["content"] for e in entries]


async def test_plugin_that_raises_logs_its_traceback(
    server: LocalServer, kili: aiokili.AsyncKili
) -> None:
    main = (
        HEADER
        + """
class PluginHandler(PluginCore):
    def on_submit(self, label, asset_id):
        raise ValueError(f"bad label {label['id']}")
"""
    )
    assert upload(server, "raiser", {"main.py": main}) == "ACTIVE"
    project_id, asset_id = await project_with_asset(kili)
    activate(server, "raiser", project_id)
    label_id = await submit(kili, asset_id, "A")
    entries = wait_logs(server, project_id, "raiser", finished)
    (error,) = [e for e in entries if "Traceback" in e["content"]]
    assert error["logType"] == "ERROR"
    assert f"ValueError: bad label {label_id}" in error["content"]
    assert "main.py" in error["content"]
    assert status(server, "raiser") == "ACTIVE"  # a failing run does not break the plugin


async def test_memory_and_time_limits_kill_the_run_not_the_server(
    server: LocalServer, kili: aiokili.AsyncKili
) -> None:
    hungry = (
        HEADER
        + """
class PluginHandler(PluginCore):
    def on_submit(self, label, asset_id):
        hoard = bytearray(2 * 1024 ** 3)
        print(len(hoard))
"""
    )
    hanging = (
        HEADER
        + """
import time

class PluginHandler(PluginCore):
    def on_submit(self, label, asset_id):
        print("going to sleep")
        time.sleep(60)
"""
    )
    assert upload(server, "hungry", {"main.py": hungry}) == "ACTIVE"
    assert upload(server, "hanging", {"main.py": hanging}) == "ACTIVE"
    project_id, asset_id = await project_with_asset(kili)
    activate(server, "hungry", project_id)
    activate(server, "hanging", project_id)
    await submit(kili, asset_id, "A")
    # the server answers at once while both runs are under way
    started = time.monotonic()
    for _ in range(5):
        await kili.count_assets(project_id=project_id)
    assert time.monotonic() - started < 2  # well under the hanging run's 3 s
    entries = wait_logs(server, project_id, "hungry", finished)
    killed = [e for e in entries if e["content"] == "Run killed: over the memory limit of 512 MB."]
    assert [e["logType"] for e in killed] == ["ERROR"], entries
    entries = wait_logs(server, project_id, "hanging", finished, timeout=RUN_TIMEOUT_S + 20)
    contents = [e["content"] for e in entries]
    assert "going to sleep" in contents
    assert f"Run killed: over the time limit of {RUN_TIMEOUT_S:g} s." in contents


def test_build_failures_are_reported_with_their_reason(server: LocalServer) -> None:
    build_errors = ("query($n: String!) { data: getPluginBuildErrors(data: {pluginName: $n}) "
                    "{ content createdAt logType pluginName } }")  # fmt: skip
    no_handler = {"main.py": HEADER + "class Other(PluginCore):\n    pass\n"}
    assert upload(server, "nohandler", no_handler) == "FAILED"
    errors = data(gql(server, build_errors, n="nohandler"))
    assert "class PluginHandler(PluginCore)" in errors[0]["content"]
    assert errors[0]["logType"] == "ERROR" and errors[0]["pluginName"] == "nohandler"

    bad_requirement = {"main.py": HEADER + "class PluginHandler(PluginCore):\n    pass\n",
                       "requirements.txt": "this is not a requirement ==\n"}  # fmt: skip
    assert upload(server, "badreq", bad_requirement) == "FAILED"
    (error,) = data(gql(server, build_errors, n="badreq"))
    assert "pip install -r requirements.txt failed" in error["content"]
    assert "Invalid requirement" in error["content"]  # pip's own message

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


async def test_update_deactivate_and_delete(server: LocalServer, kili: aiokili.AsyncKili) -> None:
    v1 = HEADER + "class PluginHandler(PluginCore):\n    def on_submit(self, l, a):\n" \
                  "        print('v1')\n"  # fmt: skip
    assert upload(server, "lifecycle", {"main.py": v1}) == "ACTIVE"
    url = data(gql(server, "mutation($n: String!) { data: generateUpdateUrl(data: "
                           "{pluginName: $n}) }", n="lifecycle"))  # fmt: skip
    put_zip(url, zip_of({"plugin_core.py": PLUGIN_CORE, "main.py": v1.replace("v1", "v2")}))
    data(gql(server, "mutation($n: String!) { data: updatePluginRunner(data: "
                     "{pluginName: $n}) }", n="lifecycle"))  # fmt: skip
    assert wait_deployed(server, "lifecycle") == "ACTIVE"
    project_id, asset_id = await project_with_asset(kili)
    activate(server, "lifecycle", project_id)
    await submit(kili, asset_id, "A")
    assert "v2" in [e["content"] for e in wait_logs(server, project_id, "lifecycle", finished)]

    activate(server, "lifecycle", project_id, on=False)
    await submit(kili, asset_id, "B")
    await anyio.sleep(0.5)
    assert len([e for e in logs(server, project_id, "lifecycle") if e["content"] == "v2"]) == 1

    activate(server, "lifecycle", project_id)
    listed = data(gql(server, "query { data: listPlugins { name projectIds } }"))
    assert {"name": "lifecycle", "projectIds": [project_id]} in listed
    data(gql(server, "mutation($n: String!) { data: deletePlugin(where: {pluginName: $n}) }",
             n="lifecycle"))  # fmt: skip
    listed = data(gql(server, "query { data: listPlugins { name } }"))
    assert "lifecycle" not in [p["name"] for p in listed]


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], dict[str, Any]]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        type(self).received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


async def test_webhook_receives_the_event_with_its_header(
    server: LocalServer, kili: aiokili.AsyncKili
) -> None:
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{receiver.server_port}/hook"
        create = ("mutation($n: String!, $u: String!, $h: String) { data: createWebhook(data: "
                  "{pluginName: $n, webhookUrl: $u, header: $h}) }")  # fmt: skip
        data(gql(server, create, n="hook", u=url, h="Bearer s3cret"))
        assert status(server, "hook") == "ACTIVE"
        project_id, asset_id = await project_with_asset(kili)
        activate(server, "hook", project_id)
        label_id = await submit(kili, asset_id, "A")
        entries = wait_logs(server, project_id, "hook", lambda es: bool(es))
        assert entries[0]["content"].startswith("Webhook onSubmit delivered")
        headers, body = _Receiver.received[0]
        assert headers["Authorization"] == "Bearer s3cret"
        assert body["eventType"] == "onSubmit"
        assert body["logPayload"] == {"runId": entries[0]["runId"], "projectId": project_id}
        assert body["payload"]["asset_id"] == asset_id
        assert body["payload"]["label"]["id"] == label_id
        assert body["payload"]["label"]["jsonResponse"] == answer("A")

        update = ("mutation($n: String!, $u: String!, $t: [PluginHandlerType!]) { data: "
                  "updateWebhook(data: {pluginName: $n, webhookUrl: $u, handlerTypes: $t}) }")  # fmt: skip
        data(gql(server, update, n="hook", u=url, t=["onReview"]))
        await submit(kili, asset_id, "B")  # onSubmit no longer selected
        await submit(kili, asset_id, "A", "REVIEW")
        wait_logs(server, project_id, "hook", lambda es: len(es) == 2)
        assert [b["eventType"] for _, b in _Receiver.received] == ["onSubmit", "onReview"]
        assert _Receiver.received[1][0]["Authorization"] == "Bearer s3cret"  # header kept
    finally:
        receiver.shutdown()


async def test_official_sdk_plugin_gets_a_kili_client_on_the_local_server(
    server: LocalServer, kili: aiokili.AsyncKili
) -> None:
    """``from kili.plugins import PluginCore``: ``self.kili`` is ``kili.client.Kili``.

    The plugin ships a minimal stand-in ``kili`` package (as if it were installed in the
    plugin's environment), so the dispatch is checked without the official SDK here.
    """
    files = {
        "kili/__init__.py": "",
        "kili/plugins.py": PLUGIN_CORE.replace("aiokili.plugins", "no_such_module"),
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
    await submit(kili, asset_id, "A")
    entries = wait_logs(server, project_id, "official", finished)
    assert f"kili.client {server.url} {server.api_key}" in [e["content"] for e in entries]
