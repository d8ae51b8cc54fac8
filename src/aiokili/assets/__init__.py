"""Assets: listing and counting, imports (URLs, raw text, local files), media downloads,
and the mutations that change assets or move them through the workflow."""

from .methods import AppendManyToDatasetResult, AssetFilters, AssetMethods
from .updates import AssetActionOutcome, AssetUpdateMethods, UpdatedAsset

__all__ = [
    "AppendManyToDatasetResult",
    "AssetActionOutcome",
    "AssetFilters",
    "AssetMethods",
    "AssetUpdateMethods",
    "UpdatedAsset",
]
