"""Issue 7's plugin latencies against an in-process ``LocalServer``: from ``upload_plugin`` to
an active plugin, and from a label's submission to its plugin run's log entries.

Run: ``python benchmarks/bench_issue7.py [--quick] [--reps 5] [--official-reps 2]
[--sequential 30] [--quiet 10] [--burst 100] [--no-official] [--markdown FILE]``

1. **upload -> active.** ``await kili.upload_plugin(path)`` (aiokili; it returns once the
   plugin is ACTIVE), ``--reps`` times each for (a) a single-file plugin and (b) a folder
   plugin (``main.py``, a helper module, ``requirements.txt`` with ``six``), each under a
   new name. Then the same with a watcher polling ``get_plugin_status`` every 10 ms from
   another task, which tells when the server said DEPLOYING (upload done: ``createPlugin``,
   the PUT, ``createPluginRunner``) and ACTIVE (build done); what remains is the client's
   status polling (0.1 s, then doubling). Side by side, the unmodified official SDK
   (kili 26.2.4, its own virtualenv, a subprocess) on the same server: its deploy wait
   sleeps 15 s before every status check, and is measured as it is.
2. **submit -> log entry.** A single-file plugin active on a project; ``--sequential``
   labels appended one at a time with ``append_labels`` (each once the previous run is
   logged): from the call's return to the first ``get_plugin_logs`` answer (polled every
   10 ms) holding the run's ``Run on_submit finished ...`` entry, and holding the line the
   handler printed. Since that polling loads the machine (the server shares this process),
   ``--quiet`` more labels are polled every 0.25 s only and timed by the server's own
   timestamps (the label's ``createdAt`` to the finish entry's, ms). Then ``--burst`` labels in one ``append_labels`` call: time until all
   their runs are logged (``PluginLimits.concurrency`` run at once).
3. **Where the time goes.** Bare ``python -c pass`` and ``python -c "import aiokili"``;
   one run's process spawned the way the server spawns it (outside the server, nothing
   else running); ``pip install --target`` of ``six``; the runner's poll interval.

Machine load (``os.getloadavg``) is printed before and after. Nothing asserts on timings.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from _helpers import ROOT, official_env, official_python
from _shared import KEY

from aiokili import AsyncKili
from aiokili.errors import KiliError
from aiokili.server import LocalServer
from aiokili.server.settings import PluginLimits

HERE = Path(__file__).resolve().parent
SCHEMA = str(ROOT / "schema.graphql")
INTERFACE = {"jobs": {"JOB": {"mlTask": "CLASSIFICATION", "content": {"input": "radio",
             "categories": {"A": {"name": "A"}, "B": {"name": "B"}}}, "required": 1}}}  # fmt: skip
ANSWER = {"JOB": {"categories": [{"name": "A"}]}}
POLL_S = 0.01
"""How often the benchmark polls statuses and logs."""

SINGLE = """\
from aiokili.plugins import PluginCore


class PluginHandler(PluginCore):
    def on_submit(self, label, asset_id):
        print(f"handled {label['id']}")
"""
FOLDER_MAIN = """\
import six

from aiokili.plugins import PluginCore
from helpers import describe


class PluginHandler(PluginCore):
    def on_submit(self, label, asset_id):
        print(describe(label) + six.text_type(asset_id))
"""
FOLDER_HELPERS = """\
def describe(label):
    return f"handled {label['id']} on "
