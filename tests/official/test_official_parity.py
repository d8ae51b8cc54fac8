"""AsyncKili has every public method of the official ``Kili`` (26.2.4, read in its own
virtualenv) with the same parameters.

Allowed differences, and only these: the cloud-storage methods (a later issue; 26.2.4 has\neight) and
``disable_tqdm`` (no progress bars in a library call: accepted where the official SDK has it,
never required). The parameters are compared as a user calls them: every official name is
accepted; what is optional there is optional here; what aiokili takes positionally means
the same as in the official SDK (a prefix of its positional parameters: filters are
keyword-only by design, so a positional filter is a TypeError, never another filter);
aiokili's own additions are keyword-only and optional.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import typing
from pathlib import Path
from typing import Any

import official_env
import pytest
from official_support import SCRIPTS, official_python
from typing_extensions import Unpack

from aiokili import AsyncKili

CLOUD_STORAGE = {
    "add_cloud_storage_connection",
    "cloud_storage_connections",
    "cloud_storage_integrations",
    "count_cloud_storage_integrations",
    "create_cloud_storage_integration",
    "delete_cloud_storage_integration",
    "synchronize_cloud_storage_connection",
    "update_cloud_storage_integration",
}
NO_SENSE_ASYNC = {"disable_tqdm"}
POSITIONAL = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")
__all__ = ["official_python"]  # the fixture, imported for pytest


@pytest.fixture(scope="module")
def official(
    official_python: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    proc = subprocess.run(
        [str(official_python), str(SCRIPTS / "signatures.py")],
        cwd=tmp_path_factory.mktemp("signatures"), env=official_env.clean_env(),
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (line,) = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    methods: dict[str, list[dict[str, Any]]] = json.loads(line.removeprefix("RESULT "))
    return methods


def ours(name: str) -> list[inspect.Parameter]:
    """The method's parameters, ``**kwargs: Unpack[Filters]`` spelled out as keyword-only
    ones (optional unless the TypedDict requires them)."""
    method = inspect.unwrap(getattr(AsyncKili, name))
    out = []
    for p in list(inspect.signature(method).parameters.values())[1:]:
        hint = eval(p.annotation, method.__globals__) if p.kind is p.VAR_KEYWORD else None
        if typing.get_origin(hint) is not Unpack:
            out.append(p)
            continue
        (typed_dict,) = typing.get_args(hint)
        for key in typing.get_type_hints(typed_dict):
            default = inspect.Parameter.empty if key in typed_dict.__required_keys__ else None
            out.append(inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=default))
    return out


def differences(name: str, theirs: list[dict[str, Any]]) -> list[str]:
    """What a user of the official method would find different in ours."""
    mine = {p.name: p for p in ours(name) if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    found = []
    for p in theirs:
        if p["kind"] in ("VAR_POSITIONAL", "VAR_KEYWORD"):
            continue
        if p["name"] not in mine:
            if p["name"] not in NO_SENSE_ASYNC:
                found.append(f"{name}: no parameter {p['name']}")
            continue
        if not p["required"] and mine[p["name"]].default is inspect.Parameter.empty:
            found.append(f"{name}: {p['name']} is optional there, required here")
    their_positional = [p["name"] for p in theirs if p["kind"] in POSITIONAL]
    my_positional = [n for n, p in mine.items() if p.kind.name in POSITIONAL]
    if my_positional != their_positional[: len(my_positional)]:
        found.append(f"{name}: positional {my_positional}, officially {their_positional}")
    official_names = {p["name"] for p in theirs}
    for extra in set(mine) - official_names:
        p = mine[extra]
        if p.kind is not p.KEYWORD_ONLY or p.default is inspect.Parameter.empty:
            found.append(f"{name}: its own parameter {extra} must be keyword-only and optional")
    return found


def test_every_official_method_is_there_but_cloud_storage(official: dict[str, Any]) -> None:
    missing = {name for name in official if not hasattr(AsyncKili, name)}
    assert missing == CLOUD_STORAGE & set(official)
    assert CLOUD_STORAGE <= set(official), "the official SDK's cloud-storage calls changed"


def test_every_official_parameter_is_taken_the_same_way(official: dict[str, Any]) -> None:
    found = [
        difference
        for name, parameters in sorted(official.items())
        if name not in CLOUD_STORAGE
        for difference in differences(name, parameters)
    ]
    assert found == []


def test_the_comparison_sees_a_difference(official: dict[str, Any]) -> None:
    """The rule is not blind: a renamed, a reordered and a required parameter are found."""
    theirs = official["count_projects"]
    renamed = [dict(p, name="projectId") if p["name"] == "project_id" else p for p in theirs]
    assert "count_projects: no parameter projectId" in differences("count_projects", renamed)
    swapped = official["create_project"][:]
    swapped[1], swapped[2] = swapped[2], swapped[1]
    assert any("positional" in d for d in differences("create_project", swapped))
    optional = [dict(p, required=False) for p in official["create_project"]]
    assert differences("create_project", optional) == [
        "create_project: title is optional there, required here"
    ]


def test_methods_are_async(official: dict[str, Any]) -> None:
    """Counts and mutations are coroutines; listings return an awaitable async iterable, a
    subscription an async context manager."""
    sync = [
        name
        for name in official
        if hasattr(AsyncKili, name)
        and not inspect.iscoroutinefunction(getattr(AsyncKili, name))
        and not _is_listing(name)
    ]
    assert sync == []


def _is_listing(name: str) -> bool:
    returned = inspect.signature(getattr(AsyncKili, name)).return_annotation
    return any(kind in str(returned) for kind in ("Listing", "AsyncIterator", "Subscription"))
