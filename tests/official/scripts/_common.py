"""Shared by the scripts in this directory, which run in the official SDK's own virtualenv.

Each script does what its test asks with the unmodified ``kili`` package (start-up checks on:
``KILI_SDK_SKIP_CHECKS`` is never set), then prints one line ``RESULT <json>`` that the pytest
side asserts on. Any exception is left to propagate: its traceback goes to stderr, which the
pytest side shows. The endpoint and key come from ``KILI_API_ENDPOINT`` / ``KILI_API_KEY``,
the schema cache directory from ``AIOKILI_SCHEMA_CACHE_DIR``.
"""

from __future__ import annotations

import json
import os
from typing import Any

INTERFACE = {
    "jobs": {
        "JOB": {
            "mlTask": "CLASSIFICATION",
            "content": {"input": "radio", "categories": {"A": {"name": "A"}, "B": {"name": "B"}}},
            "required": 1,
            "isChild": False,
        }
    }
}


def answer(name: str) -> dict[str, Any]:
    return {"JOB": {"categories": [{"name": name}]}}


def kili(**kwargs: Any) -> Any:
    from kili.client import Kili

    return Kili(
        disable_tqdm=True,
        graphql_client_params={"graphql_schema_cache_dir": os.environ["AIOKILI_SCHEMA_CACHE_DIR"]},
        **kwargs,
    )


def emit(result: Any) -> None:
    print("RESULT " + json.dumps(result), flush=True)
