"""The official SDK's ``upload_plugin``, timed, run with the python of its own virtualenv by
``bench_issue7.py``.

``<official python> _issue7_official.py JSON`` (``{"url", "schema_file", "path", "name"}``)
prints ``RESULT {"wall", "init", "message", "sleeps", "before_first_sleep"}``: ``wall`` is
``kili.upload_plugin(path, plugin_name=name, verbose=False)`` alone (the ``Kili()`` start-up,
checks on, is ``init``, before it).

The SDK is unmodified: its deploy wait sleeps 15 s before each status check, and that is
measured as it is. ``time.sleep`` is only observed (a pass-through that notes when it was
called and for how long), so ``before_first_sleep`` says how long the upload itself took
(zip, ``createPlugin``, the PUT, ``createPluginRunner``) before the wait began.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from _official import client
from _shared import emit


def main() -> None:
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        sys.exit(__doc__)
    task = json.loads(sys.argv[1])
    os.environ.pop("KILI_SDK_SKIP_CHECKS", None)
    started = time.perf_counter()
    kili = client(task)
    init = time.perf_counter() - started

    sleeps: list[tuple[float, float]] = []
    real_sleep = time.sleep

    def observed(seconds: Any) -> None:  # same behaviour: only notes the call
        sleeps.append((time.perf_counter(), float(seconds)))
        real_sleep(seconds)

    time.sleep = observed
    start = time.perf_counter()
    message: Any = kili.upload_plugin(task["path"], plugin_name=task["name"], verbose=False)
    wall = time.perf_counter() - start
    time.sleep = real_sleep
    emit({
        "wall": wall,
        "init": init,
        "message": message,
        "sleeps": [s for _, s in sleeps],
        "before_first_sleep": sleeps[0][0] - start if sleeps else None,
    })  # fmt: skip


if __name__ == "__main__":
    main()
