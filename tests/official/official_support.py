"""Shared by the official-SDK tests: the official SDK's python (its own virtualenv) and
:func:`run_official`, which runs one of ``scripts/`` with it against a local server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import official_env
import pytest

from aiokili.server import LocalServer

SCRIPTS = Path(__file__).resolve().parent / "scripts"

# Known server defect, being fixed in aiokili/server/compat.py: with graphql-core >= 3.2.7 the
# introspection lists @deprecated on DIRECTIVE_DEFINITION, a location graphql-core 3.2.6 (the
# official SDK's) does not know, so `Kili()` dies in build_client_schema. Until that module
# exists the symptom is an expected failure; once it exists, the symptom fails the tests.


def answer(name: str) -> dict[str, Any]:
    return {"JOB": {"categories": [{"name": name}]}}


@pytest.fixture(scope="session")
def official_python() -> Path:
    return official_env.python_for_tests()


def run_official(
    python: Path,
    script: str,
    server: LocalServer,
    tmp_path: Path,
    *,
    api_key: bool = True,
    env: dict[str, str] | None = None,
) -> Any:
    """Run ``tests/official/scripts/<script>`` with the official SDK; return what it printed.
    ``env``: more variables for the script (the keys of other users...)."""
    env = official_env.clean_env(
        KILI_API_ENDPOINT=server.url,
        AIOKILI_SCHEMA_CACHE_DIR=str(tmp_path / "schema-cache"),
        **({"KILI_API_KEY": server.api_key} if api_key else {}),
        **(env or {}),
    )
    cwd = tmp_path / "cwd"  # no kili-sdk-config.json from elsewhere
    cwd.mkdir()
    try:
        proc = subprocess.run(
            [str(python), str(SCRIPTS / script)], cwd=cwd, env=env, capture_output=True,
            text=True, timeout=300, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{script} timed out\n--- stderr ---\n{exc.stderr!r}", pytrace=False)
    report = (
        f"official SDK script {script} exited {proc.returncode}\n"
        f"--- stderr ---\n{proc.stderr}\n--- stdout ---\n{proc.stdout}"
    )
    if proc.returncode != 0:
        pytest.fail(report, pytrace=False)
    results = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(results) == 1, report
    return json.loads(results[0].removeprefix("RESULT "))


def official_output(script: str, server: str = "local_server") -> Any:
    """A module-scoped fixture: what ``scripts/<script>`` printed, the script run once (against
    the session fixture named ``server``) for all the module's tests, each asserting one topic.
    A failing script fails each of them with its report."""

    @pytest.fixture(scope="module")
    def output(
        official_python: Path,
        request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> Any:
        target: LocalServer = request.getfixturevalue(server)
        return run_official(
            official_python, script, target, tmp_path_factory.mktemp(Path(script).stem)
        )

    return output
