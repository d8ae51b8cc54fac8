"""The unmodified official SDK drives the local server's plugin and webhook lifecycle."""

from __future__ import annotations

from pathlib import Path

from test_official_sdk import official_python, run_official  # noqa: F401 (fixture)

from aiokili.server import LocalServer


def test_official_sdk_plugin_lifecycle(
    official_python: Path,  # noqa: F811
    local_server: LocalServer,
    tmp_path: Path,
) -> None:
    out = run_official(official_python, "plugins_server.py", local_server, tmp_path)
    assert out["upload"] == "Plugin created successfully"
    assert out["status"] == "ACTIVE"
    assert out["update"] == "Plugin updated successfully"
    (listed,) = [p for p in out["listed"] if p["name"] == "official_plugin"]
    assert listed["projectIds"] == [out["project_id"]]
    assert {"id", "createdAt", "updatedAt"} <= set(listed)

    # the plugin imports kili.plugins; aiokili's environment has no `kili`, so the run
    # reports that, with the run's ids, through get_plugin_logs
    logs = out["logs"]
    assert any("No module named 'kili'" in e["content"] for e in logs), logs
    assert all(e["metadata"]["assetId"] == out["asset_id"] for e in logs)
    assert all(e["projectId"] == out["project_id"] and e["runId"] for e in logs)

    assert out["bad_raised"] == "PluginCreationError"
    assert out["bad_status"] == "FAILED"
    assert "Invalid requirement" in out["bad_errors"][0]["content"]
    assert out["webhook"] and out["webhook_update"]
    assert out["deactivate"] and out["delete"]
    assert "official_plugin" not in out["names_after"]
    assert {"hook", "bad_plugin"} <= set(out["names_after"])
