"""The SDK side of plugins and webhooks (issue 7).

- local checks: every bad input is rejected before any request (respx guard);
- the archive's contents; PluginCore's dispatch (sync and async handlers);
- ``run_locally`` against the REAL local server (what the plugin calls);
- against respx mocks of the contract (kili-contract.md §6), only what the real server cannot
  produce on demand (a deployment that never ends, a flaky archive PUT). The lifecycle itself
  runs on the real server: ``test_plugins_e2e.py``.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from plugin_support import write_files
from support import answer, import_images, new_project

import aiokili
import aiokili.plugins as plugins
from aiokili.plugins import PluginCore, run_locally
from aiokili.plugins import files as plugin_files
from aiokili.plugins import methods as plugin_methods

URL = "https://kili.example/api/label/v2/graphql"
UPLOAD = "https://kili.example/api/label/v2/files/plugin-upload?token=t&id=xyz"
pytestmark = pytest.mark.anyio

GOOD = """
from aiokili.plugins import PluginCore


class PluginHandler(PluginCore):
    def on_submit(self, label, asset_id):
        return ("submit", label["id"], asset_id)

    async def on_review(self, label, asset_id):
        return ("review", label["reviewedLabel"]["id"], asset_id)
"""


# ----------------------------------------------------------------------------- local checks


@pytest.fixture
def no_requests() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        route = router.route()
        yield router
    assert not route.called, "a request was sent for bad input"


Call = Callable[[aiokili.AsyncKili, Path], Awaitable[Any]]

BAD: list[tuple[str, Call, type[Exception], str]] = [
    ("file_path deprecated", lambda k, d: k.upload_plugin(file_path=str(d / "p.py")),
     TypeError, '"file_path" has been deprecated for "plugin_path", please use "plugin_path"'),
    ("no path", lambda k, d: k.upload_plugin(), TypeError,
     r"^upload_plugin\(\) needs plugin_path: a \.py file, or a folder holding a main\.py\.$"),
    ("update without name", lambda k, d: k.update_plugin(d / "good.py"),
     TypeError, r"^update_plugin\(\) needs plugin_name, the name of the plugin to update"),
    ("update file_path", lambda k, d: k.update_plugin(file_path="x", plugin_name="n"),
     TypeError, "file_path"),
    ("unknown kwarg", lambda k, d: k.upload_plugin(d / "good.py", plugin_nme="x"),
     TypeError, "plugin_nme"),
    ("path not str", lambda k, d: k.upload_plugin(3), aiokili.KiliInputError, "plugin_path must be"),
    ("missing path", lambda k, d: k.upload_plugin(d / "nope.py"),
     aiokili.KiliInputError, "plugin_path .*nope.py.* does not exist"),
    ("not a .py", lambda k, d: k.upload_plugin(d / "notes.txt"),
     aiokili.KiliInputError, r"plugin_path .* must be a \.py file"),
    ("folder without main.py", lambda k, d: k.upload_plugin(d / "nomain"),
     aiokili.KiliInputError, "has no main.py"),
    ("no PluginHandler", lambda k, d: k.upload_plugin(d / "nohandler.py"),
     aiokili.KiliInputError, r"no top-level `class PluginHandler\(PluginCore\)`"),
    ("PluginHandler without base", lambda k, d: k.upload_plugin(d / "nobase.py"),
     aiokili.KiliInputError, "PluginHandler"),
    ("syntax error in a module", lambda k, d: k.upload_plugin(d / "badsyntax"),
     aiokili.KiliInputError, "helper.py has a syntax error at line 1"),
    ("no handler method", lambda k, d: k.upload_plugin(d / "nomethods.py"),
     aiokili.KiliInputError, "PluginHandler defines none of on_submit"),
    ("empty plugin_name", lambda k, d: k.upload_plugin(d / "good.py", " "),
     aiokili.KiliInputError, "plugin_name must be a non-empty string"),
    ("bad deploy_timeout", lambda k, d: k.upload_plugin(d / "good.py", deploy_timeout=0),
     aiokili.KiliInputError, "deploy_timeout"),
    ("update: no main.py", lambda k, d: k.update_plugin(d / "nomain", "n"),
     aiokili.KiliInputError, "has no main.py"),
    ("status: empty name", lambda k, d: k.get_plugin_status(""), aiokili.KiliInputError, "plugin_name"),
    ("logs: str start_date", lambda k, d: k.get_plugin_logs("p", "n", start_date="1970/01/01"),
     aiokili.KiliInputError, "start_date must be a datetime"),
    ("logs: negative limit", lambda k, d: k.get_plugin_logs("p", "n", limit=-1),
     aiokili.KiliInputError, "limit must be an integer >= 0"),
    ("logs: empty project", lambda k, d: k.get_plugin_logs("", "n"), aiokili.KiliInputError, "project_id"),
    ("build errors: float skip", lambda k, d: k.get_plugin_build_errors("n", skip=1.5),
     aiokili.KiliInputError, "skip must be"),
    ("iter logs: zero page", lambda k, d: k.iter_plugin_logs("p", "n", page_size=0).__anext__(),
     aiokili.KiliInputError, "page_size"),
    ("list: str fields", lambda k, d: k.list_plugins(fields="name"), aiokili.KiliInputError, "fields"),
    ("list: unknown field", lambda k, d: k.list_plugins(fields=["nmae"]),
     aiokili.KiliInputError, "Unknown field 'nmae'"),
    ("activate: empty project", lambda k, d: k.activate_plugin_on_project("n", ""),
     aiokili.KiliInputError, "project_id"),
    ("deactivate: empty name", lambda k, d: k.deactivate_plugin_on_project("", "p"),
     aiokili.KiliInputError, "plugin_name"),
    ("delete: empty name", lambda k, d: k.delete_plugin(""), aiokili.KiliInputError, "plugin_name"),
    ("webhook: not a URL", lambda k, d: k.create_webhook("hook", "wh"),
     aiokili.KiliInputError, "webhook_url must be an http"),
    ("webhook: bad handler", lambda k, d: k.create_webhook("https://h", "wh", handler_types=["onSubmitt"]),
     aiokili.KiliInputError, r"handler_types\[0\] is 'onSubmitt'"),
    ("webhook: str handler types", lambda k, d: k.create_webhook("https://h", "wh", handler_types="onSubmit"),
     aiokili.KiliInputError, "handler_types must be a list"),
    ("webhook: empty handler types", lambda k, d: k.create_webhook("https://h", "wh", handler_types=[]),
     aiokili.KiliInputError, "handler_types is empty"),
    ("webhook: int header", lambda k, d: k.create_webhook("https://h", "wh", header=1),
     aiokili.KiliInputError, "header must be a str"),
    ("update webhook: bad url", lambda k, d: k.update_webhook("ftp://h", "wh"),
     aiokili.KiliInputError, "new_webhook_url must be"),
    ("upload: str event_matcher", lambda k, d: k.upload_plugin(d / "good.py", event_matcher="asset.skipped"),
     aiokili.KiliInputError, "event_matcher must be a list"),
    ("update: empty event", lambda k, d: k.update_plugin(d / "good.py", "n", event_matcher=[""]),
     aiokili.KiliInputError, r"event_matcher\[0\] must be a non-empty string"),
    ("webhook: both kinds", lambda k, d: k.create_webhook("https://h", "wh", handler_types=["onSubmit"], event_matcher=["asset.skipped"]),
     aiokili.KiliInputError, "handler_types or event_matcher, not both"),
    ("webhook: empty matcher", lambda k, d: k.update_webhook("https://h", "wh", event_matcher=[]),
     aiokili.KiliInputError, "event_matcher is empty"),
    ("update webhook: no name", lambda k, d: k.update_webhook("https://h", ""),
     aiokili.KiliInputError, "plugin_name"),
]  # fmt: skip


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Path:
    write_files(tmp_path, {"good.py": GOOD, "notes.txt": "hi", "nomain/other.py": "x = 1"})
    write_files(tmp_path, {"nohandler.py": "class Handler:\n    pass\n"})
    write_files(tmp_path, {"nobase.py": "class PluginHandler:\n    pass\n"})
    write_files(tmp_path, {"nomethods.py": "class PluginHandler(PluginCore):\n    x = 1\n"})
    write_files(tmp_path, {"badsyntax/main.py": GOOD, "badsyntax/helper.py": "def (:\n"})
    return tmp_path


@pytest.mark.parametrize(("name", "call", "error", "message"), BAD, ids=[c[0] for c in BAD])
async def test_bad_input_is_rejected_before_any_request(
    no_requests: respx.MockRouter,
    plugin_dir: Path,
    name: str,
    call: Call,
    error: type[Exception],
    message: str,
) -> None:
    async with aiokili.AsyncKili(api_key="k", api_endpoint=URL) as kili:
        with pytest.raises(error, match=message):
            await call(kili, plugin_dir)


@pytest.mark.parametrize(
    "call",
    [
        lambda k, d: k.upload_plugin(),
        lambda k, d: k.update_plugin(d / "good.py"),
        lambda k, d: k.upload_plugin(file_path=str(d / "good.py")),
        lambda k, d: k.update_plugin(d / "good.py", "n", plugin_nme="x"),
    ],
    ids=["no path", "update without name", "file_path", "unknown kwarg"],
)
async def test_missing_or_misnamed_arguments_are_input_errors_and_type_errors(
    no_requests: respx.MockRouter, plugin_dir: Path, call: Call
) -> None:
    """In the error tree (``except aiokili.KiliInputError``), and a TypeError as the
    official SDK raises there (``except TypeError`` keeps working)."""
    async with aiokili.AsyncKili(api_key="k", api_endpoint=URL) as kili:
        with pytest.raises(aiokili.KiliInputError) as caught:
            await call(kili, plugin_dir)
    assert isinstance(caught.value, TypeError)
    assert not str(caught.value).startswith('"plugin_')


def test_file_path_message_is_the_seeds() -> None:
    with pytest.raises(TypeError) as caught:
        plugin_files.plugin_path_of("upload_plugin", None, {"file_path": "a.py"})
    assert str(caught.value) == (
        '"file_path" has been deprecated for "plugin_path", please use "plugin_path" instead'
    )


# ----------------------------------------------------------------------------- the archive


def _members(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_a_single_file_is_stored_as_main_py(tmp_path: Path) -> None:
    write_files(tmp_path, {"my_rule.py": GOOD})
    files = plugin_files.plugin_files("upload_plugin", tmp_path / "my_rule.py")
    assert _members(plugin_files.plugin_archive(files)) == {"main.py": GOOD.encode()}
    assert (
        plugin_files.plugin_name_of("upload_plugin", tmp_path / "my_rule.py", None) == "my_rule.py"
    )


def test_a_folder_keeps_its_modules_subfolders_and_requirements(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "shop_rules",
        {
            "main.py": "from helpers.helper import f\n" + GOOD,
            "other_file.py": "X = 1\n",
            "helpers/helper.py": "def f(): return 1\n",
            "helpers/__pycache__/helper.cpython-311.pyc": "junk",
            "requirements.txt": "numpy\n",
            "README.md": "not shipped",
            "data/sub/requirements.txt": "not the root one",
        },
    )
    members = _members(
        plugin_files.plugin_archive(plugin_files.plugin_files("upload_plugin", folder))
    )
    assert sorted(members) == ["helpers/helper.py", "main.py", "other_file.py", "requirements.txt"]
    assert members["requirements.txt"] == b"numpy\n"
    assert plugin_files.plugin_name_of("upload_plugin", folder, None) == "shop_rules"


def test_handler_types_come_from_the_methods_defined() -> None:
    kinds = plugin_files.handler_types(GOOD.encode())
    assert [k.value for k in kinds] == ["onSubmit", "onReview"]
    official = b"from kili.plugins import PluginCore\nclass PluginHandler(PluginCore):\n" + (
        b"    def on_custom_interface_click(self, label, asset_id): pass\n"
    )
    assert [k.value for k in plugin_files.handler_types(official)] == ["onCustomInterfaceClick"]


# ----------------------------------------------------------------------------- PluginCore


class Handler(PluginCore):
    def on_submit(self, label: dict[str, Any], asset_id: str) -> Any:
        self.logger.info("submitted %s", label["id"])
        return asset_id

    async def on_review(self, label: dict[str, Any], asset_id: str) -> Any:
        return label["reviewedLabel"]["id"]


async def test_plugin_core_defaults_warn(caplog: pytest.LogCaptureFixture) -> None:
    async with aiokili.AsyncKili(api_key="k", api_endpoint=URL) as kili:
        core = PluginCore(kili, "p")
        assert core.kili is kili and core.project_id == "p"
        with caplog.at_level(logging.WARNING):
            core.on_submit({"id": "l"}, "a")
            core.on_review({"id": "l"}, "a")
            core.on_custom_interface_click({"id": "l"}, "a")
    assert [r.getMessage() for r in caplog.records] == [
        "Method not implemented. Define a custom on_submit on your plugin",
        "Method not implemented. Define a custom on_review on your plugin",
        "Handler is in active development.",
    ]


async def test_run_locally_dispatches_sync_and_async_handlers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_files(tmp_path, {"p.py": GOOD}) / "p.py"
    async with aiokili.AsyncKili(api_key="k", api_endpoint=URL) as kili:
        sync = await run_locally(path, {"id": "L1"}, "A1", "P1", kili=kili)
        review = {"id": "L2", "reviewedLabel": {"id": "L1"}}
        asynchronous = await run_locally(path, review, "A1", "P1", kili=kili, event="on_review")
    assert sync == ("submit", "L1", "A1")
    assert asynchronous == ("review", "L1", "A1")


async def test_run_locally_imports_the_folders_modules_and_checks_first(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "pl",
        {
            "main.py": "from helpers.rule import ok\nfrom aiokili.plugins import PluginCore\n"
            "class PluginHandler(PluginCore):\n"
            "    def on_submit(self, label, asset_id):\n        return ok(label)\n",
            "helpers/rule.py": "def ok(label):\n    return bool(label.get('jsonResponse'))\n",
        },
    )
    async with aiokili.AsyncKili(api_key="k", api_endpoint=URL) as kili:
        assert (
            await run_locally(folder, {"id": "l", "jsonResponse": {}}, "a", "p", kili=kili) is False
        )
        with pytest.raises(aiokili.KiliInputError, match="event must be"):
            await run_locally(folder, {"id": "l"}, "a", "p", kili=kili, event="on_click")  # type: ignore[arg-type]
        with pytest.raises(aiokili.KiliInputError, match=r"has no main\.py"):
            await run_locally(tmp_path, {"id": "l"}, "a", "p", kili=kili)


SEND_BACK = """
from aiokili.plugins import PluginCore


