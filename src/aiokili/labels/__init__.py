"""Labels: listing (as models or parsed against the interface), counting, and the label
mutations (append, predictions, honeypots, updates, deletions)."""

from .methods import LabelFilters, LabelMethods, PredictionFilters
from .mutations import LabelMutationMethods

__all__ = ["LabelFilters", "LabelMethods", "LabelMutationMethods", "PredictionFilters"]
