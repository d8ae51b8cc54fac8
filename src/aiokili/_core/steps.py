"""Workflow step statuses, as the asset and label filters take them."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from .calls import user_stacklevel

DEPRECATED_STEP_STATUSES = {"DOING": "IN_PROGRESS", "REDO": "REWORK"}
"""Old step status names (still accepted, meaning their successor) → their successor."""


def warn_deprecated_step_statuses(arg: str, statuses: Iterable[object]) -> None:
    """A DeprecationWarning for each old status name among ``statuses`` (argument ``arg``),
    pointing at the user's line."""
    given = {str(getattr(status, "value", status)) for status in statuses}
    for old, new in DEPRECATED_STEP_STATUSES.items():
        if old in given:
            warnings.warn(
                f"{arg}: step status {old!r} is deprecated, use {new!r} instead.",
                DeprecationWarning,
                stacklevel=user_stacklevel(),
            )