"""
FINISHED = re.compile(r"^Run on_submit finished in ([0-9.]+) s\.$")


# ------------------------------------------------------------------ statistics and tables
def pct(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class Series:
    """Timings of one measured thing, in seconds."""

    name: str
    values: list[float] = field(default_factory=list)
    note: str = ""

    def row(self, p95: bool = False) -> str:
        v = self.values
        if not v:
            return f"| {self.name} | 0 | | | |{' |' if p95 else ''} {self.note} |"
        cells = [statistics.median(v), min(v), max(v)] + ([pct(v, 95)] if p95 else [])
        shown = " | ".join(f"{x:.3f}" for x in cells)
        return f"| {self.name} | {len(v)} | {shown} | {self.note} |"


def table(series: Sequence[Series], p95: bool = False) -> str:
    head = "| what | n | median s | min s | max s |" + (" p95 s |" if p95 else "") + " note |"
    sep = "|---|---:|---:|---:|---:|" + ("---:|" if p95 else "") + "---|"
    return "\n".join([head, sep, *(s.row(p95) for s in series)])


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def say(text: str) -> None:
    print(text, flush=True)


# ------------------------------------------------------------------ plugins on disk
def write_single(folder: Path, name: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(SINGLE)
    return path


def write_folder(folder: Path, name: str) -> Path:
    path = folder / name
    path.mkdir()
    (path / "main.py").write_text(FOLDER_MAIN)
    (path / "helpers.py").write_text(FOLDER_HELPERS)
    (path / "requirements.txt").write_text("six\n")
    return path


WRITERS = {"single-file": write_single, "folder + requirements.txt (six)": write_folder}


# ------------------------------------------------------------------ 1. upload -> active
@dataclass
class Watch:
    """When the watcher first saw each status, in seconds from the upload's start."""

    seen: dict[str, float] = field(default_factory=dict)


async def watch_status(kili: AsyncKili, name: str, start: float, out: Watch) -> None:
    while "ACTIVE" not in out.seen and "FAILED" not in out.seen:
        try:
            status = await kili.get_plugin_status(name)
        except KiliError:  # not created yet
            status = None
        if status and status not in out.seen:
            out.seen[status] = time.perf_counter() - start
        await anyio.sleep(POLL_S)


async def upload_once(kili: AsyncKili, path: Path, name: str, watched: bool) -> tuple[float, Watch]:
    watch = Watch()
    async with anyio.create_task_group() as tg:
        start = time.perf_counter()
        if watched:
            tg.start_soon(watch_status, kili, name, start, watch)
        await kili.upload_plugin(path, plugin_name=name, verbose=False)
        wall = time.perf_counter() - start
    return wall, watch


async def uploads(
    kili: AsyncKili, folder: Path, reps: int, watched_reps: int
) -> tuple[list[Series], list[Series]]:
    """The aiokili upload timings, and the watched runs' breakdown."""
    plain: list[Series] = []
    parts: list[Series] = []
    for k, (kind, write) in enumerate(WRITERS.items()):
        series = Series(f"aiokili upload_plugin, {kind}")
        for i in range(reps):
            name = f"up{k}_{i}"
            wall, _ = await upload_once(kili, write(folder, name), name, watched=False)
            series.values.append(wall)
            say(f"  {series.name} #{i + 1}: {wall:.3f} s")
        plain.append(series)
        uploaded = Series(f"{kind}: upload done (server says DEPLOYING)")
        built = Series(f"{kind}: build done (server says ACTIVE)")
        waited = Series(f"{kind}: upload_plugin returns")
        for i in range(watched_reps):
            name = f"watched{k}_{i}"
            wall, watch = await upload_once(kili, write(folder, name), name, watched=True)
            uploaded.values.append(watch.seen.get("DEPLOYING", math.nan))
            built.values.append(watch.seen.get("ACTIVE", math.nan))
            waited.values.append(wall)
            say(f"  watched {kind} #{i + 1}: DEPLOYING at {uploaded.values[-1]:.3f} s, "
                f"ACTIVE at {built.values[-1]:.3f} s, returned at {wall:.3f} s")  # fmt: skip
        parts += [uploaded, built, waited]
    return plain, parts