class PluginHandler(PluginCore):
    async def on_submit(self, label, asset_id):
        categories = label["jsonResponse"]["JOB"]["categories"]
        if categories[0]["name"] != "A":
            self.logger.warning("wrong category on %s", asset_id)
            await self.kili.send_back_to_queue(asset_ids=[asset_id])
"""


async def test_run_locally_against_the_local_server(
    kili: aiokili.AsyncKili, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The harness runs the plugin's real calls on the real local server."""
    path = write_files(tmp_path, {"rule.py": SEND_BACK}) / "rule.py"
    project_id = await new_project(kili)
    good, bad = await import_images(kili, project_id, 2)
    await kili.append_labels(
        asset_id_array=[good, bad], json_response_array=[answer("A"), answer("B")]
    )
    labels = await kili.labels(project_id)
    by_asset = {label.label_of.id if label.label_of else "": label for label in labels}
    assert {a.status for a in await kili.assets(project_id)} == {aiokili.Status.LABELED}
    with caplog.at_level(logging.WARNING):
        for asset_id in (good, bad):
            await run_locally(path, by_asset[asset_id], asset_id, project_id, kili=kili)
    status = {a.id: a.status for a in await kili.assets(project_id)}
    assert status == {good: aiokili.Status.LABELED, bad: aiokili.Status.ONGOING}
    assert f"wrong category on {bad}" in caplog.text


