"""The client itself against the real local server: lifecycle, errors, options."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import pytest
from support import answer, import_images, new_project

import aiokili
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio
BACKENDS = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])


async def test_verify_and_wrong_key(kili: aiokili.AsyncKili, local_server: LocalServer) -> None:
    user = await kili.verify()
    assert "@" in user.email
    async with aiokili.AsyncKili(api_key="wrong", api_endpoint=local_server.url) as bad:
        with pytest.raises(aiokili.AuthenticationError) as info:
            await bad.verify()
    assert "wrong" not in str(info.value)


@BACKENDS
async def test_errors_leave_async_with_as_themselves(local_server: LocalServer) -> None:
    # A user writes `except` around the block: no ExceptionGroup may come out of it.
    with pytest.raises(aiokili.AuthenticationError):
        async with aiokili.AsyncKili(api_key="wrong", api_endpoint=local_server.url) as bad:
            await bad.verify()
    with pytest.raises(ValueError, match="mine"):
        async with aiokili.AsyncKili(api_key=local_server.api_key, api_endpoint=local_server.url,
                                     page_size=5) as kili:  # fmt: skip
            project_id = await new_project(kili)
            await import_images(kili, project_id, 40)
            async for _ in kili.assets(project_id):  # pages in flight when the error comes
                raise ValueError("mine")
    with pytest.raises(aiokili.NotFoundError):
        async with aiokili.AsyncKili(
            api_key=local_server.api_key, api_endpoint=local_server.url
        ) as kili:
            await kili.append_many_to_dataset("no-such-project", content_array=["https://a/1.jpg"])


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_sys_exit_code_and_short_error_output(local_server: LocalServer, backend: str) -> None:
    script = textwrap.dedent(f"""
        import sys, anyio, aiokili
        async def main(key):
            async with aiokili.AsyncKili(api_key=key, api_endpoint={local_server.url!r}) as kili:
                if key == "exit":
                    sys.exit(3)
                await kili.verify()
        anyio.run(main, sys.argv[1], backend={backend!r})
    """)
    run = [sys.executable, "-c", script]
    assert subprocess.run([*run, "exit"], capture_output=True).returncode == 3
    wrong = subprocess.run([*run, "wrong-key"], capture_output=True, text=True)
    assert wrong.returncode == 1
    assert wrong.stderr.strip().splitlines()[-1].startswith("aiokili.errors.AuthenticationError")
    assert "ExceptionGroup" not in wrong.stderr and "wrong-key" not in wrong.stderr


async def test_with_options_shares_the_connection_pool(kili: aiokili.AsyncKili) -> None:
    fast = kili.with_options(timeout=5, max_retries=0, page_size=7)
    assert fast.graphql.policy.timeout == 5 and fast.graphql.policy.max_retries == 0
    assert kili.graphql.policy.max_retries == 4  # the original is unchanged
    assert fast._core.runtime is kili._core.runtime  # same pool and task group
    project_id = await new_project(fast)
    await import_images(fast, project_id, 15)
    assert len([page async for page in fast.assets(project_id).pages()]) == 3  # pages of 7


async def test_leaving_a_with_options_block_leaves_the_parent_open(
    kili: aiokili.AsyncKili,
) -> None:
    task_group = kili._core.task_group
    async with kili.with_options(timeout=5) as fast:
        assert fast._core.task_group is task_group  # the parent's, not one of its own
        await fast.count_projects()
    assert kili._core.task_group is task_group  # still open: listings prefetch
    assert await kili.count_projects() >= 0  # the pool too (was a raw RuntimeError)
    alone = aiokili.AsyncKili(api_key=kili._core.settings.api_key, api_endpoint=kili.api_endpoint)
    async with alone.with_options(max_retries=1) as child:  # the child opens what is missing
        assert child._core.task_group is not None
    assert alone._core.task_group is None  # and closes it: nobody else opened it
    async with alone:
        assert await alone.count_projects() >= 0


async def test_several_clients_at_once_on_one_server(local_server: LocalServer) -> None:
    async def work(n: int) -> int:
        async with aiokili.AsyncKili(api_key=local_server.api_key, api_endpoint=local_server.url,
                                     page_size=10) as kili:  # fmt: skip
            project_id = await new_project(kili)
            ids = await import_images(kili, project_id, 30 + n)
            await kili.append_labels(
                asset_id_array=ids, json_response_array=[answer("A")] * len(ids)
            )
            return len(await kili.labels(project_id))

    counts: dict[int, int] = {}

    async def run(n: int) -> None:
        counts[n] = await work(n)

    async with anyio.create_task_group() as tg:
        for n in range(5):
            tg.start_soon(run, n)
    assert counts == {n: 30 + n for n in range(5)}


async def test_execute_escape_hatch(kili: aiokili.AsyncKili) -> None:
    data = await kili.execute("query { viewer { email } }")
    assert "@" in str(data["viewer"])
    with pytest.raises(aiokili.GraphQLError) as info:
        await kili.execute("query { viewer { nope } }")
    assert "nope" in info.value.errors[0].message


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_runs_under_trio(local_server: LocalServer) -> None:
    async with aiokili.AsyncKili(
        api_key=local_server.api_key, api_endpoint=local_server.url, page_size=5
    ) as kili:
        project_id = await new_project(kili)
        ids = await import_images(kili, project_id, 12)
        await kili.append_labels(asset_id_array=ids, json_response_array=[answer("B")] * 12)
        labels = [label async for label in kili.labels(project_id)]
    assert len(labels) == 12 and labels[0].json_response == answer("B")


BLOCK_SERVER_EXTRA = textwrap.dedent("""
    import sys

    class WithoutServerExtra:  # as if `pip install aiokili`: the extra's packages not core's
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in ("ariadne", "starlette", "uvicorn"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, WithoutServerExtra())
""")
EXTRA_MISSING = re.compile(
    r"aiokili\.server needs the 'server' extra \((starlette|ariadne|uvicorn) is not installed\): "
    r"pip install 'aiokili\[server\]'$"
)


def test_without_the_server_extra_the_client_works_and_the_server_names_the_extra() -> None:
    script = BLOCK_SERVER_EXTRA + textwrap.dedent("""
        import anyio, httpx, aiokili

        def answer(request):
            return httpx.Response(200, json={"data": {"data": 3}})

        async def main():
            async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
                async with aiokili.AsyncKili(api_key="k", api_endpoint="https://k.example/",
                                             http_client=http) as kili:
                    print("projects:", await kili.count_projects())

        anyio.run(main)
        import aiokili.server
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.stdout == "projects: 3\n", run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: ") and EXTRA_MISSING.search(last), run.stderr


def test_without_the_server_extra_the_fixtures_name_the_extra(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent("""
        import pytest

        @pytest.mark.anyio
        async def test_count(kili):
            await kili.count_projects()
    """)
    )
    pytest_main = "import pytest; sys.exit(pytest.main(['-p', 'no:cacheprovider', '-q']))"
    run = subprocess.run([sys.executable, "-c", BLOCK_SERVER_EXTRA + pytest_main],
                         cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 1, run.stdout
    errors = run.stdout.split(" ERRORS ")[1].split(" short test summary ")[0].splitlines()[1:-1]
    assert len(errors) == 4, run.stdout  # per test: its title, then one line, no traceback
    assert errors[1].startswith("kili_server: ") and EXTRA_MISSING.search(errors[1])
    assert errors[3].startswith("kili: ") and EXTRA_MISSING.search(errors[3])  # cached failure
