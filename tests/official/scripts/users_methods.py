"""Official SDK: users (create, update, password), organizations and their metrics, and what
another organization's key sees. Keys of other users come from the pytest side
(``USER_KEY`` with ``USER_EMAIL`` / ``USER_PASSWORD``, ``OTHER_ORG_KEY``)."""

from __future__ import annotations

import os
import warnings
from datetime import datetime, timedelta, timezone

from _common import INTERFACE, answer, emit, kili

warnings.simplefilter("ignore", DeprecationWarning)
admin = kili()
out: dict[str, object] = {}
me = admin.get_current_user(fields=["id", "email", "organizationId"])
out["me"] = me
organization = me["organizationId"]

# ---- creating and updating users
out["created"] = admin.create_user(
    email="Official.Created@Users.Test", password="first-pass", organization_role="USER",
    firstname="Ofe", lastname="Cial",
)  # fmt: skip
out["created_listed"] = admin.users(
    email="official.created@users.test", fields=["id", "email", "firstname", "organizationRole"]
)
out["updated"] = admin.update_properties_in_user(
    "official.created@users.test", firstname="Offi", lastname="C", organization_role="ADMIN",
    organization_id=organization,
)  # fmt: skip
out["updated_listed"] = admin.users(
    email="official.created@users.test", fields=["firstname", "lastname", "organizationRole"]
)
out["deactivated"] = admin.update_properties_in_user("official.created@users.test", activated=False)
out["inactive"] = [
    u["email"] for u in admin.users(fields=["email"]) if u["email"].startswith("official")
]
out["count_by_email"] = admin.count_users(email="official.created@users.test")
out["count_by_org"] = admin.count_users(organization_id=organization)
out["users_by_org"] = len(admin.users(organization_id=organization, fields=["id"]))
out["users_generator"] = len(list(admin.users(fields=["id"], as_generator=True)))

# ---- a user changes their own password
user = kili(api_key=os.environ["USER_KEY"])
out["password"] = user.update_password(
    os.environ["USER_EMAIL"], os.environ["USER_PASSWORD"], "second-pass", "second-pass"
)
try:
    user.update_password(os.environ["USER_EMAIL"], "wrong-pass", "third-pass", "third-pass")
    out["wrong_password"] = "accepted"
except Exception as exc:
    out["wrong_password"] = str(exc)

# ---- organizations and metrics
out["organizations"] = admin.organizations()
out["organizations_generator"] = list(admin.organizations(as_generator=True))
out["organizations_by_email"] = admin.organizations(email=me["email"], fields=["id"])
out["organizations_by_id"] = admin.count_organizations(organization_id=organization)
out["organizations_count"] = admin.count_organizations()
start = datetime.now(timezone.utc) - timedelta(seconds=2)
project_id = admin.create_project(title="metrics", input_type="IMAGE", json_interface=INTERFACE)[
    "id"
]
assets = admin.append_many_to_dataset(
    project_id, content_array=["https://img.example/1.jpg"], external_id_array=["m1"]
)["asset_ids"]
admin.append_labels(
    asset_id_array=assets, json_response_array=[answer("A")], seconds_to_label_array=[3600]
)
out["metrics"] = admin.organization_metrics(
    organization, start_date=start, end_date=datetime.now(timezone.utc) + timedelta(seconds=2)
)
out["metrics_now"] = admin.organization_metrics(organization)
out["projects_generator"] = [
    p["id"] for p in admin.projects(project_id=project_id, as_generator=True)
]
out["issues_generator"] = list(admin.issues(project_id, as_generator=True))

# ---- another organization's key sees none of it
other = kili(api_key=os.environ["OTHER_ORG_KEY"])
out["other_projects"] = other.projects(project_id=project_id, fields=["id"])
out["other_count_users"] = other.count_users(organization_id=organization)
out["other_users"] = [u["email"] for u in other.users(fields=["email"])]
out["other_organizations"] = [o["name"] for o in other.organizations()]
try:
    other.organization_metrics(organization)
    out["other_metrics"] = "answered"
except Exception as exc:
    out["other_metrics"] = type(exc).__name__ + ": " + str(exc)
emit(out)
