"""Assets: listing and counting, imports (URLs, raw text, local files), media downloads,
and the mutations that change assets or move them through the workflow."""

from .admin import KEPT_METADATA_KEYS, AssetAdminMethods
from .methods import AppendManyToDatasetResult, AssetFilters, AssetMethods
from .updates import AssetActionOutcome, AssetUpdateMethods, UpdatedAsset

__all__ = [
    "KEPT_METADATA_KEYS",
    "AppendManyToDatasetResult",
    "AssetActionOutcome",
    "AssetAdminMethods",
    "AssetFilters",
    "AssetMethods",
    "AssetUpdateMethods",
    "UpdatedAsset",
]
