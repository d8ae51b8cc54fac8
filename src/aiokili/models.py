"""Public, stable names for the typed models (generated from schema.graphql + queries/).

Results of listings are instances of these classes, so ``isinstance(label, aiokili.Label)``
holds and IDEs complete ``label.author.email``. ``json_response``, ``json_metadata`` and
``json_interface`` are decoded into Python objects (``{}`` when empty).
"""

from typing import Literal

from ._generated.enums import (
    ComplianceTag,
    DemoProjectType,
    InputType,
    IssueStatus,
    IssueType,
    LabelType,
    OrganizationRole,
    ProjectRole,
    Status,
    StatusInStep,
    WorkflowVersion,
)
from ._generated.fragments import (
    Asset,
    AssetActionOutcome,
    Issue,
    Label,
    Organization,
    Project,
    UpdatedAsset,
    User,
    UserProfile,
)
from ._generated.fragments import AssetCurrentStep as AssetCurrentStep
from ._generated.fragments import AssetResolution as Resolution
from ._generated.fragments import IssueComments as IssueComment
from ._generated.fragments import LabelLabelOf as LabelAsset
from ._generated.fragments import OrganizationLicense as License
from ._generated.fragments import ProjectRoles as ProjectMember

# The enums' values as literal types, for arguments that take either (``status_in=["LABELED"]``
# or ``[Status.LABELED]``); tests/test_architecture.py keeps each in step with its enum.
AssetStatusName = Literal["TODO", "ONGOING", "LABELED", "REVIEWED", "TO_REVIEW"]
"""Names of :class:`Status`."""
LabelTypeName = Literal["AUTOSAVE", "DEFAULT", "INFERENCE", "PREDICTION", "REVIEW"]
"""Names of :class:`LabelType`."""
StepStatusName = Literal[
    "TO_DO", "DOING", "IN_PROGRESS", "PARTIALLY_DONE", "REWORK", "REDO", "DONE", "SKIPPED"
]
"""Names of :class:`StatusInStep`."""
IssueTypeName = Literal["ISSUE", "QUESTION"]
"""Names of :class:`IssueType`."""
IssueStatusName = Literal["CANCELLED", "OPEN", "SOLVED"]
"""Names of :class:`IssueStatus`."""
InputTypeName = Literal[
    "IMAGE", "GEOSPATIAL", "PDF", "TEXT", "VIDEO", "LLM_RLHF", "LLM_INSTR_FOLLOWING",
    "LLM_STATIC", "AUDIO",
]  # fmt: skip
"""Names of :class:`InputType`."""
ComplianceTagName = Literal["PHI", "PII"]
"""Names of :class:`ComplianceTag`."""

__all__ = [
    "Asset",
    "AssetActionOutcome",
    "AssetCurrentStep",
    "AssetStatusName",
    "ComplianceTag",
    "ComplianceTagName",
    "DemoProjectType",
    "InputType",
    "InputTypeName",
    "Issue",
    "IssueComment",
    "IssueStatus",
    "IssueStatusName",
    "IssueType",
    "IssueTypeName",
    "Label",
    "LabelAsset",
    "LabelType",
    "LabelTypeName",
    "License",
    "Organization",
    "OrganizationRole",
    "Project",
    "ProjectMember",
    "ProjectRole",
    "Resolution",
    "Status",
    "StatusInStep",
    "StepStatusName",
    "UpdatedAsset",
    "User",
    "UserProfile",
    "WorkflowVersion",
]