async def test_plugin_label_is_the_platforms_dict(kili: aiokili.AsyncKili) -> None:
    """A Label model (or a dict from labels(fields=...)) becomes the handler's dict."""
    project_id = await new_project(kili)
    (asset_id,) = await import_images(kili, project_id, 1)
    await kili.append_labels(asset_id_array=[asset_id], json_response_array=[answer("A")])
    (label,) = await kili.labels(project_id)
    data = plugins.plugin_label(label)
    assert data["id"] == label.id and data["labelType"] == "DEFAULT" and "author" not in data
    assert data["authorId"] == (label.author.id if label.author else None)
    assert data["jsonResponse"] == answer("A")
    json.dumps(data)  # what a subprocess runner would send
    assert plugins.plugin_label({"id": "l", "author": {"id": "u"}}) == {"id": "l", "authorId": "u"}


async def test_run_locally_forgets_each_plugins_modules(tmp_path: Path) -> None:
    """Two plugin folders with a same-named helper module each get their own."""
    main = (
        "from aiokili.plugins import PluginCore\n"
        "class PluginHandler(PluginCore):\n"
        "    def on_submit(self, label, asset_id):\n"
        "        import helper  # imported lazily, while the handler runs\n"
        "        return helper.NAME\n"
    )
    one = write_files(tmp_path / "one", {"main.py": main, "helper.py": "NAME = 'one'\n"})
    two = write_files(tmp_path / "two", {"main.py": main, "helper.py": "NAME = 'two'\n"})
    async with aiokili.AsyncKili(api_key="k", api_endpoint=URL) as kili:
        assert await run_locally(one, {"id": "l"}, "a", "p", kili=kili) == "one"
        assert await run_locally(two, {"id": "l"}, "a", "p", kili=kili) == "two"
    assert "helper" not in sys.modules and str(one) not in sys.path


