"""aiokili: async, fully typed Python SDK for the Kili GraphQL API.

```python
from aiokili import AsyncKili

async with AsyncKili() as kili:
    async for label in kili.labels(project_id):
        ...
```
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from ._core.constants import VERSION as __version__

if TYPE_CHECKING:
    from ._core.interface import Interface, Job, JobCategory, JobContent, JobInput, MLTask, Tool
    from ._core.listing import Listing
    from ._core.parsed_label import Annotation as ParsedAnnotation
    from ._core.parsed_label import (
        BoundingPoly,
        LabelParsingError,
        ParsedJob,
        ParsedLabel,
        ParsedLabelListing,
        Point,
        SkippedLabel,
    )
    from ._core.parsed_label import Category as ParsedCategory
    from .assets.methods import AppendManyToDatasetResult, AssetFilters
    from .client import AsyncKili
    from .errors import (
        APIConnectionError,
        APIError,
        APITimeoutError,
        AuthenticationError,
        BulkOperationError,
        ConfigurationError,
        DeadlineExceededError,
        GraphQLError,
        GraphQLErrorDetail,
        HTTPStatusError,
        InvalidInterfaceError,
        InvalidRequestError,
        InvalidResponseError,
        ItemFailure,
        KiliError,
        KiliInputError,
        MalformedLabelError,
        MutationOutcomeUnknownError,
        NotFoundError,
        PermissionDeniedError,
        PluginArgumentError,
        PluginBuildError,
        PluginDeployTimeout,
        PluginNameTaken,
        RateLimitError,
    )
    from .exports.formats import ExportFormatError
    from .issues import IssueFilters
    from .labels.methods import LabelFilters, PredictionFilters
    from .members import ProjectUserFilters
    from .models import (
        Asset,
        AssetActionOutcome,
        AssetCurrentStep,
        ComplianceTag,
        InputType,
        Issue,
        IssueComment,
        IssueStatus,
        IssueType,
        Label,
        LabelAsset,
        LabelType,
        License,
        Organization,
        OrganizationMetrics,
        OrganizationRole,
        Project,
        ProjectMember,
        ProjectRole,
        ProjectUser,
        ProjectUserStatus,
        ProjectVersion,
        ProjectWorkflow,
        Resolution,
        Status,
        StatusInStep,
        Step,
        StepAssignee,
        StepType,
        Tag,
        UpdatedAsset,
        User,
        UserProfile,
        WorkflowVersion,
    )
    from .organizations import OrganizationFilters
    from .projects import ProjectFilters
    from .subscriptions import LabelSubscription
    from .users import UserFilters
    from .workflow import WorkflowStepCreate, WorkflowStepDesignation, WorkflowStepUpdate

# Where each public name lives. Loaded on first use (PEP 562 ``__getattr__``): a bare
# ``import aiokili`` builds no model and imports no HTTP stack, export or server module.
_SOURCES: dict[str, tuple[str, ...]] = {
    ".client": ("AsyncKili",),
    ".errors": (
        "APIConnectionError",
        "APIError",
        "APITimeoutError",
        "AuthenticationError",
        "BulkOperationError",
        "ConfigurationError",
        "DeadlineExceededError",
        "GraphQLError",
        "GraphQLErrorDetail",
        "HTTPStatusError",
        "InvalidInterfaceError",
        "InvalidRequestError",
        "InvalidResponseError",
        "ItemFailure",
        "KiliError",
        "KiliInputError",
        "MalformedLabelError",
        "MutationOutcomeUnknownError",
        "NotFoundError",
        "PermissionDeniedError",
        "PluginArgumentError",
        "PluginBuildError",
        "PluginDeployTimeout",
        "PluginNameTaken",
        "RateLimitError",
    ),
    ".models": (
        "Asset",
        "AssetActionOutcome",
        "AssetCurrentStep",
        "ComplianceTag",
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
        "OrganizationMetrics",
        "OrganizationRole",
        "Project",
        "ProjectMember",
        "ProjectRole",
        "ProjectVersion",
        "ProjectUser",
        "ProjectUserStatus",
        "ProjectWorkflow",
        "Resolution",
        "Status",
        "StatusInStep",
        "Step",
        "StepAssignee",
        "StepType",
        "Tag",
        "UpdatedAsset",
        "User",
        "UserProfile",
        "WorkflowVersion",
    ),
    "._core.listing": ("Listing",),
    "._core.interface": (
        "Interface",
        "Job",
        "JobCategory",
        "JobContent",
        "JobInput",
        "MLTask",
        "Tool",
    ),
    "._core.parsed_label": (
        "BoundingPoly",
        "LabelParsingError",
        "ParsedAnnotation",
        "ParsedCategory",
        "ParsedJob",
        "ParsedLabel",
        "ParsedLabelListing",
        "Point",
        "SkippedLabel",
    ),
    ".projects": ("ProjectFilters",),
    ".assets.methods": ("AppendManyToDatasetResult", "AssetFilters"),
    ".labels.methods": ("LabelFilters", "PredictionFilters"),
    ".issues": ("IssueFilters",),
    ".members": ("ProjectUserFilters",),
    ".organizations": ("OrganizationFilters",),
    ".users": ("UserFilters",),
    ".subscriptions": ("LabelSubscription",),
    ".exports.formats": ("ExportFormatError",),
    ".workflow": ("WorkflowStepCreate", "WorkflowStepDesignation", "WorkflowStepUpdate"),
}
_RENAMED = {"ParsedAnnotation": "Annotation", "ParsedCategory": "Category"}
_MODULE_OF = {name: module for module, names in _SOURCES.items() for name in names}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AppendManyToDatasetResult",
    "Asset",
    "AssetActionOutcome",
    "AssetCurrentStep",
    "AssetFilters",
    "AsyncKili",
    "AuthenticationError",
    "BoundingPoly",
    "BulkOperationError",
    "ComplianceTag",
    "ConfigurationError",
    "DeadlineExceededError",
    "ExportFormatError",
    "GraphQLError",
    "GraphQLErrorDetail",
    "HTTPStatusError",
    "InputType",
    "Interface",
    "InvalidInterfaceError",
    "InvalidRequestError",
    "InvalidResponseError",
    "Issue",
    "IssueComment",
    "IssueFilters",
    "IssueStatus",
    "IssueType",
    "ItemFailure",
    "Job",
    "JobCategory",
    "JobContent",
    "JobInput",
    "KiliError",
    "KiliInputError",
    "Label",
    "LabelAsset",
    "LabelFilters",
    "LabelParsingError",
    "LabelSubscription",
    "LabelType",
    "License",
    "Listing",
    "MLTask",
    "MalformedLabelError",
    "MutationOutcomeUnknownError",
    "NotFoundError",
    "Organization",
    "OrganizationFilters",
    "OrganizationMetrics",
    "OrganizationRole",
    "ParsedAnnotation",
    "ParsedCategory",
    "ParsedJob",
    "ParsedLabel",
    "ParsedLabelListing",
    "PermissionDeniedError",
    "PluginArgumentError",
    "PluginBuildError",
    "PluginDeployTimeout",
    "PluginNameTaken",
    "Point",
    "PredictionFilters",
    "Project",
    "ProjectFilters",
    "ProjectMember",
    "ProjectRole",
    "ProjectUser",
    "ProjectUserFilters",
    "ProjectUserStatus",
    "ProjectVersion",
    "ProjectWorkflow",
    "RateLimitError",
    "Resolution",
    "SkippedLabel",
    "Status",
    "StatusInStep",
    "Step",
    "StepAssignee",
    "StepType",
    "Tag",
    "Tool",
    "UpdatedAsset",
    "User",
    "UserFilters",
    "UserProfile",
    "WorkflowStepCreate",
    "WorkflowStepDesignation",
    "WorkflowStepUpdate",
    "WorkflowVersion",
    "__version__",
]


class _WithoutHttpxCli:
    """Keeps ``import httpx`` from importing httpx's command line (click, rich, pygments:
    ~40 ms) when those happen to be installed (encode/httpx#3547).

    While httpx's ``__init__`` runs, ``httpx._main`` is made unimportable, so httpx defines
    its fallback ``main`` instead (``httpx.main`` in this process only; the ``httpx``
    command is a process of its own), and the finder steps aside. Asked for
    ``httpx._main`` at any other time, it finds nothing and the usual finders find it.
    """

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "httpx._main":
            spec = getattr(sys.modules.get("httpx"), "__spec__", None)
            if getattr(spec, "_initializing", False):
                sys.meta_path.remove(self)  # the error ends this search: no finder skipped
                raise ModuleNotFoundError(f"{name} not needed by aiokili", name=name)
        return None


if "httpx" not in sys.modules:
    sys.meta_path.insert(0, _WithoutHttpxCli())


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'aiokili' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), _RENAMED.get(name, name))
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
