"""Official SDK: project members and roles; a LABELER refused an admin action; a deactivated
user's key refused. The keys of the other users come from the pytest side (``LABELER_KEY``,
``MEMBER_KEY``, made on the server: the API stores keys hashed and hands none out)."""

from __future__ import annotations

import os
import warnings

from _common import INTERFACE, emit, kili

warnings.simplefilter("ignore", DeprecationWarning)
admin = kili()
out: dict[str, object] = {}
labeler_email, member_email = os.environ["LABELER_EMAIL"], os.environ["MEMBER_EMAIL"]


def error(call: object) -> dict[str, str]:
    """What a refused call raises: its class and message."""
    try:
        call()  # type: ignore[operator]
    except Exception as exc:  # the official SDK's own error classes
        return {"type": type(exc).__name__, "message": str(exc)}
    return {"type": "none", "message": ""}


project_id = admin.create_project(title="members", input_type="IMAGE", json_interface=INTERFACE)[
    "id"
]
out["project_id"] = project_id
# ---- adding members by email, changing and removing their role
out["appended"] = admin.append_to_roles(project_id, member_email.upper(), role="REVIEWER")
out["appended_labeler"] = admin.append_to_roles(project_id, labeler_email)  # LABELER by default
out["members"] = admin.project_users(project_id)
out["members_fields"] = admin.project_users(project_id, fields=["role", "user.email", "isAuthor"])
out["members_activated"] = admin.project_users(project_id, status_in=["ACTIVATED"])
out["members_admin"] = [
    m["user"]["email"] for m in admin.project_users(project_id, status_in=["ORG_ADMIN"])
]
out["members_by_email"] = admin.project_users(project_id, email=member_email, fields=["id"])
out["members_generator"] = len(list(admin.project_users(project_id, as_generator=True)))
out["count"] = admin.count_project_users(project_id)
out["count_activated"] = admin.count_project_users(project_id, status_in=["ACTIVATED"])
out["count_all"] = admin.count_project_users(project_id, status_in=None)
out["updated"] = admin.update_properties_in_project_user(project_id, member_email, "TEAM_MANAGER")
found = admin.project_users(project_id, email=member_email, fields=["id", "user.id"])[0]
member_role, member_user = found["id"], found["user"]["id"]
out["member_role_id"] = member_role
out["updated_old_form"] = admin.update_properties_in_role(
    member_role, project_id, member_user, "LABELER"
)
out["roles_after_update"] = sorted(
    (m["user"]["email"], m["role"])
    for m in admin.project_users(project_id, fields=["role", "user.email"])
)
out["deleted_by_email"] = admin.delete_from_roles(user_email=member_email, project_id=project_id)
admin.append_to_roles(project_id, member_email, role="LABELER")
readded = admin.project_users(project_id, email=member_email, fields=["id"])[0]["id"]
out["deleted_by_id"] = admin.delete_from_roles(role_id=readded)
out["count_after_delete"] = admin.count_project_users(project_id)

# ---- a LABELER reads the project but is refused admin actions
labeler = kili(api_key=os.environ["LABELER_KEY"])
out["labeler_sees"] = [p["id"] for p in labeler.projects(project_id=project_id, fields=["id"])]
out["labeler_members"] = [m["user"]["email"] for m in labeler.project_users(project_id)]
out["labeler_delete"] = error(lambda: labeler.delete_project(project_id))
out["labeler_interface"] = error(
    lambda: labeler.update_properties_in_project(project_id, title="mine now")
)
out["labeler_append"] = error(lambda: labeler.append_to_roles(project_id, member_email))
out["title"] = admin.projects(project_id=project_id, fields=["title"])[0]["title"]

# ---- a deactivated user's key is refused at once, and works again once reactivated
member = kili(api_key=os.environ["MEMBER_KEY"])
out["member_before"] = member.get_current_user(fields=["email"])["email"]
out["deactivated"] = admin.update_properties_in_user(member_email, activated=False)
out["member_deactivated"] = error(lambda: member.count_projects())
out["member_new_client"] = error(lambda: kili(api_key=os.environ["MEMBER_KEY"]))
out["reactivated"] = admin.update_properties_in_user(member_email, activated=True)
out["member_after"] = member.get_current_user(fields=["email"])["email"]
emit(out)
