"""The role every root field of ``schema.graphql`` needs, and where its arguments name what
it acts on: one table, applied by ``guard.py`` (``tests/server/test_permissions.py`` fails
when a root field has no entry).

The platform's rules (docs.kili-technology.com, the official SDK's docstrings): an
organization ADMIN is ADMIN of every project of the organization and alone manages its
members; a project ADMIN can do anything in the project; a TEAM_MANAGER runs operations
and manages labelers and reviewers but not the project's settings; a REVIEWER checks,
edits and sends back labels; a LABELER labels the assets. Where the platform says nothing,
the stricter choice is made (``why=`` says so; docs/organizations.md lists them):

* reads of a project's data (assets, labels, issues): any member; a LABELER reads only
  the labels they wrote; a member list shows all members to TEAM_MANAGERs and ADMINs, and
  to the others their own membership only;
* imports, deletions, settings, workflow steps, plugins on a project: ADMIN; archiving
  and deleting a project: its creator or an organization ADMIN;
* organization-wide objects (users, plugins, tags, cloud storage, models): an
  organization ADMIN writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ServerError
from .guard import ANY, ORG_ADMIN, Call, Find, Rule, denied
from .store.access import RANK, Access

Args = Mapping[str, Any]


def _project(path: str, *, required: bool = False) -> Find:
    return Find("Project", path, required)


def _assets(*paths: str) -> tuple[Find, ...]:
    return tuple(Find("Asset", path) for path in paths)


_ASSET_WHERE = ("where.id", "where.idIn[]")  # an AssetWhere naming assets by id
_ASSET_ACTION = (_project("where.project.id"), *_assets(*_ASSET_WHERE))
# outcome actions: an asset absent (or of another organization) is reported in the outcome
_OUTCOME = (
    _project("where.project.id"),
    *(Find("Asset", path, missing_ok=True) for path in _ASSET_WHERE),
)
_READ = "LABELER"  # any member


# ---------------------------------------------------------------- needs that read arguments
def _label_need(args: Args, caller: Access) -> str:
    """Labels: LABELER (REVIEW: REVIEWER; PREDICTION / INFERENCE: TEAM_MANAGER); written
    for another author: TEAM_MANAGER or above."""
    data = args.get("data") or {}
    need = {"REVIEW": "REVIEWER", "PREDICTION": "TEAM_MANAGER", "INFERENCE": "TEAM_MANAGER"}.get(
        str(data.get("labelType")), "LABELER"
    )
    authors = [data.get("authorID"), *(i.get("authorID") for i in data.get("labelsData") or [])]
    if any(author and author != caller.user_id for author in authors):
        need = max(need, "TEAM_MANAGER", key=RANK.__getitem__)
    return need


def _workflow_need(args: Args, _: Access) -> str:
    """Workflow settings: ADMIN; a change of steps' assignees only (managing labelers and
    reviewers): TEAM_MANAGER."""
    data = args.get("input") or {}
    given = {k for k, v in data.items() if v is not None} - {"projectId", "stepId"}
    steps = data.get("steps") or {}
    if given == {"steps"} and not steps.get("creates") and not steps.get("deletes"):
        updates = steps.get("updates") or []
        if updates and all(set(u) <= {"id", "assignees"} for u in updates):
            return "TEAM_MANAGER"
    return "TEAM_MANAGER" if given == {"assignees"} else "ADMIN"


def _issue_need(args: Args, _: Access) -> str:
    """Questions: any member; issues (about someone's label): REVIEWER or above."""
    kinds = {str(i.get("type")) for i in args.get("issues") or []}
    return "REVIEWER" if "ISSUE" in kinds else "LABELER"


# ---------------------------------------------------------------- further checks
_MANAGERS = {"ADMIN", "TEAM_MANAGER"}


def _member_role(call: Call, project_id: str, email: str | None, user_id: str | None) -> str | None:
    """The current role in the project of the user given by email or id (None: not a member)."""
    row = call.c.execute(
        "SELECT m.role FROM project_users m JOIN users u ON u.id = m.user_id "
        "WHERE m.project_id = ? AND (u.email = ? OR u.id = ?)",
        (project_id, (email or "").strip().lower(), user_id or ""),
    ).fetchone()
    return None if row is None else str(row[0])


def _managing(call: Call, project_id: str, roles: set[str | None]) -> None:
    """A TEAM_MANAGER manages LABELERs and REVIEWERs; giving, changing or taking away the
    ADMIN or TEAM_MANAGER role needs ADMIN."""
    if roles & _MANAGERS and call.roles.get(project_id) != "ADMIN":
        raise denied(
            f'{call.name} needs the project role ADMIN in project "{project_id}" to give, '
            f"change or remove the role ADMIN or TEAM_MANAGER: you are "
            f"{call.roles.get(project_id)}."
        )


def _append_to_roles(call: Call) -> None:
    data = call.args.get("data") or {}
    for project_id in call.roles:
        current = _member_role(call, project_id, data.get("userEmail"), None)
        _managing(call, project_id, {data.get("role"), current})


def _membership(call: Call) -> tuple[str, str | None]:
    """(project, current role) of the membership a ``ProjectUserWhere`` (and ``RoleData``)
    names: by its id, or by project and user."""
    where, data = call.args.get("where") or {}, call.args.get("data") or {}
    if where.get("id"):
        row = call.c.execute(
            "SELECT project_id, role FROM project_users WHERE id = ?", (where["id"],)
        ).fetchone()
        return str(row[0]), str(row[1])
    project_id = (where.get("project") or {}).get("id") or data.get("projectID")
    email = (where.get("user") or {}).get("email")
    if not project_id or not (email or data.get("userID")):
        raise ServerError(
            "where names no member: give where.id (the membership), or where.project.id and "
            "where.user.email."
        )
    return str(project_id), _member_role(call, str(project_id), email, data.get("userID"))


def _label_step(call: Call) -> None:
    """Labels made at a review step (``data.stepId``): REVIEWER or above."""
    step_id = (call.args.get("data") or {}).get("stepId")
    if not step_id:
        return
    row = call.c.execute(
        "SELECT project_id, name, type FROM project_steps WHERE id = ?", (step_id,)
    ).fetchone()
    if row is None or row[2] != "REVIEW":
        return  # an unknown step: the resolver names it
    role = call.roles.get(row[0])
    if role is not None and RANK[role] < RANK["REVIEWER"]:
        raise denied(
            f'{call.name} at step "{row[1]}", a review step, needs the project role REVIEWER or '
            f'above in project "{row[0]}" (you are {role}): ask an ADMIN of the project.'
        )


def _change_role(call: Call) -> None:
    project_id, current = _membership(call)
    _managing(call, project_id, {current, (call.args.get("data") or {}).get("role")})


def _remove_member(call: Call) -> None:
    project_id, current = _membership(call)
    _managing(call, project_id, {current})


def _owner_or_org_admin(call: Call, what: str) -> None:
    """Archiving or deleting a project: its creator, or an organization ADMIN."""
    if call.caller.org_admin:
        return
    for project_id in call.roles:
        author = call.c.execute(
            "SELECT author_id FROM projects WHERE id = ?", (project_id,)
        ).fetchone()
        if author is None or author[0] != call.caller.user_id:
            raise denied(
                f'{call.name} ({what}) is for the creator of project "{project_id}" or an '
                "organization ADMIN."
            )


def _delete_project(call: Call) -> None:
    _owner_or_org_admin(call, "deleting a project")


def _update_project(call: Call) -> None:
    if (call.args.get("data") or {}).get("archived") is not None:
        _owner_or_org_admin(call, "archiving a project")


def _target_user(call: Call) -> str | None:
    where = call.args.get("where") or {}
    if where.get("id"):
        return str(where["id"])
    email = str(where.get("email") or "").strip().lower()
    row = call.c.execute("SELECT id FROM users WHERE email = ?", (email,)).fetchone()
    return None if row is None else str(row[0])


_OWN_PROFILE = {"firstname", "lastname", "hasCompletedLabelingTour", "hubspotSubscriptionStatus"}


def _update_user(call: Call) -> None:
    """Your own names: anyone; anything else (another user, a role, an activation, an
    email, an organization): an organization ADMIN."""
    given = {k for k, v in (call.args.get("data") or {}).items() if v is not None}
    if call.caller.org_admin:
        return
    if _target_user(call) != call.caller.user_id or given - _OWN_PROFILE:
        raise denied(
            f"{call.name} needs the organization role ADMIN to change another user, or a "
            "user's email, role, activation or organization: you are USER."
        )


def _own_password(call: Call) -> None:
    if _target_user(call) != call.caller.user_id:
        raise denied(f"{call.name} changes your own password only.")


def _needs_where_user(call: Call) -> None:
    where = call.args.get("where") or {}
    if not (where.get("email") or where.get("id")):
        raise ServerError(f"{call.name}: give the user, where.email (or where.id).")


def _user_rule(check: Any) -> Any:
    def run(call: Call) -> None:
        _needs_where_user(call)
        check(call)

    return run


_USER_WHERE = (Find("UserEmail", "where.email"), Find("User", "where.id"))

# ---------------------------------------------------------------- the table
RULES: dict[str, Rule] = {
    # users and organizations
    "Query.viewer": Rule(ANY),
    "Query.me": Rule(ANY),
    "Query.users": Rule(
        ANY, scoped=True, why="a USER lists itself and the members of its projects"
    ),
    "Query.countUsers": Rule(ANY, scoped=True),
    "Query.organizations": Rule(ANY, scoped=True),
    "Query.countOrganizations": Rule(ANY, scoped=True),
    "Query.organizationMetrics": Rule(
        ORG_ADMIN,
        (Find("Organization", "where.organizationId", True),),
        why="the organization's activity: its ADMINs",
    ),
    "Query.apiKeys": Rule(ANY, scoped=True, why="your own keys only"),
    "Query.countApiKeys": Rule(ANY, scoped=True),
    "Mutation.createUser": Rule(ORG_ADMIN),
    "Mutation.updatePropertiesInUser": Rule(ANY, _USER_WHERE, check=_user_rule(_update_user)),
    "Mutation.updatePassword": Rule(
        ANY,
        _USER_WHERE,
        check=_user_rule(_own_password),
        why="your own password only, even for an ADMIN",
    ),
    "Mutation.resetPassword": Rule(ORG_ADMIN, _USER_WHERE, check=_needs_where_user),
    "Mutation.createOrganization": Rule(ORG_ADMIN, why="the local server's operators: ADMINs"),
    "Mutation.updatePropertiesInOrganization": Rule(
        ORG_ADMIN, (Find("Organization", "where.id", True),)
    ),
    # projects and members
    "Query.projects": Rule(ANY, scoped=True),
    "Query.countProjects": Rule(ANY, scoped=True),
    "Mutation.createProject": Rule(ANY),
    "Mutation.updatePropertiesInProject": Rule(
        "ADMIN", (_project("where.id", required=True),), check=_update_project
    ),
    "Mutation.deleteProject": Rule(
        "ADMIN", (_project("where.id", required=True),), check=_delete_project
    ),
    "Mutation.deleteProjectAsynchronously": Rule(
        "ADMIN", (_project("where.id", required=True),), check=_delete_project
    ),
    "Mutation.copyProject": Rule(
        "ADMIN",
        (_project("data.projectId", required=True),),
        why="copying everything of a project: its ADMINs",
    ),
    "Mutation.updateProjectAnonymization": Rule("ADMIN", (_project("input.id", required=True),)),
    "Query.projectUsers": Rule(
        ANY,
        (_project("where.project.id"), Find("ProjectUser", "where.id")),
        scoped=True,
        why="LABELERs and REVIEWERs see their own membership",
    ),
    "Query.countProjectUsers": Rule(
        ANY, (_project("where.project.id"), Find("ProjectUser", "where.id")), scoped=True
    ),
    "Mutation.appendToRoles": Rule(
        "TEAM_MANAGER", (_project("where.id", required=True),), check=_append_to_roles
    ),
    "Mutation.updatePropertiesInRole": Rule(
        "TEAM_MANAGER",
        (
            Find("ProjectUser", "where.id"),
            _project("where.project.id"),
            _project("data.projectID"),
            Find("User", "data.userID"),
        ),
        check=_change_role,
    ),
    "Mutation.deleteFromRoles": Rule(
        "TEAM_MANAGER",
        (Find("ProjectUser", "where.id"), _project("where.project.id")),
        check=_remove_member,
    ),
    "Mutation.updatePropertiesInProjectUser": Rule(
        _READ,
        (_project("where.project.id", required=True), Find("ProjectUser", "where.id")),
        why="starring: your own membership",
    ),
    "Query.projectVersions": Rule("TEAM_MANAGER", (_project("where.projectId", required=True),)),
    "Query.countProjectVersions": Rule(
        "TEAM_MANAGER", (_project("where.projectId", required=True),)
    ),
    # local-only: how versions are made on this server (docs/projects-and-tags.md)
    "Mutation.createProjectVersion": Rule("ADMIN", (_project("data.projectId", required=True),)),
    "Mutation.updatePropertiesInProjectVersion": Rule(
        "ADMIN", (Find("ProjectVersion", "where.id", True),)
    ),
    # workflow settings; a step's assignees: labelers and reviewers, a TEAM_MANAGER's
    "Mutation.editProjectWorkflowSettings": Rule(
        _workflow_need,
        (_project("input.projectId", required=True),),
        why="assignees only: TEAM_MANAGER",
    ),
    "Mutation.addReviewStep": Rule("ADMIN", (_project("input.projectId", required=True),)),
    "Mutation.updateLabelingStepProperties": Rule(
        "ADMIN", (_project("input.projectId", required=True),)
    ),
    "Mutation.updateReviewStepProperties": Rule(
        _workflow_need,
        (_project("input.projectId", required=True),),
        why="assignees only: TEAM_MANAGER",
    ),
    "Mutation.deleteStep": Rule("ADMIN", (_project("input.projectId", required=True),)),
    "Mutation.renameStep": Rule("ADMIN", (_project("input.projectId", required=True),)),
    # assets
    "Query.assets": Rule(_READ, (_project("where.project.id"),), scoped=True),
    "Query.countAssets": Rule(_READ, (_project("where.project.id"),), scoped=True),
    "Query.countAssetAnnotations": Rule(_READ, (_project("where.project.id"),), scoped=True),
    "Query.createUploadBucketSignedUrls": Rule(ANY),
    "Query.filterExistingAssets": Rule(_READ, (_project("projectID", required=True),)),
    "Query.notifications": Rule(ANY, scoped=True, why="your organization's imports"),
    "Query.countNotifications": Rule(ANY, scoped=True),
    "Mutation.appendManyAssets": Rule(
        "ADMIN", (_project("where.id", required=True),), why="importing data: ADMINs"
    ),
    "Mutation.appendManyAssetsAsynchronously": Rule(
        "ADMIN", (_project("where.id", required=True),)
    ),
    "Mutation.updatePropertiesInAssets": Rule(
        "TEAM_MANAGER",
        (
            _project("where[].project.id"),
            *_assets("where[].id", "where[].idIn[]"),
            Find("UserRef", "data[].toBeLabeledBy[]"),
        ),
    ),
    "Mutation.deleteAssets": Rule("ADMIN", _OUTCOME, scoped=True),
    "Mutation.addAssetsToReview": Rule("REVIEWER", _OUTCOME, scoped=True),
    "Mutation.sendAssetsBackToQueue": Rule("REVIEWER", _OUTCOME, scoped=True),
    "Mutation.setAssetsPriority": Rule("TEAM_MANAGER", _ASSET_ACTION),
    "Mutation.assignAssets": Rule("TEAM_MANAGER", (*_ASSET_ACTION, Find("User", "userIds[]"))),
    "Mutation.skipAsset": Rule(_READ, _ASSET_ACTION),
    "Mutation.unskipAsset": Rule(
        _READ, (_project("projectId", required=True), *_assets("assetId"))
    ),
    "Mutation.setAssetConsensus": Rule(
        "TEAM_MANAGER", (_project("projectId", required=True), *_assets("assetId"))
    ),
    # labels
    "Query.labels": Rule(
        _READ,
        (_project("where.project.id"), _project("where.asset.project.id")),
        scoped=True,
        why="a LABELER reads the labels they wrote",
    ),
    "Query.countLabels": Rule(
        _READ, (_project("where.project.id"), _project("where.asset.project.id")), scoped=True
    ),
    "Query.annotationFileUrl": Rule(
        _READ, (_project("projectId", required=True), *_assets("assetId"))
    ),
    "Mutation.appendManyLabels": Rule(
        _label_need,
        (
            _project("where.project.id"),
            *_assets("data.labelsData[].assetID", *_ASSET_WHERE),
            Find("User", "data.labelsData[].authorID", missing_ok=True),
        ),
        check=_label_step,
        why="at a step: its assignees (store/step_work.py)",
    ),
    "Mutation.appendToLabels": Rule(
        _label_need,
        (
            _project("where.project.id"),
            *_assets(*_ASSET_WHERE),
            Find("User", "data.authorID", missing_ok=True),
        ),
    ),
    "Mutation.createHoneypot": Rule("TEAM_MANAGER", (*_assets(*_ASSET_WHERE),)),
    "Mutation.deleteLabels": Rule("TEAM_MANAGER", (Find("Label", "ids[]"),)),
    "Mutation.updatePropertiesInLabel": Rule(
        "REVIEWER", (Find("Label", "where.id", True),), why="editing a label: REVIEWERs"
    ),
    "Mutation.copyLabels": Rule(
        "ADMIN",
        (_project("data.projectId", required=True), *_assets("data.srcAssetId", "data.dstAssetId")),
    ),
    "Mutation.createAnnotationFileUpload": Rule(
        _READ, (_project("projectId", required=True), *_assets("assetId"))
    ),
    # issues
    "Query.issues": Rule(_READ, (_project("where.project.id"),), scoped=True),
    "Query.countIssues": Rule(_READ, (_project("where.project.id"),), scoped=True),
    "Mutation.createIssues": Rule(
        _issue_need,
        (
            _project("where.project.id"),
            *_assets(*_ASSET_WHERE, "issues[].assetId"),
            Find("Label", "issues[].labelID"),
        ),
    ),
    "Mutation.updatePropertiesInIssue": Rule(
        "REVIEWER",
        (Find("Issue", "where.id", True),),
        why="solving, cancelling, reopening: REVIEWERs",
    ),
    # tags (the organization's)
    "Query.listTagsByOrg": Rule(ANY),
    "Query.listTagsByProject": Rule(_READ, (_project("projectId", required=True),)),
    "Mutation.createTag": Rule(ORG_ADMIN, why="organization-wide"),
    "Mutation.updateTag": Rule(ORG_ADMIN, (Find("Tag", "tagId", True),)),
    "Mutation.deleteTag": Rule(ORG_ADMIN, (Find("Tag", "tagId", True),)),
    "Mutation.checkTag": Rule(
        "ADMIN", (_project("data.projectId", required=True), Find("Tag", "data.tagId"))
    ),
    "Mutation.uncheckTag": Rule(
        "ADMIN", (_project("projectId", required=True), Find("Tag", "tagId"))
    ),
    # plugins and webhooks (the organization's)
    "Query.listPlugins": Rule(ORG_ADMIN, why="plugins are managed by organization ADMINs"),
    "Query.countPlugins": Rule(ORG_ADMIN, (Find("PluginId", "where.id"),)),
    "Query.getPluginRunnerStatus": Rule(ORG_ADMIN, (Find("Plugin", "name", True),)),
    "Query.getPluginBuildErrors": Rule(ORG_ADMIN, (Find("Plugin", "data.pluginName", True),)),
    "Query.getPluginLogs": Rule(
        "ADMIN", (_project("data.projectId", required=True), Find("Plugin", "data.pluginName"))
    ),
    "Mutation.createPlugin": Rule(ORG_ADMIN),
    "Mutation.generateUpdateUrl": Rule(ORG_ADMIN, (Find("Plugin", "data.pluginName", True),)),
    "Mutation.createPluginRunner": Rule(ORG_ADMIN, (Find("Plugin", "data.pluginName", True),)),
    "Mutation.updatePluginRunner": Rule(ORG_ADMIN, (Find("Plugin", "data.pluginName", True),)),
    "Mutation.createWebhook": Rule(ORG_ADMIN),
    "Mutation.updateWebhook": Rule(ORG_ADMIN, (Find("Plugin", "data.pluginName", True),)),
    "Mutation.activatePluginOnProject": Rule(
        "ADMIN", (_project("where.projectId", required=True), Find("Plugin", "where.pluginName"))
    ),
    "Mutation.deactivatePluginOnProject": Rule(
        "ADMIN", (_project("where.projectId", required=True), Find("Plugin", "where.pluginName"))
    ),
    "Mutation.deletePlugin": Rule(ORG_ADMIN, (Find("Plugin", "where.pluginName", True),)),
    # cloud storage (organization ADMINs manage integrations; connections are project settings)
    "Query.dataIntegrations": Rule(
        ORG_ADMIN,
        (Find("Organization", "where.organizationId"), _project("where.projectId")),
        scoped=True,
    ),
    "Query.countDataIntegrations": Rule(
        ORG_ADMIN,
        (Find("Organization", "where.organizationId"), _project("where.projectId")),
        scoped=True,
    ),
    "Query.dataConnections": Rule("ADMIN", (_project("where.projectId"),), scoped=True),
    "Query.dataConnection": Rule(ORG_ADMIN),
    "Mutation.createDataIntegration": Rule(
        ORG_ADMIN, (Find("Organization", "data.organizationId"),)
    ),
    "Mutation.updatePropertiesInDataIntegration": Rule(
        ORG_ADMIN,
        (Find("Organization", "data.organizationId"), Find("Organization", "where.organizationId")),
    ),
    "Mutation.deleteDataIntegration": Rule(
        ORG_ADMIN, (Find("Organization", "where.organizationId"),)
    ),
    "Mutation.addDataConnection": Rule("ADMIN", (_project("data.projectId", required=True),)),
    "Mutation.computeDifferences": Rule(ORG_ADMIN),
    "Mutation.validateDataDifferences": Rule(ORG_ADMIN),
    # activity and LLM projects
    "Query.events": Rule(
        ORG_ADMIN,
        (
            Find("Organization", "where.organizationId"),
            _project("where.projectId"),
            Find("User", "where.userId"),
        ),
        scoped=True,
    ),
    "Query.models": Rule(ORG_ADMIN, (Find("Organization", "where.organizationId"),), scoped=True),
    "Query.model": Rule(ORG_ADMIN),
    "Query.projectModels": Rule("ADMIN", (_project("where.projectId"),), scoped=True),
    "Query.chatItems": Rule(_READ, _assets("where.assetId"), scoped=True),
    "Mutation.createModel": Rule(ORG_ADMIN, (Find("Organization", "input.organizationId"),)),
    "Mutation.updateModel": Rule(ORG_ADMIN),
    "Mutation.deleteModel": Rule(ORG_ADMIN),
    "Mutation.createProjectModel": Rule("ADMIN", (_project("input.projectId", required=True),)),
    "Mutation.updateProjectModel": Rule(ORG_ADMIN),
    "Mutation.deleteProjectModel": Rule(ORG_ADMIN),
    "Mutation.createLLMAsset": Rule(
        "ADMIN", (_project("where.id", required=True), Find("User", "data.authorId"))
    ),
    "Mutation.createChatItem": Rule(_READ, _assets(*_ASSET_WHERE)),
    "Mutation.importConversations": Rule("ADMIN", (_project("where.id", required=True),)),
    # live
    "Subscription.labelCreatedOrUpdated": Rule(_READ, (_project("projectID", required=True),)),
}
