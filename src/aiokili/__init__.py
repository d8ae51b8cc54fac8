"""aiokili: async, fully typed Python SDK for the Kili GraphQL API.

```python
from aiokili import AsyncKili

async with AsyncKili() as kili:
    async for label in kili.labels(project_id):
        ...
```
"""

from ._core.constants import VERSION as __version__
from ._core.listing import Listing
from ._core.parsed_label import Annotation as ParsedAnnotation
from ._core.parsed_label import BoundingPoly, LabelParsingError, ParsedJob, ParsedLabel, Point
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
    GraphQLError,
    GraphQLErrorDetail,
    HTTPStatusError,
    InvalidRequestError,
    InvalidResponseError,
    ItemFailure,
    KiliError,
    KiliInputError,
    NotFoundError,
    PluginBuildError,
    PluginDeployTimeout,
    RateLimitError,
)
from .exports.formats import ExportFormatError
from .issues import IssueFilters
from .labels.methods import LabelFilters, PredictionFilters
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
    OrganizationRole,
    Project,
    ProjectMember,
    ProjectRole,
    Resolution,
    Status,
    StatusInStep,
    UpdatedAsset,
    User,
    UserProfile,
    WorkflowVersion,
)
from .projects import ProjectFilters
from .subscriptions import LabelSubscription
from .users import OrganizationFilters, UserFilters

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
    "ExportFormatError",
    "GraphQLError",
    "GraphQLErrorDetail",
    "HTTPStatusError",
    "InputType",
    "InvalidRequestError",
    "InvalidResponseError",
    "Issue",
    "IssueComment",
    "IssueFilters",
    "IssueStatus",
    "IssueType",
    "ItemFailure",
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
    "NotFoundError",
    "Organization",
    "OrganizationFilters",
    "OrganizationRole",
    "ParsedAnnotation",
    "ParsedCategory",
    "ParsedJob",
    "ParsedLabel",
    "PluginBuildError",
    "PluginDeployTimeout",
    "Point",
    "PredictionFilters",
    "Project",
    "ProjectFilters",
    "ProjectMember",
    "ProjectRole",
    "RateLimitError",
    "Resolution",
    "Status",
    "StatusInStep",
    "UpdatedAsset",
    "User",
    "UserFilters",
    "UserProfile",
    "WorkflowVersion",
    "__version__",
]