def official_uploads(url: str, folder: Path, reps: int) -> tuple[list[Series], list[Series]]:
    """The official SDK's ``upload_plugin`` (a subprocess per run), same plugins."""
    python = official_python()
    walls: list[Series] = []
    extra: list[Series] = []
    for k, (kind, write) in enumerate(WRITERS.items()):
        series = Series(f"official kili 26.2.4 upload_plugin, {kind}",
                        note="unmodified: sleeps 15 s before each status check")  # fmt: skip
        before = Series(f"official, {kind}: before its first sleep (zip + upload + runner)")
        init = Series(f"official, {kind}: Kili() start-up (not in the upload time)")
        for i in range(reps):
            name = f"official{k}_{i}"
            task = {"url": url, "schema_file": SCHEMA, "path": str(write(folder, name)),
                    "name": name}  # fmt: skip
            proc = subprocess.run(
                [python, str(HERE / "_issue7_official.py"), json.dumps(task)],
                capture_output=True, text=True, env=official_env(), timeout=900,
                stdin=subprocess.DEVNULL, cwd=HERE,
            )  # fmt: skip
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode != 0 or not lines:
                raise RuntimeError(f"official upload_plugin failed ({proc.returncode}):\n"
                                   f"{proc.stderr[-4000:]}\n{proc.stdout[-2000:]}")  # fmt: skip
            result = json.loads(lines[-1].removeprefix("RESULT "))
            series.values.append(result["wall"])
            before.values.append(result["before_first_sleep"] or math.nan)
            init.values.append(result["init"])
            say(f"  {series.name} #{i + 1}: {result['wall']:.3f} s ({result['message']!r}; "
                f"sleeps {result['sleeps']})")  # fmt: skip
        walls.append(series)
        extra += [before, init]
    return walls, extra


# ------------------------------------------------------------------ 2. submit -> log entry
@dataclass
class Logs:
    """The plugin's run entries on a project, read incrementally (``skip`` = seen so far)."""

    kili: AsyncKili
    project_id: str
    plugin: str
    entries: list[Any] = field(default_factory=list)

    async def poll(self) -> list[Any]:
        """Read the entries written since the last call; return them."""
        new: list[Any] = []
        while True:
            page = await self.kili.get_plugin_logs(
                self.project_id, self.plugin, limit=100, skip=len(self.entries)
            )
            self.entries += page
            new += page
            if len(page) < 100:
                return new


def label_of(entry: Any) -> str | None:
    return entry.metadata.label_id if entry.metadata else None


async def wait_run(
    logs: Logs, label_id: str, start: float, limit_s: float, every: float = POLL_S
) -> dict[str, float]:
    """Poll until the run of ``label_id`` has its finish entry; when each part was seen."""
    seen: dict[str, float] = {}
    while "finished" not in seen:
        if time.perf_counter() - start > limit_s:
            raise RuntimeError(f"no log entry for label {label_id} after {limit_s:g} s")
        for entry in await logs.poll():
            if label_of(entry) != label_id:
                continue
            at = time.perf_counter() - start
            content = entry.content or ""
            if content.startswith("handled "):
                seen.setdefault("printed", at)
            if match := FINISHED.match(content):
                seen["finished"] = at
                seen["child"] = float(match.group(1))
            elif content.startswith("Run "):
                raise RuntimeError(f"the run of {label_id} failed: {content}")
        if "finished" not in seen:
            await anyio.sleep(every)
    return seen


