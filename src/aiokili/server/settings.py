"""Paths and tunable limits of the local server."""

from __future__ import annotations

from dataclasses import dataclass, field

from .limits import QueryLimits

PREFIX = "/api/label/v2"
MiB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Knobs of :func:`~aiokili.server.create_app` (all have safe defaults).

    Args:
        latency_ms: delay every response by this many milliseconds.
        max_body_bytes: cap of a GraphQL request body, after gzip inflation.
        max_upload_bytes: cap of one file PUT to a signed URL.
        signed_url_ttl_s: lifetime of the signed URLs the server hands out.
        limits: depth / field / cost limits of GraphQL documents.
    """

    latency_ms: float = 0.0
    max_body_bytes: int = 64 * MiB
    max_upload_bytes: int = 512 * MiB
    signed_url_ttl_s: float = 3600.0
    limits: QueryLimits = field(default_factory=QueryLimits)
