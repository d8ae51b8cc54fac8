"""aiokili: async, fully typed Python SDK for the Kili GraphQL API.

```python
from aiokili import AsyncKili

async with AsyncKili() as kili:
    async for label in kili.labels(project_id):
        ...
```
"""

from ._constants import VERSION as __version__
from ._listing import Listing
from .assets import AppendManyToDatasetResult, AssetFilters
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
    RateLimitError,
)
from .labels import LabelFilters
from .models import (
    Asset,
    AssetActionOutcome,
    AssetCurrentStep,
    ComplianceTag,
    InputType,
    Label,
    LabelAsset,
    LabelType,
    Project,
    ProjectMember,
    ProjectRole,
    Resolution,
    Status,
    StatusInStep,
    UpdatedAsset,
    User,
    WorkflowVersion,
)
from .projects import ProjectFilters

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
    "BulkOperationError",
    "ComplianceTag",
    "ConfigurationError",
    "GraphQLError",
    "GraphQLErrorDetail",
    "HTTPStatusError",
    "InputType",
    "InvalidRequestError",
    "InvalidResponseError",
    "ItemFailure",
    "KiliError",
    "KiliInputError",
    "Label",
    "LabelAsset",
    "LabelFilters",
    "LabelType",
    "Listing",
    "NotFoundError",
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
    "WorkflowVersion",
    "__version__",
]