async def submissions(
    kili: AsyncKili,
    server: LocalServer,
    folder: Path,
    sizes: tuple[int, int, int],
    limits: PluginLimits,
) -> tuple[list[Series], str]:
    n, quiet, burst = sizes
    project = await kili.create_project(title="runs", input_type="IMAGE", json_interface=INTERFACE)
    total = n + quiet + burst + 1
    assets = (await kili.append_many_to_dataset(
        project.id, content_array=[f"https://img.example/{i}.jpg" for i in range(total)],
        external_id_array=[f"a{i}" for i in range(total)],
    ))["asset_ids"]  # fmt: skip
    name = "runs"
    await kili.upload_plugin(write_single(folder, name), plugin_name=name, verbose=False)
    await kili.activate_plugin_on_project(name, project.id)
    logs = Logs(kili, project.id, name)
    timeout = limits.timeout_s + 60

    # warm-up: the first run pays for cold caches
    (warm,) = await kili.append_labels(asset_id_array=assets[:1], json_response_array=[ANSWER])
    await wait_run(logs, warm, time.perf_counter(), timeout)

    finished = Series("append_labels return -> run's finish entry visible")
    printed = Series("append_labels return -> handler's printed line visible")
    child = Series("the run's process, spawn to exit (its `finished in X s`)")
    outside = Series("outside the run's process (finish entry - run time)",
                     note="runner poll + log write + this 10 ms poll")  # fmt: skip
    cpu = wall = 0.0
    for i in range(n):
        (label,) = await kili.append_labels(
            asset_id_array=[assets[1 + i]], json_response_array=[ANSWER]
        )
        start, cpu_start = time.perf_counter(), time.process_time()
        seen = await wait_run(logs, label, start, timeout)
        cpu += time.process_time() - cpu_start
        wall += time.perf_counter() - start
        finished.values.append(seen["finished"])
        printed.values.append(seen.get("printed", math.nan))
        child.values.append(seen["child"])
        outside.values.append(seen["finished"] - seen["child"])
        say(f"  label {i + 1}/{n}: finish entry at {seen['finished']:.3f} s, printed line at "
            f"{seen.get('printed', math.nan):.3f} s, run {seen['child']:.2f} s")  # fmt: skip

    share = f"{cpu / wall:.0%}" if wall else "?"
    finished.note = (f"this process (client + in-process server) used {share} of a core "
                     "while polling")  # fmt: skip

    # quiet: the same, timed by the server's own timestamps, polling only every 0.25 s
    # (each after one run's process started alone, as the baseline does: same moment's load)
    quiet_ids, quiet_child = [], Series("the run's process (quiet runs)")
    alone = Series("one run's process alone, just before each quiet run",
                   note="same command outside the server")  # fmt: skip
    for i in range(quiet):
        alone.values += await anyio.to_thread.run_sync(child_alone, server, folder, 1)
        (label,) = await kili.append_labels(
            asset_id_array=[assets[1 + n + i]], json_response_array=[ANSWER]
        )
        seen = await wait_run(logs, label, time.perf_counter(), timeout, every=0.25)
        quiet_ids.append(label)
        quiet_child.values.append(seen["child"])
    created = {
        lb.id: lb.created_at async for lb in kili.labels(project.id, fields=["id", "createdAt"])
    }
    logged = {label_of(e): e.created_at for e in logs.entries if FINISHED.match(e.content or "")}
    unpolled = Series("label createdAt -> finish entry createdAt, polled every 0.25 s",
                      [(logged[i] - created[i]).total_seconds() for i in quiet_ids
                       if logged.get(i) and created.get(i)],
                      note="server timestamps (ms): no 10 ms polling load")  # fmt: skip

    # burst: all at once
    ids = assets[1 + n + quiet :]
    labels = await kili.append_labels(asset_id_array=ids, json_response_array=[ANSWER] * len(ids))
    start = time.perf_counter()
    wanted, done, first = set(labels), 0, math.nan
    runs: list[float] = []
    while done < len(wanted):
        if time.perf_counter() - start > timeout + len(wanted) * limits.timeout_s / 4:
            raise RuntimeError(f"only {done} of {len(wanted)} burst runs logged")
        for entry in await logs.poll():
            content = entry.content or ""
            if label_of(entry) in wanted and content.startswith("Run "):
                if not (match := FINISHED.match(content)):
                    raise RuntimeError(f"a burst run failed: {content}")
                done += 1
                runs.append(float(match.group(1)))
                if done == 1:
                    first = time.perf_counter() - start
        await anyio.sleep(POLL_S)
    last = time.perf_counter() - start
    ideal = len(wanted) / limits.concurrency * statistics.median(runs)
    say(f"  burst of {len(wanted)}: first run logged at {first:.2f} s, all at {last:.2f} s")
    text = (
        f"Burst: {len(wanted)} labels in one `append_labels` call; first run logged "
        f"{first:.2f} s after it returned, all {len(wanted)} at **{last:.2f} s** "
        f"(**{len(wanted) / last:.1f} runs/s**), with `PluginLimits.concurrency` = "
        f"{limits.concurrency} runs at once. Each run's process took {statistics.median(runs):.2f}"
        f" s median ({min(runs):.2f}-{max(runs):.2f}) under that load: "
        f"{len(wanted)} / {limits.concurrency} x median = {ideal:.2f} s if the runner were "
        "always full."
    )
    return [finished, printed, child, outside, unpolled, quiet_child, alone], text


