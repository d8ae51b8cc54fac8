"""Mistakes with issues and users that mypy must catch (checked by tests/client/test_issues.py)."""

from __future__ import annotations

import aiokili


async def main(kili: aiokili.AsyncKili) -> None:
    await kili.count_issues("p", status="DONE")  # error: not an issue status
    await kili.count_issues("p", label_id="l")  # error: unexpected keyword
    await kili.count_users(email=3)  # error: int is not str
    issues: list[aiokili.Label] = await kili.issues("p")  # error: Issue is not Label
    print(issues)
