"""Who a plugin run acts as: the plugin's own identity, never the server's admin.

Each plugin has a user of its organization (``plugin-<plugin id>@plugins.aiokili.local``,
organization role USER, so it reaches no project it is not a member of), made on its first
run. Before each run its memberships are set to what the plugin is activated on: project
ADMIN of those projects (a plugin acts on its project as the platform lets it: labels,
assets, issues, workflow), of no other. The run gets a key of that user made for the run
alone, stored hashed (``UserRepository.grant_run_key``) so that every server process on the
database accepts it; refused from the moment the run ends, or once the run's time limit is
well over (a server process that died never revokes its runs' keys).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store import Store
    from ..store.plugins import PluginRow

DOMAIN = "plugins.aiokili.local"
MARGIN_S = 30.0
"""How long a run's key outlives the run's time limit, should the run never revoke it (its
server process died); the limit counts from the run's process on."""


def email_of(plugin: PluginRow) -> str:
    """The email of the plugin's identity."""
    return f"plugin-{plugin.id}@{DOMAIN}".lower()


class Identities:
    """Makes plugins' identities and their run keys."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._projects: dict[str, frozenset[str]] = {}  # plugin id -> projects it is on

    def _prepare(self, plugin: PluginRow) -> str:
        """The plugin's user (made if needed), member of exactly its projects; its id."""
        users, members = self.store.users, self.store.members
        user = users.by_email(email_of(plugin))
        if user is None:
            user = users.create_user(
                plugin.organization_id, email_of(plugin), "USER", "Plugin", plugin.name
            )
        with self.store.db.read() as c:
            projects = frozenset(
                str(row[0])
                for row in c.execute(
                    "SELECT project_id FROM plugin_projects WHERE plugin_id = ?", (plugin.id,)
                )
            )
        if self._projects.get(plugin.id) != projects:
            with self.store.db.read() as c:
                had = {
                    str(project): (str(member), str(role))
                    for member, project, role in c.execute(
                        "SELECT id, project_id, role FROM project_users WHERE user_id = ?",
                        (user.id,),
                    )
                }
            for project_id in projects:
                if had.get(project_id, ("", ""))[1] != "ADMIN":
                    members.put(project_id, user.id, "ADMIN")
            for project_id, (member_id, _) in had.items():
                if project_id not in projects:
                    members.remove(member_id)
            self._projects[plugin.id] = projects
        return user.id

    async def grant(self, plugin: PluginRow, run_s: float) -> str:
        """A key of the plugin's identity for a run of at most ``run_s`` seconds, valid
        until :meth:`revoke`, or :data:`MARGIN_S` after that."""
        user_id = await self.store.db.run_write(self._prepare, plugin)
        return await self.store.db.run_write(
            self.store.users.grant_run_key, user_id, run_s + MARGIN_S
        )

    async def revoke(self, key: str) -> None:
        """The run is over: its key is refused from now on, by every process."""
        await self.store.db.run_write(self.store.users.revoke_run_key, key)