# ------------------------------------------------------------------ 3. where the time goes
def timed(command: Sequence[str], reps: int, **kwargs: Any) -> list[float]:
    out = []
    for _ in range(reps):
        start = time.perf_counter()
        subprocess.run(list(command), check=True, capture_output=True, **kwargs)
        out.append(time.perf_counter() - start)
    return out


def child_alone(server: LocalServer, folder: Path, reps: int) -> list[float]:
    """One run's process started as the server starts it, with no server work around it."""
    try:
        from aiokili.server.plugin_runtime.process import _CHILD, _CHILD_BOOT
    except ImportError:  # the runner changed: no such row
        return []
    src = folder / "child_src"
    src.mkdir(exist_ok=True)
    (src / "main.py").write_text(SINGLE)
    job = {"method": "on_submit", "label": {"id": "l1"}, "assetId": "a1", "projectId": "p1",
           "memoryMb": 512, "pluginName": "alone"}  # fmt: skip
    env = {**os.environ, "KILI_API_ENDPOINT": server.url, "KILI_API_KEY": server.api_key,
           "PYTHONUNBUFFERED": "1", "MALLOC_ARENA_MAX": "2"}  # fmt: skip
    command = [sys.executable, "-c", _CHILD_BOOT, str(_CHILD), str(src)]
    return timed(command, reps, input=json.dumps(job).encode(), env=env, cwd=src)


def pip_alone(folder: Path, reps: int) -> list[float]:
    out = []
    for i in range(reps):
        target = folder / f"pip{i}"
        out += timed([sys.executable, "-m", "pip", "install", "--disable-pip-version-check",
                      "--no-input", "--quiet", "--target", str(target), "six"], 1)  # fmt: skip
    return out


def pip_source() -> str:
    """Where pip finds ``six`` on this machine (its index settings)."""
    config = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                            capture_output=True, text=True).stdout  # fmt: skip
    wanted = ("index-url", "extra-index-url", "find-links")
    lines = sorted({ln.split(".", 1)[-1] for ln in config.splitlines()
                    if any(w in ln for w in wanted)})  # fmt: skip
    return "; ".join(lines) or "pip defaults (PyPI)"


