"""Issues, users and project look-ups in a user's script: mypy --strict must accept it."""

from __future__ import annotations

import aiokili


async def main(kili: aiokili.AsyncKili) -> None:
    project: aiokili.Project = await kili.get_project("p")
    created = await kili.create_issues(project.id, ["label"], text_array=["why?"])
    issue_id: str = created[0]["id"]
    async for issue in kili.issues(project.id, status="OPEN", issue_type=aiokili.IssueType.ISSUE):
        status: aiokili.IssueStatus | None = issue.status
        texts = [c.text for c in issue.comments or []]
        print(
            issue.asset_id,
            issue.label_id,
            status,
            texts,
            issue.author.email if issue.author else "",
        )
    solved: aiokili.Issue = await kili.update_issue_status(issue_id, "SOLVED")
    n: int = await kili.count_issues(project.id, asset_id_in=["a"])
    me: aiokili.UserProfile = await kili.get_current_user()
    members: list[aiokili.UserProfile] = await kili.users(organization_id=me.organization_id or "")
    orgs: list[aiokili.Organization] = await kili.organizations(email=me.email)
    tagged: int = await kili.count_projects(tags_in=["urgent"], starred=True)
    print(solved.status, n, len(members), orgs[0].name, tagged)
