"""Official SDK: the whole plugin and webhook lifecycle against the local server's runner.

The SDK waits 15 s between status checks of a deploy; this script makes that wait short
(``time.sleep`` capped at 0.5 s for the process: 20 rounds, 10 s at most) so the test stays fast: the requests are
the SDK's own, unchanged.
"""

from __future__ import annotations

import json
import tempfile
import time
import warnings
from pathlib import Path

from _common import INTERFACE, answer, emit, kili

warnings.simplefilter("ignore", DeprecationWarning)
_sleep = time.sleep
time.sleep = lambda seconds: _sleep(min(seconds, 0.5))

MAIN = """
from kili.plugins import PluginCore

class PluginHandler(PluginCore):
    def on_submit(self, label, asset_id):
        print(f"submit {label['id']} on {asset_id}")
"""
client = kili()
out: dict[str, object] = {}
folder = Path(tempfile.mkdtemp()) / "official_plugin"
folder.mkdir()
(folder / "main.py").write_text(MAIN)
out["upload"] = client.upload_plugin(str(folder), verbose=False)
out["status"] = client.get_plugin_status("official_plugin")
out["update"] = client.update_plugin(str(folder), plugin_name="official_plugin", verbose=False)

project_id = client.create_project(title="plugins", input_type="IMAGE", json_interface=INTERFACE)[
    "id"
]
asset_ids = client.append_many_to_dataset(
    project_id, content_array=["https://img.example/0.jpg"], external_id_array=["p0"]
)["asset_ids"]
out["activate"] = client.activate_plugin_on_project("official_plugin", project_id)
out["listed"] = client.list_plugins()
client.append_labels(asset_id_array=asset_ids, json_response_array=[answer("A")])
deadline = time.monotonic() + 30
logs: list[dict[str, object]] = []
while not any(str(e["content"]).startswith("Run on_submit") for e in logs):
    assert time.monotonic() < deadline, logs
    logs = json.loads(client.get_plugin_logs(project_id, "official_plugin"))
    _sleep(0.05)
out["logs"] = logs
out["project_id"] = project_id
out["asset_id"] = asset_ids[0]

bad = folder.parent / "bad_plugin"
bad.mkdir()
(bad / "main.py").write_text(MAIN)
(bad / "requirements.txt").write_text("not a requirement ==\n")
try:
    client.upload_plugin(str(bad), verbose=False)
except Exception as exc:
    out["bad_raised"] = type(exc).__name__
deadline = time.monotonic() + 60  # pip may be slow on a loaded machine
while client.get_plugin_status("bad_plugin") == "DEPLOYING":
    assert time.monotonic() < deadline
    _sleep(0.1)
out["bad_status"] = client.get_plugin_status("bad_plugin")
out["bad_errors"] = json.loads(client.get_plugin_build_errors("bad_plugin"))

out["webhook"] = client.create_webhook(
    webhook_url="http://127.0.0.1:9/hook", plugin_name="hook", header="Bearer x"
)
out["webhook_update"] = client.update_webhook(new_webhook_url="http://127.0.0.1:9/hook2",
                                              plugin_name="hook")  # fmt: skip
out["deactivate"] = client.deactivate_plugin_on_project("official_plugin", project_id)
out["delete"] = client.delete_plugin("official_plugin")
out["names_after"] = [p["name"] for p in client.list_plugins(fields=["name"])]
emit(out)
