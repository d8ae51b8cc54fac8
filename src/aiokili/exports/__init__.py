"""Exports: a project's labels as an archive in the Kili, YOLO, COCO, Pascal VOC or GeoJSON
format (or an LLM conversation list), streamed page by page, and as a pandas DataFrame."""

from .formats import CocoAnnotationModifier, ExportFormat, ExportFormatError, Layout
from .methods import ExportMethods

__all__ = ["CocoAnnotationModifier", "ExportFormat", "ExportFormatError", "ExportMethods", "Layout"]
