"""Start-up: ``import aiokili`` loads nothing a program did not touch (the public names
load on first use); the client loads neither the server, the CLI, the exports nor
graphql-core, before or after its first calls; what only some calls need (a parser, the
asset import machinery, an input type) is loaded by the first call that needs it; asyncio
is the event loop's to import. Speed: ``benchmarks/bench_startup.py``."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import aiokili
from aiokili.server import LocalServer

NEVER_AT_IMPORT = ["aiokili.server", "rich", "pandas", "websockets", "kili_formats",
                   "aiokili.exports.formats", "aiokili.client", "httpx", "pydantic"]  # fmt: skip
NEVER_IN_THE_CLIENT = ["aiokili.server", "aiokili.cli", "rich", "click", "pandas", "websockets",
                       "kili_formats", "graphql", "ariadne", "starlette", "uvicorn"]  # fmt: skip
# loaded by the call that needs them: output_format="parsed_label", a category search, a
# "did you mean" on a misspelt filter, an asset import, an export archive, the input types
NOT_BEFORE_USED = ["aiokili._core.parsed_label", "aiokili._core.category_search", "difflib",
                   "aiokili.assets.imports", "aiokili.exports.archive", "pickle",
                   "aiokili._generated.inputs.asset_where", "aiokili._generated.inputs.label_where",
                   "aiokili._generated.inputs.plugin_runner_data"]  # fmt: skip


def _loaded_after(code: str, *args: str) -> dict[str, bool]:
    """Which of the watched modules a fresh interpreter has loaded after running ``code``."""
    watched = sorted({*NEVER_AT_IMPORT, *NEVER_IN_THE_CLIENT, *NOT_BEFORE_USED, "asyncio"})
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps({{m: m in sys.modules for m in {watched!r}}}))")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "AIOKILI_AIOHTTP_FROM"}  # the default
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    loaded: dict[str, bool] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def test_import_aiokili_loads_none_of_the_heavy_modules() -> None:
    loaded = _loaded_after("import aiokili")
    assert not [m for m in NEVER_AT_IMPORT if loaded[m]]


def test_the_client_class_loads_no_event_loop_and_nothing_a_call_loads_when_used() -> None:
    # asyncio is the event loop's to import (anyio.run, asyncio.run): a trio program never does
    loaded = _loaded_after("from aiokili import AsyncKili")
    assert not [m for m in [*NOT_BEFORE_USED, "asyncio"] if loaded[m]]


def test_the_client_and_its_first_calls_load_no_server_cli_or_export_module(
    kili_server: LocalServer,
) -> None:
    code = """
import sys
import anyio
from aiokili import AsyncKili

async def main():
    async with AsyncKili(api_key=sys.argv[2], api_endpoint=sys.argv[1]) as kili:
        await kili.count_projects()
        [p async for p in kili.projects()]

anyio.run(main)
"""
    loaded = _loaded_after(code, kili_server.url, kili_server.api_key)
    assert not [m for m in [*NEVER_IN_THE_CLIENT, *NOT_BEFORE_USED] if loaded[m]]


def test_a_trio_program_never_imports_asyncio(kili_server: LocalServer) -> None:
    code = """
import sys
import anyio
from aiokili import AsyncKili

async def main():
    async with AsyncKili(api_key=sys.argv[2], api_endpoint=sys.argv[1]) as kili:
        await kili.count_projects()
        [p async for p in kili.projects()]  # its pages prefetched in the client's task group

anyio.run(main, backend="trio")
"""
    assert not _loaded_after(code, kili_server.url, kili_server.api_key)["asyncio"]


def test_calls_work_without_the_server_extras_modules(kili_server: LocalServer) -> None:
    # as installed without extras: graphql-core, ariadne... are absent
    code = """
import sys
for name in ("graphql", "ariadne", "starlette", "uvicorn"):
    sys.modules[name] = None  # importing them now fails
import anyio
from aiokili import AsyncKili

async def main():
    async with AsyncKili(api_key=sys.argv[2], api_endpoint=sys.argv[1]) as kili:
        project = await kili.create_project(title="t", input_type="TEXT", json_interface={})
        assert [p.id async for p in kili.projects(project_id=project.id)] == [project.id]
        assert (await kili.execute("{ viewer { email } }"))["viewer"]
        await kili.delete_project(project.id)

