"""Who may call what: every root field of the schema passes through :func:`apply`'s guard.

Each root query, mutation and subscription has one :class:`Rule` (``permissions.RULES``):
the role it needs and where its arguments name the objects it acts on. Before the field's
resolver runs, the guard binds the caller (``store/access.py``, which limits every store
look-up to what the caller reaches), finds the objects the rule names (an id of another
organization, or of a project the caller is not a member of, is ``NOT_FOUND``: nothing says
it exists), then checks the caller's role: an organization role (ADMIN, or any user), or a
project role in every project found (an organization ADMIN is ADMIN of each). A refused
call is a ``FORBIDDEN`` error starting ``[accessDenied]`` that names the role needed.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from .context import context
from .errors import ServerError
from .store import access
from .store.access import RANK, Access
from .store.conn import Conn
from .store.db import chunks, marks

ANY = "ANY"  # any activated user of the organization
ORG_ADMIN = "ORG_ADMIN"  # an ADMIN of the organization
Args = Mapping[str, Any]

# kind -> SELECT (key, project id) of the objects whose key is in the list
_IN_PROJECT = {
    "Project": "SELECT id, id FROM projects WHERE id IN ({})",
    "Asset": "SELECT id, project_id FROM assets WHERE id IN ({})",
    "Label": "SELECT id, project_id FROM labels WHERE id IN ({})",
    "Issue": "SELECT id, project_id FROM issues WHERE id IN ({})",
    "ProjectUser": "SELECT id, project_id FROM project_users WHERE id IN ({})",
    "ProjectVersion": "SELECT id, project_id FROM project_versions WHERE id IN ({})",
}
# kind -> SELECT (key, organization id) of the objects whose key is in the list
_IN_ORGANIZATION = {
    "Organization": "SELECT id, id FROM organizations WHERE id IN ({})",
    "User": "SELECT id, organization_id FROM users WHERE id IN ({})",
    "UserEmail": "SELECT email, organization_id FROM users WHERE email IN ({})",
    "UserRef": "SELECT id, organization_id FROM users WHERE id IN ({0}) "
    "UNION ALL SELECT email, organization_id FROM users WHERE email IN ({0})",
    "Plugin": "SELECT name, organization_id FROM plugins WHERE name IN ({})",
    "PluginId": "SELECT id, organization_id FROM plugins WHERE id IN ({})",
    "Tag": "SELECT id, organization_id FROM tags WHERE id IN ({})",
}
_SHOWN = {
    "UserEmail": "User",
    "UserRef": "User",
    "PluginId": "Plugin",
}  # the kind a NOT_FOUND names


@dataclass(frozen=True)
class Find:
    """Objects of ``kind`` named at ``path`` in the arguments (``where.project.id``;
    ``[]`` walks a list: ``data.labelsData[].assetID``).

    ``missing_ok``: one that is absent, or not reached by the caller, is left to the
    resolver, whose store look-ups treat both alike (an asset action reports it in its
    outcome); only those found are checked.
    """

    kind: str
    path: str
    required: bool = False
    missing_ok: bool = False

    def values(self, args: Args) -> list[str]:
        found: list[Any] = [args]
        for step in self.path.split("."):
            many = step.endswith("[]")
            name = step.removesuffix("[]")
            found = [x.get(name) for x in found if isinstance(x, Mapping)]
            if many:
                found = [y for x in found if isinstance(x, list) for y in x]
        values = [str(x).strip().lower() if self.kind == "UserEmail" else str(x) for x in found]
        return [v for v in values if v and v != "None"]


@dataclass
class Call:
    """What a custom check sees: the caller, the arguments, the caller's role in each
    project found, and a read connection."""

    name: str
    caller: Access
    args: Args
    roles: dict[str, str]
    c: Conn


Need = str | Callable[[Args, Access], str]


@dataclass(frozen=True)
class Rule:
    """What a root field needs (see the module docstring).

    ``need``: ``ANY``, ``ORG_ADMIN`` or a project role (the least one allowed), or a
    function of the arguments and caller giving one. ``find``: where the arguments name
    the objects acted on. ``scoped``: the store limits what the call reads or writes to
    what the caller reaches (a listing, an asset action), so it may name no project; a
    project-role field that is not scoped must name one. ``check``: a further rule, run with the objects found.
    """

    need: Need
    find: tuple[Find, ...] = ()
    scoped: bool = False
    check: Callable[[Call], None] | None = None
    why: str = ""

    def needed(self, args: Args, caller: Access) -> str:
        return self.need(args, caller) if callable(self.need) else self.need


def denied(message: str) -> ServerError:
    """``[accessDenied] <message>`` (``FORBIDDEN``)."""
    return ServerError(f"[accessDenied] {message}", "FORBIDDEN")


def caller_of(info: GraphQLResolveInfo) -> Access:
    user = context(info).user
    return Access(user.id, user.organization_id, user.organization_role == "ADMIN")


def _rows(c: Conn, sql: str, keys: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in chunks(list(dict.fromkeys(keys))):
        args = list(part) * sql.count("{0}") if "{0}" in sql else list(part)
        found.update(c.execute(sql.format(marks(len(part))), args).fetchall())
    return found


def locate(c: Conn, caller: Access, rule: Rule, name: str, args: Args) -> Call:
    """Find the rule's objects (``NOT_FOUND`` for any the caller does not reach) and the
    caller's role in their projects."""
    roles: dict[str, str] = {}
    for find in rule.find:
        keys = find.values(args)
        if not keys:
            if find.required:
                what = _SHOWN.get(find.kind, find.kind).lower()
                ident = "name" if find.path.lower().endswith("name") else "id"
                raise ServerError(f"{find.path} is required: give the {what} {ident}.")
            continue
        shown = _SHOWN.get(find.kind, find.kind)
        if find.kind in _IN_PROJECT:
            projects = _rows(c, _IN_PROJECT[find.kind], keys)
            for key in keys:
                project_id = projects.get(key)
                role = None if project_id is None else roles.get(project_id)
                if project_id is not None and role is None:
                    role = access.role_in(c, project_id, caller)
                if role is None:
                    if find.missing_ok:
                        continue
                    raise ServerError.not_found(shown, key)
                roles[project_id] = role  # type: ignore[index]  # not None: found above
        else:
            organizations = _rows(c, _IN_ORGANIZATION[find.kind], keys)
            for key in keys:
                if organizations.get(key) != caller.organization_id and not find.missing_ok:
                    raise ServerError.not_found(shown, key)
    return Call(name, caller, args, roles, c)


