"""The unmodified official SDK (26.2.4) on asset administration: assign_assets_to_labelers
(and the lock assignees put on labelling), set_assets_priority, add_metadata, set_metadata,
skip_or_unskip, update_asset_consensus."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from official_support import official_python, run_official

from aiokili.server import LocalServer

__all__ = ["official_python"]  # the fixture, imported for pytest


@pytest.fixture(scope="module")
def out(
    official_python: Path, local_server: LocalServer, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    tag = secrets.token_hex(3)
    ann = local_server.create_user(f"ann-{tag}@official.test")
    bob = local_server.create_user(f"bob-{tag}@official.test")
    env = {"ANN_EMAIL": ann.email, "ANN_KEY": ann.api_key,
           "BOB_EMAIL": bob.email, "BOB_KEY": bob.api_key}  # fmt: skip
    return run_official(
        official_python, "asset_admin.py", local_server, tmp_path_factory.mktemp("admin"), env=env
    )


def _refs(ids: list[str]) -> list[dict[str, str]]:
    return [{"assetId": i, "externalId": "abcde"[n]} for n, i in enumerate(ids) if i]


def test_assignees_are_set_replaced_and_reset(out: Any) -> None:
    a, b, c, _, _ = out["ids"]
    # the SDK sends one series per distinct list: the outcome comes group by group
    assert out["assigned"] == {"succeeded": _refs([a, "", c]) + _refs(["", b]), "declined": [],
                               "failed": []}  # fmt: skip
    assert out["assigned_to_bob"] == [b]
    # ann's label in progress on b keeps her assigned: declined; c reset
    assert out["reassigned"] == {"succeeded": _refs(["", "", c]), "declined": _refs(["", b]),
                                 "failed": []}  # fmt: skip
    assert out["assigned_to_ann"] == [a, b]
    assert out["length_refused"] == [
        "MutationError", "There must be as many assets as there are lists of labelers."
    ]  # fmt: skip


def test_an_assigned_asset_is_read_only_for_the_others(out: Any) -> None:
    """The lock reasons map to the SDK's own messages."""
    assert out["bob_refused"] == [
        "ValueError", "This asset is assigned to someone else. You cannot edit it."
    ]  # fmt: skip
    kind, message = out["admin_refused"]
    assert kind == "ValueError" and "because you are not assigned to it" in message
    assert len(out["ann_labels"]) == 1


def test_priority_orders_a_labelers_queue(out: Any) -> None:
    a, b, c, d, e = out["ids"]
    assert out["priority"] == {"succeeded": _refs(["", "", "", d]), "declined": _refs([a]),
                               "failed": []}  # fmt: skip  # a is labelled: not waiting
    assert out["queue"] == [d, e, a, b, c]
    assert out["admin_listing"] == [a, b, c, d, e]
    assert out["priorities"] == [0, 0, 0, 5, 2]


def test_metadata_is_merged_then_replaced(out: Any) -> None:
    _, _, _, d, e = out["ids"]
    assert out["added"] == [{"id": d}] and out["set"] == [{"id": e}]
    assert out["metadata"][3] == {"n": 3, "text": "kept", "k": 1}
    assert out["metadata"][4] == {"text": "kept", "only": True}


def test_skip_and_unskip(out: Any) -> None:
    _, _, _, d, _ = out["ids"]
    assert out["skipped"] == out["unskipped"] == d
    assert out["skipped_listed"] == [d]
    assert out["skipped_step"] == [{"currentStep": {"status": "SKIPPED"}}]
    assert out["no_reason"] == [
        "MissingArgumentError",
        "You must provide a reason to skip an asset",
    ]
    assert out["unskipped_asset"] == [
        {"skipped": False, "status": "TODO", "currentStep": {"status": "TO_DO"}}
    ]


def test_consensus_use_under_the_platforms_conditions(out: Any) -> None:
    a, _, _, d, e = out["ids"]
    kind, message = out["consensus_disabled"]
    assert kind == "GraphQLError" and "Consensus is not enabled" in message
    assert (out["consensus_on"], out["consensus_off"]) == (True, False)
    assert out["consensus_read"] == [False, False, False, True, False]
    kind, message = out["consensus_labeler"]
    assert kind == "GraphQLError" and "TEAM_MANAGER or above" in message
    kind, message = out["consensus_done"]
    assert kind == "GraphQLError" and f'Asset "{a}" is at step Labeling (DONE)' in message
    kind, message = out["consensus_skip"]
    assert kind == "GraphQLError" and "used for consensus and cannot be skipped" in message
    assert out["marks"] == {d: 0.0, e: None}  # e taken out of consensus: no mark