anyio.run(main)
"""
    _loaded_after(code, kili_server.url, kili_server.api_key)


@pytest.mark.anyio
async def test_the_generated_subscription_method_points_to_the_facade(
    kili: aiokili.AsyncKili,
) -> None:
    # the generated client's base has no websocket transport (kept off start-up)
    with pytest.raises(
        aiokili.KiliInputError, match=r"kili\.label_created_or_updated\(project_id\)"
    ):
        async for _ in kili.graphql.label_created_or_updated(project_id="p"):
            pass


def test_an_input_type_loads_with_the_types_it_refers_to_and_no_other() -> None:
    code = ("import json, sys\nfrom aiokili._generated import input_types\ninput_types.LabelWhere\n"
            "print(json.dumps([m.rsplit('.', 1)[1] for m in sys.modules if '.inputs.' in m]))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    loaded = set(json.loads(done.stdout))
    assert {"label_where", "asset_where", "project_where"} <= loaded  # LabelWhere.asset...
    assert not loaded & {"project_data", "webhook_data", "issue_where"}


def test_every_input_type_builds() -> None:
    from aiokili._generated import input_types

    for name in input_types.__all__:  # each module imports the types its fields refer to
        getattr(input_types, name).model_rebuild(force=True)


def test_every_public_name_loads_on_first_use() -> None:
    for name in aiokili.__all__:
        assert getattr(aiokili, name) is not None, name
    assert set(aiokili.__all__) <= set(dir(aiokili))
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        aiokili.NoSuchName  # noqa: B018


def test_type_checkers_see_the_same_public_names() -> None:
    # mypy and IDEs read the TYPE_CHECKING imports; the run time reads the lazy table
    tree = ast.parse(Path(aiokili.__file__).read_text())
    guarded = next(
        n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    )
    typed = {a.asname or a.name for n in ast.walk(guarded) if isinstance(n, ast.ImportFrom)
             for a in n.names}  # fmt: skip
    assert typed | {"__version__"} == set(aiokili.__all__)


def test_httpx_command_line_module_still_imports_when_asked_for() -> None:
    pytest.importorskip("rich")
    code = "from aiokili import AsyncKili\nimport httpx._main\nassert callable(httpx._main.main)"
    _loaded_after(code)


GROUP_MODULES = [
    f"aiokili.cli.{g}"
    for g in ("projects", "assets", "plugins", "webhooks", "labels", "users", "orgs")
]


def _cli_loads(*args: str) -> tuple[str, set[str]]:
    """What ``aiokili ARGS`` printed, and which aiokili modules it had imported by then."""
    code = (f"import sys\nsys.argv = ['aiokili', *{list(args)!r}]\n"
            "from aiokili.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('aiokili')))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    *printed, modules = done.stdout.splitlines()
    return "\n".join(printed), set(ast.literal_eval(modules))


def test_cli_version_imports_neither_the_sdk_nor_the_command_groups() -> None:
    printed, modules = _cli_loads("--version")
    assert printed == f"aiokili {aiokili.__version__}"
    assert not modules & {"aiokili.client", "aiokili.cli._app", *GROUP_MODULES}


def test_cli_imports_only_the_group_a_command_names() -> None:
    printed, modules = _cli_loads("webhooks", "--help")
    assert "Usage: aiokili webhooks" in printed
    assert modules & set(GROUP_MODULES) == {"aiokili.cli.webhooks"}


def test_cli_help_still_lists_every_command_in_order() -> None:
    printed, modules = _cli_loads("--help")
    commands = printed.split("Commands:\n")[1].split("\n\n")[0]
    listed = [line.split()[0] for line in commands.splitlines()]
    assert listed == ["server", "quickstart", "projects", "assets", "plugins", "webhooks", "labels",
                      "users", "orgs"]  # fmt: skip
    assert set(GROUP_MODULES) <= modules


def test_cli_suggests_a_group_not_loaded_yet() -> None:
    code = "from typer.testing import CliRunner\nfrom aiokili.cli import _app\n" \
           "print(CliRunner().invoke(_app(), ['projets']).output)"  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    assert "Did you mean 'projects'?" in done.stdout
