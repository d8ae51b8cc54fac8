"""aiokili: async, fully typed Python SDK for the Kili GraphQL API.

```python
from aiokili import AsyncKili

async with AsyncKili() as kili:
    async for label in kili.labels(project_id):
        ...
```
"""

__version__ = "0.1.0"

from .assets import AppendManyToDatasetResult
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
    InvalidResponseError,
    ItemFailure,
    KiliError,
    KiliInputError,
    NotFoundError,
    RateLimitError,
)
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

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AppendManyToDatasetResult",
    "Asset",
    "AssetCurrentStep",
    "AsyncKili",
    "AuthenticationError",
    "BulkOperationError",
    "ComplianceTag",
    "ConfigurationError",
    "GraphQLError",
    "GraphQLErrorDetail",
    "HTTPStatusError",
    "InputType",
    "InvalidResponseError",
    "ItemFailure",
    "KiliError",
    "KiliInputError",
    "Label",
    "LabelAsset",
    "LabelType",
    "NotFoundError",
    "Project",
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
