"""GraphQL resolvers of issues and questions: listing, creation, status changes, and an
issue's author and comment.

An issue is created OPEN; it can then be SOLVED or CANCELLED, and a solved or cancelled
issue can be reopened (OPEN). Its ``text`` is its first comment.
"""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo as Info

from ..context import context
from ..store.db import in_thread
from ..store.issues import IssueRow, NewIssue
from .common import page, required_id, shown_author

query = QueryType()
mutation = MutationType()
issue_type = ObjectType("Issue")
comment_type = ObjectType("IssueComment")


@query.field("issues")
async def resolve_issues(_: Any, info: Info, where: dict[str, Any], **kw: Any) -> list[IssueRow]:
    return await in_thread(context(info).store.issues.page, where, *page(kw))


@query.field("countIssues")
async def resolve_count_issues(_: Any, info: Info, where: dict[str, Any]) -> int:
    return await in_thread(context(info).store.issues.count, where)


@issue_type.field("type")
def resolve_issue_type(issue: IssueRow, _: Info) -> str:
    return issue.type


@issue_type.field("author")
def resolve_issue_author(issue: IssueRow, info: Info) -> Any:
    ctx = context(info)
    return shown_author(ctx, issue.project_id, ctx.users.get(issue.author_id))


@issue_type.field("comments")
def resolve_issue_comments(issue: IssueRow, _: Info) -> list[dict[str, Any]]:
    if issue.text is None:
        return []
    return [
        {
            "id": f"{issue.id}-0",
            "text": issue.text,
            "createdAt": issue.created_at,
            "authorId": issue.author_id,
            "projectId": issue.project_id,
        }
    ]


@comment_type.field("author")
def resolve_comment_author(comment: dict[str, Any], info: Info) -> Any:
    ctx = context(info)
    return shown_author(ctx, comment["projectId"], ctx.users.get(comment["authorId"]))


@mutation.field("createIssues")
async def resolve_create_issues(
    _: Any, info: Info, issues: list[dict[str, Any]], where: dict[str, Any]
) -> list[IssueRow]:
    ctx = context(info)
    items = [
        NewIssue(i.get("labelID"), i.get("assetId"), i.get("objectMid"), i["type"], i.get("text"))
        for i in issues
    ]
    if not items:
        return []
    project_id = (where.get("project") or {}).get("id")
    return await ctx.store.db.run_write(
        ctx.store.issues.create, project_id, where.get("id"), items, ctx.user.id
    )


@mutation.field("updatePropertiesInIssue")
async def resolve_update_issue(
    _: Any, info: Info, data: dict[str, Any], where: dict[str, Any]
) -> IssueRow:
    ctx = context(info)
    issue_id = required_id(where, "issue")
    if data.get("status") is None:
        return await in_thread(ctx.store.issues.get, issue_id)
    return await ctx.store.db.run_write(ctx.store.issues.set_status, issue_id, data["status"])


bindables = [query, mutation, issue_type, comment_type]