async def test_run_locally_explains_an_official_sdk_plugin_without_kili(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "kili", None)  # as if kili were not installed
    source = GOOD.replace("from aiokili.plugins", "from kili.plugins")
    path = write_files(tmp_path, {"official.py": source}) / "official.py"
    async with aiokili.AsyncKili(api_key="k", api_endpoint=URL) as kili:
        with pytest.raises(aiokili.KiliInputError, match=r"from aiokili\.plugins import"):
            await run_locally(path, {"id": "l"}, "a", "p", kili=kili)


async def test_run_locally_lets_the_handlers_exception_through(tmp_path: Path) -> None:
    source = GOOD.replace('return ("submit", label["id"], asset_id)', 'raise RuntimeError("rule")')
    path = write_files(tmp_path, {"boom.py": source}) / "boom.py"
    async with aiokili.AsyncKili(api_key="k", api_endpoint=URL) as kili:
        with pytest.raises(RuntimeError, match="rule"):
            await run_locally(path, {"id": "l"}, "a", "p", kili=kili)


# ----------------------------------------------------------------------------- wire flows (mocks)


class Api:
    """A respx stand-in for the plugin resolvers of the contract (§6): records the calls."""

    def __init__(self, router: respx.MockRouter, statuses: list[str | None]) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.statuses = statuses
        self.uploads: list[httpx.Request] = []
        self.answers: dict[str, Any] = {
            "CreatePlugin": UPLOAD,
            "GenerateUpdateUrl": UPLOAD,
            "CreatePluginRunner": "ok",
            "UpdatePluginRunner": "ok",
            "GetPluginBuildErrors": [],
            "GetPluginLogs": [],
            "ListPlugins": [],
            "ActivatePluginOnProject": "activated",
            "DeactivatePluginOnProject": "deactivated",
            "DeletePlugin": "deleted",
            "CreateWebhook": "ok",
            "UpdateWebhook": "ok",
        }
        self.errors: dict[str, str] = {}
        router.post(URL).mock(side_effect=self.graphql)
        router.put(url__startswith="https://kili.example/api/label/v2/files/").mock(
            side_effect=self.upload
        )

    def graphql(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        name = body["operationName"]
        self.calls.append((name, body.get("variables", {})))
        if name in self.errors:
            return httpx.Response(
                200, json={"data": None, "errors": [{"message": self.errors[name]}]}
            )
        if name == "GetPluginRunnerStatus":
            value = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            return httpx.Response(200, json={"data": {"data": value}})
        answer = self.answers[name]
        if callable(answer):
            answer = answer(body.get("variables", {}))
        return httpx.Response(200, json={"data": {"data": answer}})

    def upload(self, request: httpx.Request) -> httpx.Response:
        self.uploads.append(request)
        return httpx.Response(200)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.fixture
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugin_methods, "POLL_FIRST", 0.001)
    monkeypatch.setattr(plugin_methods, "POLL_MOST", 0.01)


