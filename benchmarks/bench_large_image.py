"""Memory and time of tiling a large image, at the platform's real threshold (30 MiB).

Run: ``python benchmarks/bench_large_image.py [noise] [smooth]``

Two PNGs above the 30 MiB threshold: ``noise`` (3600 x 3250, poorly compressible: ~35 MB,
about its decoded size) and ``smooth`` (10000 x 10000, a gradient with faint noise: ~37 MB
for 286 MiB of pixels, as a large photograph or map). Each is imported with ``append_many_to_dataset`` into ``aiokili server`` running in
its own process; the call returns once the server has tiled it (asynchronous import,
notification SUCCESS). Reported:

* the server process's resident memory before the import (``VmRSS``) and its peak
  (``VmHWM``) before and after it, from ``/proc/<pid>/status``;
* the same tiling alone (``aiokili.server.tiling.make_pyramid``) in a fresh process: its
  peak RSS (``VmHWM``) next to that of the same process having only imported pyvips;
* for scale, the image decoded whole (width x height x 3 bytes), what a decoder that reads
  the whole image (Pillow's ``Image.open().load()``) holds at least.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import pyvips
from _helpers import KEY, machine_note, real_server

from aiokili import AsyncKili

MiB = 1024 * 1024
# VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the parent's peak across fork + exec
_ALONE = """
import json, sys, pathlib, tempfile
from aiokili.server import tiling
import pyvips
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
base = hwm()
with tempfile.TemporaryDirectory() as folder:
    pyramid = tiling.make_pyramid(pathlib.Path(sys.argv[1]), pathlib.Path(folder), 256)
    tiles = len(pyramid.tiles)
print(json.dumps({"base_kib": base, "peak_kib": hwm(), "tiles": tiles}))
"""


KINDS = {"noise": (3600, 3250), "smooth": (10_000, 10_000)}


def make_png(path: Path, kind: str) -> tuple[int, int]:
    """The image ``kind`` (see the module's docstring); its width and height."""
    width, height = KINDS[kind]
    xyz = pyvips.Image.xyz(width, height)
    if kind == "noise":  # noise in two bands and a gradient: PNG compresses it little
        red = pyvips.Image.gaussnoise(width, height, mean=128, sigma=60).cast("uchar")
        green = pyvips.Image.gaussnoise(width, height, mean=100, sigma=50).cast("uchar")
        image = red.bandjoin([green, xyz[0].cast("uchar")])
        image.pngsave(str(path), compression=1)
    else:  # gradients, one with faint noise
        base = ((xyz[0] + xyz[1]) / 80).cast("uchar")
        grain = (base + pyvips.Image.gaussnoise(width, height, mean=0, sigma=0.33)).cast("uchar")
        grain.bandjoin([base, (xyz[0] / 40).cast("uchar")]).pngsave(str(path), compression=6)
    return width, height


def status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


async def import_one(url: str, image: Path) -> float:
    async with AsyncKili(api_key=KEY, api_endpoint=url) as kili:
        project = await kili.create_project(title="large", input_type="IMAGE", json_interface={})
        started = time.perf_counter()
        await kili.append_many_to_dataset(project.id, content_array=[image])
        elapsed = time.perf_counter() - started
        (asset,) = await kili.assets(project.id)
        assert asset.json_content.startswith("http"), "the image was not tiled"
        return elapsed


def run(kind: str, folder: Path) -> None:
    image = folder / f"{kind}.png"
    width, height = make_png(image, kind)
    size = image.stat().st_size
    decoded = width * height * 3
    print(f"{kind}: PNG {width} x {height}, {size / 1e6:.1f} MB ({size / MiB:.1f} MiB), "
          f"{decoded / MiB:.0f} MiB decoded whole", flush=True)  # fmt: skip
    assert size >= 30 * MiB, "below the real threshold: make the image larger"

    done = subprocess.run(
        [sys.executable, "-c", _ALONE, str(image)], capture_output=True, text=True, check=True
    )
    alone = json.loads(done.stdout.splitlines()[-1])
    print(f"  tiling alone: {alone['tiles']} tiles, peak RSS {alone['peak_kib'] / 1024:.0f} "
          f"MiB (the process with pyvips imported: {alone['base_kib'] / 1024:.0f} MiB)",
          flush=True)  # fmt: skip

    with real_server(folder / f"{kind}.sqlite3") as server:
        before = status(server.pid)
        elapsed = anyio.run(import_one, server.url, image)
        after = status(server.pid)
    print(f"  server: RSS {before['VmRSS'] / 1024:.0f} MiB before the import, peak "
          f"{before['VmHWM'] / 1024:.0f} MiB before it and {after['VmHWM'] / 1024:.0f} MiB "
          f"after it; import (upload + tiling) {elapsed:.1f} s", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kinds", nargs="*", help=f"among {', '.join(KINDS)} (default: all)")
    args = parser.parse_args()
    if unknown := set(args.kinds) - set(KINDS):
        parser.error(f"unknown kind(s) {', '.join(sorted(unknown))}: choose among {list(KINDS)}")
    print(machine_note(), flush=True)
    for kind in args.kinds or KINDS:
        with tempfile.TemporaryDirectory() as folder:
            run(kind, Path(folder))


if __name__ == "__main__":
    main()
