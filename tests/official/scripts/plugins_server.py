"""Official SDK: every plugin and webhook call against the local server's runner.

The server gives plugins ``kili`` (``plugin_requirements``), so the plugin this script
uploads, written for the official SDK, really runs: its ``on_submit`` sends the asset back
to the queue through ``self.kili``, the official client. The SDK waits 15 s between status
checks of a deploy; this script caps ``time.sleep`` at 0.5 s for the process so the test
stays fast: the requests are the SDK's own, unchanged.
"""

from __future__ import annotations

import json
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

from _common import INTERFACE, answer, emit, kili

warnings.simplefilter("ignore", DeprecationWarning)
_sleep = time.sleep
time.sleep = lambda seconds: _sleep(min(seconds, 0.5))

MAIN = """
from helpers import rule_ok
from kili.plugins import PluginCore

class PluginHandler(PluginCore):
    def on_submit(self, label, asset_id):
        print(f"submit {label['id']} on {asset_id}")
        if not rule_ok(label["jsonResponse"]):
            self.kili.send_back_to_queue(asset_ids=[asset_id])
            self.logger.warning("rule failed: sent back")
"""
HELPERS = 'def rule_ok(response):\n    return response["JOB"]["categories"][0]["name"] == "A"\n'
EVENTS = """
from kili_events import LabelWorkflowCreatedDefaultEvent
from kili.plugins import PluginCore, on_kili_event

class PluginHandler(PluginCore):
    @on_kili_event
    def on_label(self, event: LabelWorkflowCreatedDefaultEvent) -> None:
        self.logger.info(f"event {event.event} {event.payload.label_id}")
"""


def wait_runs(client, project_id, name, count):
    deadline = time.monotonic() + 60
    while True:
        logs = json.loads(client.get_plugin_logs(project_id, name, limit=1000))
        if sum(str(e["content"]).startswith("Run on_") for e in logs) >= count:
            return logs
        assert time.monotonic() < deadline, logs
        _sleep(0.05)


client = kili()
out: dict[str, object] = {}
root = Path(tempfile.mkdtemp())
folder = root / "official_plugin"
folder.mkdir()
(folder / "main.py").write_text(MAIN)
(folder / "helpers.py").write_text(HELPERS)
out["upload"] = client.upload_plugin(str(folder), verbose=False)
out["status"] = client.get_plugin_status("official_plugin")
out["update"] = client.update_plugin(str(folder), plugin_name="official_plugin", verbose=False)

project_id = client.create_project(title="plugins", input_type="IMAGE", json_interface=INTERFACE)[
    "id"
]
asset_ids = client.append_many_to_dataset(
    project_id,
    content_array=["https://img.example/0.jpg", "https://img.example/1.jpg"],
    external_id_array=["good", "bad"],
)["asset_ids"]
out["activate"] = client.activate_plugin_on_project("official_plugin", project_id)
out["listed"] = client.list_plugins()
out["listed_names"] = client.list_plugins(fields=["name", "projectIds"])
started = datetime.now(timezone.utc)
client.append_labels(asset_id_array=asset_ids, json_response_array=[answer("A"), answer("B")])
out["logs"] = wait_runs(client, project_id, "official_plugin", 2)
out["logs_page"] = json.loads(
    client.get_plugin_logs(project_id, "official_plugin", start_date=started, limit=1, skip=1)
)
out["statuses"] = {
    a["externalId"]: a["status"] for a in client.assets(project_id, fields=["externalId", "status"])
}
out["project_id"] = project_id
out["asset_ids"] = asset_ids

# an @on_kili_event plugin: the SDK derives the event matcher from the annotation
events = root / "event_plugin.py"
events.write_text(EVENTS)
out["events_upload"] = client.upload_plugin(str(events), verbose=False)
client.activate_plugin_on_project("event_plugin.py", project_id)  # named after the file
client.append_labels(asset_id_array=asset_ids[:1], json_response_array=[answer("A")])
out["event_logs"] = wait_runs(client, project_id, "event_plugin.py", 1)

bad = root / "bad_plugin"
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
out["bad_errors_later"] = json.loads(
    client.get_plugin_build_errors("bad_plugin", start_date=datetime.now(timezone.utc), limit=5)
)

out["webhook"] = client.create_webhook(
    webhook_url="http://127.0.0.1:9/hook", plugin_name="hook", header="Bearer x",
    handler_types=["onReview"],
)  # fmt: skip
out["webhook_update"] = client.update_webhook(
    new_webhook_url="http://127.0.0.1:9/hook2", plugin_name="hook", new_header="Bearer y",
    handler_types=["onSubmit", "onReview"],
)  # fmt: skip
out["deactivate"] = client.deactivate_plugin_on_project("official_plugin", project_id)
out["delete"] = client.delete_plugin("official_plugin")
out["names_after"] = [p["name"] for p in client.list_plugins(fields=["name"])]
emit(out)
