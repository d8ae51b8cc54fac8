"""Mixins of generated models (``@mixin`` in queries/; copied into aiokili._generated)."""

from typing import Optional

from pydantic import computed_field


class PluginLogIds:
    """``asset_id`` and ``label_id`` of a plugin log entry at its top level, next to
    ``run_id`` (the API nests them in ``metadata``)."""

    @computed_field(alias="assetId")  # type: ignore[prop-decorator]
    @property
    def asset_id(self) -> Optional[str]:
        """The asset the run was about; None for build logs and runs about no asset."""
        metadata = getattr(self, "metadata", None)
        return None if metadata is None else metadata.asset_id

    @computed_field(alias="labelId")  # type: ignore[prop-decorator]
    @property
    def label_id(self) -> Optional[str]:
        """The label the run was about; None for build logs and runs about no label."""
        metadata = getattr(self, "metadata", None)
        return None if metadata is None else metadata.label_id