def authorize(rule: Rule, call: Call) -> None:
    """Refuse the call unless the caller has the role the rule needs."""
    need = rule.needed(call.args, call.caller)
    if need == ORG_ADMIN and not call.caller.org_admin:
        raise denied(
            f"{call.name} needs the organization role ADMIN (you are USER): ask an ADMIN of "
            "the organization."
        )
    if need in RANK:
        if not call.roles and not rule.scoped:
            paths = ", ".join(f.path for f in rule.find if f.kind in _IN_PROJECT)
            raise ServerError(f"{call.name} names no project, asset or label: give one ({paths}).")
        for project_id, role in call.roles.items():
            if RANK[role] < RANK[need]:
                least = need if need == "ADMIN" else f"{need} or above"
                raise denied(
                    f'{call.name} needs the project role {least} in project "{project_id}" '
                    f"(you are {role}): ask an ADMIN of the project or of the organization."
                )
    if rule.check is not None:
        rule.check(call)


async def check(info: GraphQLResolveInfo, name: str, rule: Rule, args: Args) -> Access:
    """Bind the caller and apply ``rule`` to this call (see the module docstring)."""
    caller = caller_of(info)
    access.bind(caller)
    if not rule.find and rule.check is None:
        authorize(rule, Call(name, caller, args, {}, _NO_CONNECTION))
        return caller
    store = context(info).store

    def run() -> None:
        with store.db.read() as c:
            authorize(rule, locate(c, caller, rule, name, args))

    await store.db.run_ordered(run)
    return caller


_NO_CONNECTION: Any = None  # checks without objects to find never read


def _guarded(name: str, rule: Rule, resolve: Callable[..., Any]) -> Callable[..., Any]:
    async def guarded(root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        await check(info, name, rule, args)
        result = resolve(root, info, **args)
        return await result if inspect.isawaitable(result) else result

    return guarded


def _guarded_source(name: str, rule: Rule, source: Callable[..., Any]) -> Callable[..., Any]:
    async def guarded(root: Any, info: GraphQLResolveInfo, **args: Any) -> AsyncIterator[Any]:
        await check(info, name, rule, args)
        async for event in source(root, info, **args):
            yield event

    return guarded


def root_fields(schema: GraphQLSchema) -> Iterable[tuple[str, GraphQLObjectType, str]]:
    """``("Mutation.createUser", Mutation type, "createUser")`` for every root field."""
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        if root is not None:
            for name in root.fields:
                yield f"{root.name}.{name}", root, name


def apply(schema: GraphQLSchema, rules: Mapping[str, Rule]) -> None:
    """Put every root field of ``schema`` behind its rule; a field without one is an error."""
    missing = [key for key, _, _ in root_fields(schema) if key not in rules]
    if missing:
        raise RuntimeError(f"root fields without a rule in permissions.RULES: {missing}")
    for key, root, name in root_fields(schema):
        graphql_field = root.fields[name]
        if root is schema.subscription_type and graphql_field.subscribe is not None:
            graphql_field.subscribe = _guarded_source(name, rules[key], graphql_field.subscribe)
        elif graphql_field.resolve is not None:
            graphql_field.resolve = _guarded(name, rules[key], graphql_field.resolve)


__all__ = ["ANY", "ORG_ADMIN", "Call", "Find", "Rule", "apply", "denied"]
