"""One export, measured in its own process: aiokili (this repo's environment) or the official
SDK (its own virtualenv's python). Prints ``RESULT {...}`` (wall, CPU, peak RSS, size)."""

from __future__ import annotations

import json
import os
import sys
import warnings
from typing import Any

from _shared import emit, measure

warnings.simplefilter("ignore")


def official(task: dict[str, Any]) -> None:
    if task.get("extra_path"):  # numpy and shapely for COCO (the official venv lacks them)
        sys.path.append(task["extra_path"])
    from kili.client import Kili

    kili = Kili(api_key=task["key"], api_endpoint=task["url"], disable_tqdm=True,
                graphql_client_params={"graphql_schema_cache_dir": task["schema_dir"]})  # fmt: skip

    def work() -> int:
        kili.export_labels(task["project_id"], task["out"], task["fmt"], layout=task["layout"],
                           with_assets=False)  # fmt: skip
        return int(task["n"])

    emit({**measure(work), "bytes": os.path.getsize(task["out"])})


def ours(task: dict[str, Any]) -> None:
    import anyio

    from aiokili import AsyncKili

    async def export() -> None:
        async with AsyncKili(api_key=task["key"], api_endpoint=task["url"]) as kili:
            await kili.export_labels(task["project_id"], task["out"], task["fmt"],
                                     layout=task["layout"], with_assets=False)  # fmt: skip

    def work() -> int:
        anyio.run(export)
        return int(task["n"])

    emit({**measure(work), "bytes": os.path.getsize(task["out"])})


if __name__ == "__main__":
    job = json.loads(sys.argv[1])
    (official if job["side"] == "official" else ours)(job)
