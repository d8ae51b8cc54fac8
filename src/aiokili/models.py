"""Public, stable names for the typed models (generated from schema.graphql + queries/).

Results of listings are instances of these classes (or of generated subclasses), so
``isinstance(label, aiokili.Label)`` holds and IDEs complete ``label.author.email``.
``json_response``, ``json_metadata`` and ``json_interface`` are decoded into Python
objects (``{}`` when empty).
"""

from ._generated.enums import (
    ComplianceTag,
    DemoProjectType,
    InputType,
    LabelType,
    ProjectRole,
    Status,
    StatusInStep,
    WorkflowVersion,
)
from ._generated.fragments import AssetFields as Asset
from ._generated.fragments import AssetFieldsCurrentStep as AssetCurrentStep
from ._generated.fragments import AssetFieldsResolution as Resolution
from ._generated.fragments import LabelFields as Label
from ._generated.fragments import LabelFieldsLabelOf as LabelAsset
from ._generated.fragments import ProjectFields as Project
from ._generated.fragments import ProjectFieldsRoles as ProjectMember
from ._generated.fragments import UserFields as User

__all__ = [
    "Asset",
    "AssetCurrentStep",
    "ComplianceTag",
    "DemoProjectType",
    "InputType",
    "Label",
    "LabelAsset",
    "LabelType",
    "Project",
    "ProjectMember",
    "ProjectRole",
    "Resolution",
    "Status",
    "StatusInStep",
    "User",
    "WorkflowVersion",
]
