"""Start-up cost in fresh interpreters: ``import aiokili``, ``from aiokili import AsyncKili``,
the first calls after it, and the CLI's ``--version`` / ``--help``; this tree against
``--before REF``.

Run: ``python benchmarks/bench_startup.py [--runs 15] [--before fbf68e7]
[--no-bytecode-cache] [--importtime 15]``

Every case runs ``--runs`` times per contender, contenders alternating, each run a new
``python`` process. Wall time is measured around the process (interpreter start-up
included, ``python -c pass`` is given for scale), CPU time is the child's user + system.
By default the bytecode is cached (as after ``pip install``): ``PYTHONPYCACHEPREFIX`` points
to a temporary folder, warmed by one untimed run; ``--no-bytecode-cache`` measures with
``PYTHONDONTWRITEBYTECODE=1``, aiokili's modules compiled on each start (the installed
packages keep the bytecode pip compiled). Both clients run from copies of their sources.

"first calls" imports the client, then against a ``LocalServer`` (in this process) runs
``count_projects()`` and lists ``projects()`` twice: the first time pays for what was left
lazy (models built on first use), the second does not; the time the garbage collector took
in each part is given too (a process's first full collection falls wherever allocations
cross its thresholds: in the import for one tree, in the first calls for another). ``--importtime N`` prints the N
costliest packages of ``from aiokili import AsyncKili`` (``python -X importtime``, self
times summed per package, minimum of 3 runs) for each contender.

Machines are noisy: compare figures within one run. Nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _helpers import ROOT, client_from, machine_note

from aiokili.server import LocalServer

FIRST_CALLS = """
import gc, json, sys, time
import anyio
in_gc = [0.0, 0.0]  # seconds spent in the garbage collector so far, start of the current pass

def timed(phase, info):
    if phase == "start":
        in_gc[1] = time.perf_counter()
    else:
        in_gc[0] += time.perf_counter() - in_gc[1]

gc.callbacks.append(timed)
t0, gc0 = time.perf_counter(), in_gc[0]
from aiokili import AsyncKili
t1, gc1 = time.perf_counter(), in_gc[0]

async def calls(kili):
    start, gc_start = time.perf_counter(), in_gc[0]
    await kili.count_projects()
    [p async for p in kili.projects()]
    return time.perf_counter() - start, in_gc[0] - gc_start

async def main():
    async with AsyncKili(api_key=sys.argv[2], api_endpoint=sys.argv[1]) as kili:
        first, first_gc = await calls(kili)
        second, second_gc = await calls(kili)
    print(json.dumps({"import": t1 - t0, "import_gc": gc1 - gc0, "first": first,
                      "first_gc": first_gc, "second": second, "second_gc": second_gc}))

anyio.run(main)
"""


def cases(url: str, key: str) -> dict[str, list[str]]:
    """Case name -> arguments of ``python``."""
    return {
        "python -c pass": ["-c", "pass"],
        "import aiokili": ["-c", "import aiokili"],
        "from aiokili import AsyncKili": ["-c", "from aiokili import AsyncKili"],
        "first calls": ["-c", FIRST_CALLS, url, key],
        "aiokili --version": ["-m", "aiokili", "--version"],
        "aiokili --help": ["-m", "aiokili", "--help"],
    }


def run_once(args: list[str], env: dict[str, str]) -> dict[str, float]:
    """One fresh interpreter: wall and CPU seconds, plus what it printed as JSON if any."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{args[:2]} failed:\n{done.stderr[-2000:]}")
    result = {
        "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
    }
    if done.stdout.startswith("{"):
        result.update(json.loads(done.stdout))
    return result


def importtime(env: dict[str, str], top: int) -> list[tuple[str, float]]:
    """The costliest packages of ``from aiokili import AsyncKili`` (self ms, min of 3)."""
    best: dict[str, float] = {}
    for _ in range(3):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "from aiokili import AsyncKili"],
            env=env, capture_output=True, text=True, check=True,
        ).stderr  # fmt: skip
        totals: collections.Counter[str] = collections.Counter()
        for line in err.splitlines():
            if match := re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line):
                parts = match.group(2).split(".")
                package = ".".join(parts[:2]) if parts[0] == "aiokili" else parts[0]
                totals[package] += int(match.group(1))
        for package, micros in totals.items():
            best[package] = min(best.get(package, float("inf")), micros / 1000)
    return sorted(best.items(), key=lambda item: -item[1])[:top]


def ms(values: list[float]) -> str:
    return f"{min(values) * 1000:.0f} / {statistics.median(values) * 1000:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before", help="a git ref whose client to compare (e.g. main)")
    parser.add_argument("--no-bytecode-cache", action="store_true")
    parser.add_argument("--importtime", type=int, default=0, metavar="N")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, LocalServer() as server:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "KILI_"))}
        if options.no_bytecode_cache:
            base["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            base["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        here = Path(tmp) / "this" / "src"  # a copy without __pycache__ folders
        shutil.copytree(ROOT / "src", here, ignore=shutil.ignore_patterns("__pycache__"))
        contenders = {"this tree": {**base, "PYTHONPATH": str(here)}}
        if options.before:
            src = client_from(options.before, Path(tmp) / "before")
            contenders[f"before ({options.before})"] = {**base, "PYTHONPATH": src}
        todo = cases(server.url, server.api_key)
        results: dict[tuple[str, str], list[dict[str, float]]] = collections.defaultdict(list)
        print(f"Machine: {machine_note()}; bytecode "
              f"{'compiled on each start' if options.no_bytecode_cache else 'cached'}")  # fmt: skip
        began = time.perf_counter()
        for env in contenders.values():  # untimed: writes the bytecode cache
            for args in todo.values():
                run_once(args, env)
        for _ in range(options.runs):
            for case, args in todo.items():
                for name, env in contenders.items():
                    results[case, name].append(run_once(args, env))

        print("\n| case | contender | wall ms min / median | CPU ms min / median |")
        print("|---|---|---:|---:|")
        for case in todo:
            for name in contenders:
                runs = results[case, name]
                walls, cpus = [r["wall"] for r in runs], [r["cpu"] for r in runs]
                print(f"| {case} | {name} | {ms(walls)} | {ms(cpus)} |")
        print("\nInside the first-calls process (ms, min / median; in brackets, the median time")
        print("spent in the garbage collector, which runs where allocations cross its thresholds:")
        print("a process's first full collection may fall in the import or in the first calls):\n")
        print("| contender | import the client | first calls | same calls again |")
        print("|---|---:|---:|---:|")
        for name in contenders:
            runs = results["first calls", name]
            split = []
            for key in ("import", "first", "second"):
                in_gc = statistics.median(r[f"{key}_gc"] for r in runs)
                split.append(f"{ms([r[key] for r in runs])} ({in_gc * 1000:.0f})")
            print(f"| {name} | {' | '.join(split)} |")
        if options.importtime:
            for name, env in contenders.items():
                print(f"\n`from aiokili import AsyncKili`, {name}: self ms per package")
                for package, cost in importtime(env, options.importtime):
                    print(f"    {cost:7.1f}  {package}")
        load = os.getloadavg()
        print(f"\nwhole run {time.perf_counter() - began:.0f} s; load average after: "
              f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
