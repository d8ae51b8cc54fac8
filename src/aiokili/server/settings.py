"""Paths and tunable limits of the local server."""

from __future__ import annotations

from dataclasses import dataclass, field

from .limits import QueryLimits

PREFIX = "/api/label/v2"
MiB = 1024 * 1024


@dataclass(frozen=True)
class PluginLimits:
    """Limits of plugin builds and runs (all configurable through :class:`Settings`).

    Args:
        memory_mb: memory cap of one run, in MiB: of all its processes together where
            cgroups allow, and of each process's address space (``RLIMIT_AS``).
        max_processes: processes and threads one run (or build) may have at once, where
            cgroups allow.
        max_file_mb: the largest file a run or build may write (``RLIMIT_FSIZE``), in MiB.
        timeout_s: wall-time cap of one run, in seconds; the process is killed after it.
        concurrency: plugin runs at most in flight at once.
        max_files / max_unpacked_bytes: caps of an uploaded archive's content.
        pip_timeout_s: cap of the ``requirements.txt`` install.
        webhook_timeout_s / webhook_retries: per attempt, and resends of a failed POST.
        poll_s: how often new labels and pending builds are looked for.
        requirements: packages every plugin's environment gets, installed once and shared
            (as the platform preinstalls ``kili``): e.g. ``("kili==26.2.4",)`` to run plugins
            written for the official SDK. Default none (aiokili is always there).
        max_log_bytes: cap of what one run may log; past it, one entry says so.
        warm_start: fork runs from a warm process that has imported aiokili (~10 ms to
            start instead of ~0.5 s), for plugins with no packages of their own.
        cpus: CPUs all plugin runs and builds may use together, where cgroups allow
            (default ``None``: half of the machine's, at least 0.5); they also yield to the
            server (a tenth of a server process's CPU weight, all together).
    """

    memory_mb: int = 512
    max_processes: int = 128
    max_file_mb: int = 512
    timeout_s: float = 60.0
    concurrency: int = 4
    max_files: int = 1000
    max_unpacked_bytes: int = 100 * MiB
    pip_timeout_s: float = 600.0
    webhook_timeout_s: float = 10.0
    webhook_retries: int = 3
    poll_s: float = 0.1
    requirements: tuple[str, ...] = ()
    max_log_bytes: int = 4 * MiB
    warm_start: bool = True
    cpus: float | None = None


@dataclass(frozen=True)
class Settings:
    """Knobs of :func:`~aiokili.server.create_app` (all have safe defaults).

    Args:
        latency_ms: delay every response by this many milliseconds.
        max_body_bytes: cap of a GraphQL request body, after gzip inflation.
        max_upload_bytes: cap of one file PUT to a signed URL.
        signed_url_ttl_s: lifetime of the signed URLs the server hands out.
        limits: depth / field / cost limits of GraphQL documents.
        plugins: memory / time / archive limits of plugin builds and runs.
        tile_threshold_bytes / tile_threshold_side: an image imported asynchronously
            (``TILED_IMAGE``) is tiled from this many bytes (30 MiB, the platform's
            threshold) or pixels on a side (10000); see ``server/tiling.py``.
        tile_size: the side of a tile, in pixels.
    """

    latency_ms: float = 0.0
    max_body_bytes: int = 64 * MiB
    max_upload_bytes: int = 512 * MiB
    signed_url_ttl_s: float = 3600.0
    limits: QueryLimits = field(default_factory=QueryLimits)
    plugins: PluginLimits = field(default_factory=PluginLimits)
    tile_threshold_bytes: int = 30 * MiB
    tile_threshold_side: int = 10_000
    tile_size: int = 256
