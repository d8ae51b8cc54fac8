"""Mistakes with asset queries that mypy must catch (checked by tests/client/assets/test_asset_queries.py)."""

from __future__ import annotations

import aiokili


async def main(kili: aiokili.AsyncKili) -> None:
    await kili.count_assets("p", issue_type="BUG")  # error: not an issue type
    await kili.count_assets("p", step_status_in=["FINISHED"])  # error: not a step status
    kili.assets("p", external_ids_contain=["x"])  # error: unknown filter
    kili.assets("p", format="csv")  # error: only "pandas"
    listed: list[aiokili.Label] = await kili.assets("p")  # error: Asset is not Label
    print(listed)