# respx: the local server builds in milliseconds, it never stays DEPLOYING past a timeout
async def test_a_slow_deployment_times_out_honestly(tmp_path: Path, fast_polls: None) -> None:
    """DEPLOYING past the timeout is a PluginDeployTimeout (not a build failure)."""
    path = write_files(tmp_path, {"rule.py": GOOD}) / "rule.py"
    with respx.mock(using="httpx", assert_all_called=False) as router:
        api = Api(router, ["DEPLOYING"])
        async with aiokili.AsyncKili(api_key="k", api_endpoint=URL) as kili:
            with pytest.raises(aiokili.PluginDeployTimeout, match="DEPLOYING") as caught:
                await kili.upload_plugin(path, deploy_timeout=0.05)
    assert caught.value.status == "DEPLOYING" and caught.value.timeout == 0.05
    assert "GetPluginBuildErrors" not in api.names()
    assert api.names().count("GetPluginRunnerStatus") >= 2


# respx: the local server cannot be made to answer the archive PUT with a 503 once
async def test_the_archive_upload_is_retried_through_the_core_policy(
    tmp_path: Path, fast_polls: None
) -> None:
    path = write_files(tmp_path, {"rule.py": GOOD}) / "rule.py"
    with respx.mock(using="httpx", assert_all_called=False) as router:
        api = Api(router, ["ACTIVE"])
        answers = iter([httpx.Response(503, headers={"Retry-After": "0"}), httpx.Response(200)])

        def flaky(request: httpx.Request) -> httpx.Response:
            api.uploads.append(request)
            return next(answers)

        router.routes[-1].side_effect = flaky
        async with aiokili.AsyncKili(api_key="k", api_endpoint=URL) as kili:
            assert await kili.upload_plugin(path) == "Plugin created successfully"
    assert len(api.uploads) == 2
    assert _members(api.uploads[1].content) == {"main.py": GOOD.encode()}


