"""Public, stable names for the typed models (generated from schema.graphql + queries/).

Results of listings are instances of these classes, so ``isinstance(label, aiokili.Label)``
holds and IDEs complete ``label.author.email``. ``json_response``, ``json_metadata`` and
``json_interface`` are decoded into Python objects (``{}`` when empty).
"""

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

__all__ = [
    "Asset",
    "AssetActionOutcome",
    "AssetCurrentStep",
    "ComplianceTag",
    "DemoProjectType",
    "InputType",
    "Issue",
    "IssueComment",
    "IssueStatus",
    "IssueType",
    "Label",
    "LabelAsset",
    "LabelType",
    "License",
    "Organization",
    "OrganizationRole",
    "Project",
    "ProjectMember",
    "ProjectRole",
    "Resolution",
    "Status",
    "StatusInStep",
    "UpdatedAsset",
    "User",
    "UserProfile",
    "WorkflowVersion",
]