CLIENT_ONLY = (
    "import asyncio, aiokili.plugins\n"
    "async def main():\n"
    "    async with aiokili.AsyncKili(api_key='k', api_endpoint='{url}'):\n"
    "        pass\n"
    "asyncio.run(main())"
)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def baselines(server: LocalServer, folder: Path, reps: int) -> list[Series]:
    py = sys.executable
    cpu = children_cpu()
    alone = child_alone(server, folder, reps)
    cpu = (children_cpu() - cpu) / max(1, len(alone))
    return [
        Series("`python -c pass`", timed([py, "-c", "pass"], reps)),
        Series('`python -c "import aiokili"`', timed([py, "-c", "import aiokili"], reps)),
        Series(
            '`python -c "import aiokili.plugins"`',
            timed([py, "-c", "import aiokili.plugins"], reps),
            note="what a plugin's main.py imports",
        ),
        Series(
            '`python -c "import aiokili.plugins"` + `async with AsyncKili(...)`',
            timed([py, "-c", CLIENT_ONLY.format(url=server.url)], reps),
            note="what the run's process does before the handler",
        ),
        Series(
            "one run's process alone (spawn, import, handler, exit)",
            alone,
            note=f"plugin_child.py as the runner starts it, no run in parallel; CPU {cpu:.2f} s",
        ),
        Series(
            "`pip install --target DIR six`",
            pip_alone(folder, max(1, reps // 2)),
            note="the folder plugin's build step",
        ),
    ]


def import_profile(top: int = 8) -> str:
    """The slowest modules under ``import aiokili`` (``-X importtime``, cumulative)."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import aiokili"],
                         capture_output=True, text=True).stderr  # fmt: skip
    rows = []
    for line in err.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    rows.sort(reverse=True)
    return "\n".join(f"    {us / 1000:7.1f} ms  {name}" for us, name in rows[:top])


# ------------------------------------------------------------------ main
async def measure(args: argparse.Namespace, server: LocalServer, folder: Path) -> list[str]:
    limits: PluginLimits = args.limits
    out: list[str] = []
    async with AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
        await kili.list_plugins()  # warm: imports, connection
        say("\n1. upload -> active (aiokili)")
        plain, parts = await uploads(kili, folder, args.reps, args.watched_reps)
        official: list[Series] = []
        official_parts: list[Series] = []
        if args.official_reps:
            say("\n1b. upload -> active (official SDK, subprocess)")
            official, official_parts = await anyio.to_thread.run_sync(
                official_uploads, server.url, folder, args.official_reps
            )
        out.append("### upload_plugin -> active plugin\n\n" + table(plain + official))
        out.append(
            "Where the aiokili upload's time goes (watched runs: a second task polls "
            f"`get_plugin_status` every {POLL_S * 1000:g} ms; seconds from the call):\n\n"
            + table(parts + official_parts)
        )
        say(f"\n2. submit -> log entry ({args.sequential} one at a time, burst {args.burst})")
        latency, burst = await submissions(
            kili, server, folder, (args.sequential, args.quiet, args.burst), limits
        )
        out.append(
            f"### append_labels -> the run's log entries (polled every {POLL_S * 1000:g} ms)\n\n"
            + table(latency, p95=True)
        )
        out.append(burst)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small N: under 2 minutes")
    parser.add_argument("--reps", type=int, help="aiokili uploads per kind (default 5)")
    parser.add_argument("--official-reps", type=int, help="official uploads per kind (2)")
    parser.add_argument("--sequential", type=int, help="labels one at a time (default 30)")
    parser.add_argument("--quiet", type=int, help="labels one at a time, polled every 0.25 s "
                        "and timed by the server's timestamps (default 10)")  # fmt: skip
    parser.add_argument("--burst", type=int, help="labels at once (default 100)")
    parser.add_argument("--no-official", action="store_true")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    defaults = ({"reps": 2, "official_reps": 1, "sequential": 5, "quiet": 3, "burst": 12,
                 "watched_reps": 1}
                if args.quick else
                {"reps": 5, "official_reps": 2, "sequential": 30, "quiet": 10, "burst": 100,
                 "watched_reps": 3})  # fmt: skip
    for key, value in defaults.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    if args.no_official:
        args.official_reps = 0
    args.limits = PluginLimits()
    limits = args.limits

    started, load_before = time.perf_counter(), load()
    head = (f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}; {time.strftime('%Y-%m-%d %H:%M')}; load average "
            f"(1, 5, 15 min) before: {load_before}")  # fmt: skip
    say(head)
    say(f"PluginLimits: concurrency={limits.concurrency}, poll_s={limits.poll_s}, "
        f"timeout_s={limits.timeout_s}, memory_mb={limits.memory_mb}")  # fmt: skip
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalServer(api_key=KEY, plugin_limits=limits) as server,
    ):
        folder = Path(tmp)
        say("\n0. baselines")
        base = baselines(server, folder, 3 if args.quick else 5)
        for s in base:
            say(f"  {s.name}: median {statistics.median(s.values):.3f} s" if s.values
                else f"  {s.name}: not measured")  # fmt: skip
        tables = anyio.run(measure, args, server, folder)
    load_after = load()
    took = time.perf_counter() - started
    out = [
        head + f", after: {load_after}; whole run {took:.0f} s",
        f"`PluginLimits()`: concurrency={limits.concurrency}, poll_s={limits.poll_s} s, "
        f"timeout_s={limits.timeout_s:g}, memory_mb={limits.memory_mb}. Where pip finds `six`: "
        f"{pip_source()}.",
        *tables,
        "### Where the time goes: baselines (outside the server unless said)\n\n" + table(base),
        "Slowest imports under `import aiokili` (`-X importtime`, cumulative):\n\n"
        + import_profile(),
    ]
    text = "\n\n".join(out)
    say("\n" + text)
    if args.markdown:
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
