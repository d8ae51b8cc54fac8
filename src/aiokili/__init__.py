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
from .labels import LabelFilters, PredictionFilters
from .models import (
    Asset,
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
    User,
    WorkflowVersion,
)
from .parsed_label import LabelParsingError, ParsedJob, ParsedLabel
from .projects import ProjectFilters

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AppendManyToDatasetResult",
    "Asset",
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
    "LabelParsingError",
    "LabelType",
    "Listing",
    "NotFoundError",
    "ParsedJob",
    "ParsedLabel",
    "PredictionFilters",
    "Project",
    "ProjectFilters",
    "ProjectMember",
    "ProjectRole",
    "RateLimitError",
    "Resolution",
    "Status",
    "StatusInStep",
    "User",
    "WorkflowVersion",
    "__version__",
]
