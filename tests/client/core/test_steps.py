"""Deprecation warnings point at the user's own line, however deep in aiokili they are
raised (``python -W error::DeprecationWarning`` and IDEs show that line): old step status
names, old arguments of projects and predictions."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from support import answer, import_images, new_project

import aiokili

pytestmark = pytest.mark.anyio

Call = Callable[[aiokili.AsyncKili, str, list[str]], Awaitable[Any]]


async def _listed(listing: Any) -> Any:
    return await listing


CALLS: list[tuple[str, Call, str]] = [
    ("count_assets", lambda k, p, _: k.count_assets(p, step_status_in=["DOING"]),
     "step_status_in: step status 'DOING' is deprecated, use 'IN_PROGRESS' instead."),
    ("assets", lambda k, p, _: _listed(k.assets(p, step_status_not_in=["REDO"])),
     "step_status_not_in: step status 'REDO' is deprecated, use 'REWORK' instead."),
    ("assets, step names", lambda k, p, _: _listed(
        k.assets(p, step_name_in=["Labeling"], step_status_in=["DOING"])),
     "step_status_in: step status 'DOING' is deprecated"),
    ("labels", lambda k, p, _: _listed(k.labels(p, asset_step_status_in=["REDO"])),
     "asset_step_status_in: step status 'REDO' is deprecated, use 'REWORK' instead."),
    ("count_labels", lambda k, p, _: k.count_labels(p, asset_step_status_in=["DOING"]),
     "asset_step_status_in: step status 'DOING' is deprecated"),
    ("predictions", lambda k, p, _: _listed(k.predictions(p, asset_step_status_in=["DOING"])),
     "asset_step_status_in: step status 'DOING' is deprecated"),
    ("update_properties_in_project", lambda k, p, _: k.update_properties_in_project(
        p, metadata_types={"n": "number"}), "metadata_types is deprecated: use metadata_properties."),
    ("create_predictions", lambda k, p, ids: k.create_predictions(
        p, asset_id_array=ids, json_response_array=[answer("A")], model_name_array=["m"]),
     "The use of `model_name_array` is deprecated."),
]  # fmt: skip


@pytest.mark.parametrize(("name", "call", "message"), CALLS, ids=[c[0] for c in CALLS])
async def test_deprecation_warnings_point_at_the_users_call(
    kili: aiokili.AsyncKili, name: str, call: Call, message: str
) -> None:
    project_id = await new_project(kili)
    ids = await import_images(kili, project_id, 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await call(kili, project_id, ids)  # the line the warning must name
    (warning,) = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert str(warning.message).startswith(message)
    assert warning.filename == __file__, f"{name} warns from {warning.filename}"
