"""The official SDK as a contender, run with the python of its own virtualenv.

``<official python> _official.py JSON`` prints ``RESULT {"n", "wall", "cpu", "max_rss_mib"}``
for the work only (the ``Kili()`` start-up, with its checks on, happens before). Tasks
(``kind``): ``list`` (``kili.labels(project_id, fields=..., as_generator=True)``) and
``import`` (``append_many_to_dataset`` of URLs, raw texts or local files), and issue 6's
``i6-import`` (URLs, external ids and metadata), ``i6-labels`` (``append_labels``) and
``i6-list`` (``assets(fields=...)``), see ``_issue6.py``.

Start-up fetches the schema by introspection unless the schema cache already holds it; the
local server's introspection is not readable by this SDK's graphql-core 3.2.6 (a known
server defect), so the cache is filled beforehand with the server's own schema file, under
the name the SDK looks for (``<host:port>_<server version>.graphql``). Queries are then
validated against it on every request, as for any user with the default settings.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from _shared import KEY, contents, emit, measure


def schema_cache(url: str, schema_file: str) -> str:
    folder = tempfile.mkdtemp(prefix="kili-schema-")
    with urllib.request.urlopen(url.replace("/graphql", "/version"), timeout=30) as response:
        version = json.loads(response.read())["version"]
    target = Path(folder) / f"{urlparse(url).netloc}_{version}.graphql"
    target.write_text(Path(schema_file).read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def client(task: dict[str, Any]) -> Any:
    from kili.client import Kili

    cache = schema_cache(task["url"], task["schema_file"])
    return Kili(
        api_key=KEY,
        api_endpoint=task["url"],
        disable_tqdm=True,
        graphql_client_params={"graphql_schema_cache_dir": cache},
    )


def main() -> None:
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        sys.exit(__doc__)
    task = json.loads(sys.argv[1])
    os.environ.pop("KILI_SDK_SKIP_CHECKS", None)
    kili = client(task)
    if task["kind"] == "list":

        def work() -> int:
            labels = kili.labels(task["project_id"], fields=task["fields"], as_generator=True)
            n = 0
            for _ in labels:
                n += 1
            return n

    elif task["kind"] == "i6-import":
        n, tag = task["n"], task["tag"]
        urls = [f"https://img.example/{tag}/{i}.jpg" for i in range(n)]
        external = [f"{tag}-{i}" for i in range(n)]
        meta = [{"index": i, "split": "val" if i % 5 == 0 else "train", "source": "bench"}
                for i in range(n)]  # fmt: skip

        def work() -> int:
            out = kili.append_many_to_dataset(
                task["project_id"], content_array=urls, external_id_array=external,
                json_metadata_array=meta,
            )  # fmt: skip
            return len(out["asset_ids"])

    elif task["kind"] == "i6-labels":
        ids = json.loads(Path(task["ids_file"]).read_text())[: task["n"]]
        answers = [{"JOB": {"categories": [{"name": "AB"[i % 2], "confidence": 100}]}}
                   for i in range(len(ids))]  # fmt: skip

        def work() -> int:
            return len(
                kili.append_labels(
                    asset_id_array=ids, json_response_array=answers, project_id=task["project_id"]
                )
            )

    elif task["kind"] == "i6-list":

        def work() -> int:
            assets = kili.assets(
                task["project_id"], fields=task["fields"], first=task.get("first"),
                as_generator=True,
            )  # fmt: skip
            n = 0
            for _ in assets:
                n += 1
            return n

    else:
        items = contents(task)
        external = [f"{task['tag']}-{i}" for i in range(len(items))]

        def work() -> int:
            out = kili.append_many_to_dataset(
                task["project_id"], content_array=items, external_id_array=external
            )
            return len(out["asset_ids"])

    result = measure(work)
    emit({**result, "name": task.get("name")})


if __name__ == "__main__":
    main()
