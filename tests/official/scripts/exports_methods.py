"""Official SDK: export_labels of a project the test made with aiokili (its id in
``../export-args.json``), in several formats, into the working directory."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

from _common import emit, kili

warnings.simplefilter("ignore", DeprecationWarning)
args = json.loads((Path.cwd().parent / "export-args.json").read_text())
if args.get("extra_path"):  # numpy and shapely (kili[coco]), which the official venv lacks
    sys.path.append(args["extra_path"])
client = kili()
out: dict[str, object] = {}
for name, fmt, layout, single_file in args["cases"]:
    target = Path.cwd() / f"{name}.zip"
    try:
        client.export_labels(
            args["project_id"],
            str(target),
            fmt,
            layout=layout,
            single_file=single_file,
            with_assets=args["with_assets"],
        )
        out[name] = str(target)
    except ImportError as exc:  # coco needs shapely, which the official venv does not have
        out[name] = f"ImportError: {exc}"
emit(out)