# respx: the local server answers a taken name one way only; Kili may fail otherwise
@pytest.mark.parametrize(
    ("message", "hint"),
    [
        ("an entity Plugin already exists with value `rule.py` for the field name", True),
        ("a file already exists at this key: storage is read-only", False),
    ],
)
async def test_only_a_taken_name_points_to_update_plugin(
    tmp_path: Path, message: str, hint: bool
) -> None:
    """Kili's answer to a taken name (it sends no code of its own for it: told by how its
    message begins) becomes the hint to use update_plugin; any other createPlugin error,
    even one saying "already exists", is raised as it came."""
    path = write_files(tmp_path, {"rule.py": GOOD}) / "rule.py"
    with respx.mock(using="httpx", assert_all_called=False) as router:
        api = Api(router, ["ACTIVE"])
        api.errors["CreatePlugin"] = message
        async with aiokili.AsyncKili(api_key="k", api_endpoint=URL) as kili:
            with pytest.raises(aiokili.GraphQLError if not hint else aiokili.KiliInputError) as e:
                await kili.upload_plugin(path)
    assert ("kili.update_plugin(" in str(e.value)) is hint
    assert isinstance(e.value, aiokili.GraphQLError) is not hint
    assert isinstance(e.value, aiokili.PluginNameTaken) is hint
    assert api.names() == ["CreatePlugin"]
