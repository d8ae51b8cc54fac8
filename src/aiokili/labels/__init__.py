"""Labels: listing (as models or parsed against the interface), counting, and the label
mutations (append, predictions, honeypots, updates, deletions)."""

from .geo import GeoLabelMethods
from .methods import LabelFilters, LabelMethods, PredictionFilters
from .mutations import LabelMutationMethods

__all__ = [
    "GeoLabelMethods",
    "LabelFilters",
    "LabelMethods",
    "LabelMutationMethods",
    "PredictionFilters",
]
