"""The unmodified official SDK drives the local server's plugin and webhook lifecycle, and the
plugin it uploads (written for the official SDK) runs with the real ``kili`` package."""

from __future__ import annotations

from typing import Any

from official_support import official_output, official_python

__all__ = ["official_python"]  # the fixture, imported for pytest

out = official_output("plugins_server.py", server="kili_plugin_server")


def test_upload_update_and_list(out: Any) -> None:
    assert out["upload"] == "Plugin created successfully"
    assert out["status"] == "ACTIVE"
    assert out["update"] == "Plugin updated successfully"
    (listed,) = [p for p in out["listed"] if p["name"] == "official_plugin"]
    assert listed["projectIds"] == [out["project_id"]]
    assert {"id", "createdAt", "updatedAt"} <= set(listed)
    assert {"name": "official_plugin", "projectIds": [out["project_id"]]} in out["listed_names"]


def test_the_plugin_runs_with_the_official_client_and_logs(out: Any) -> None:
    # the plugin ran with the official client: the failing asset is back in the queue
    assert out["statuses"] == {"good": "LABELED", "bad": "ONGOING"}
    logs = out["logs"]
    contents = [e["content"] for e in logs]
    assert "rule failed: sent back" in contents, contents
    assert not [e for e in logs if e["logType"] == "ERROR"], contents
    assert {e["metadata"]["assetId"] for e in logs} == set(out["asset_ids"])
    assert all(e["projectId"] == out["project_id"] and e["runId"] for e in logs)
    assert len({e["runId"] for e in logs}) == 2
    assert out["logs_page"] == [e for e in logs if e["createdAt"] >= logs[0]["createdAt"]][1:2]


def test_an_event_plugin_gets_its_events(out: Any) -> None:
    assert out["events_upload"] == "Plugin created successfully"
    assert any(
        e["content"].startswith("event label.workflow.created.default ") for e in out["event_logs"]
    ), out["event_logs"]


def test_a_failed_build_raises_and_reports_why(out: Any) -> None:
    assert out["bad_raised"] == "PluginCreationError"
    assert out["bad_status"] == "FAILED"
    assert "Invalid requirement" in out["bad_errors"][0]["content"]
    assert out["bad_errors_later"] == []  # start_date after the build


def test_webhooks_deactivation_and_deletion(out: Any) -> None:
    assert out["webhook"] and out["webhook_update"]
    assert out["deactivate"] and out["delete"]
    assert "official_plugin" not in out["names_after"]
    assert {"hook", "bad_plugin", "event_plugin.py"} <= set(out["names_after"])
