"""Public, stable names for the typed models (generated from schema.graphql + queries/).

Results of listings are instances of these classes, so ``isinstance(label, aiokili.Label)``
holds and IDEs complete ``label.author.email``. Typed for ``mypy --strict`` with no casts:

* JSON documents (``Label.json_response``, ``Asset.json_metadata``,
  ``Project.json_interface``) are ``dict[str, Any]``, ``{}`` when empty:
  ``label.json_response["JOB"]`` needs no check.
* Enums (``Status``, ``LabelType``...) print as their value: ``str(asset.status)`` and
  ``f"{asset.status}"`` are ``"LABELED"``; ``asset.status.value`` and
  ``asset.status == "LABELED"`` work too.
* A field the API always fills is not ``Optional``: ids, ``external_id``, ``content``,
  ``status``, ``label_type``, ``asset_id``, ``created_at``/``updated_at``, ``labels``,
  ``title``, ``steps``... The fields that stay ``Optional`` are those the API leaves null:

  | Model | Optional fields | None when |
  | --- | --- | --- |
  | `Label` | `model_name` | not a prediction or inference |
  | `Label` | `seconds_to_label` | the labelling time was not reported |
  | `Label` | `consensus_mark`, `honeypot_mark`, `inference_mark` (and on `Asset`) | not computed: no consensus, honeypot or inference on it |
  | `Label` | `is_last_for_step` | not computed for the label's step |
  | `Label` | `author` | the author id names no user of your organization (any id is accepted on import) |
  | `Label` | `label_of` | the asset is gone (a live event about a deleted asset) |
  | `User` | `firstname`, `lastname` | the user gave none |
  | `Asset` | `resolution` | the media's size is not known (set it with `update_properties_in_assets`) |
  | `Asset` | `current_step` | the project is on the legacy V1 workflow (no steps) |
  | `Project` | `input_type` | the project was created without one |
  | `Project` | `instructions`, `consensus_tot_coverage`, `min_consensus_size`, `review_coverage`, `use_honey_pot` | the setting was never set, or set to null |
  | `Issue` | `label_id`, `object_mid` | a question about an asset, an issue about no object |
  | `PluginLog` | `project_id`, `run_id`, `asset_id`, `label_id`, `metadata` | a build log, or a run about no asset or label |
  | `ProjectVersion` | `content` | no link to download the version was set |
  | `Step` | `consensus_coverage`, `number_of_expected_labels_for_consensus` | a review step, or a labeling step without consensus |
  | `Step` | `step_coverage`, `send_back_step_id` | the labeling step; a review step sending back to the labeling step |
  | `Step` | `use_honeypot` | never set on the step |
  | `Step` | `step_group_id` | not the multi-group workflow (V3) |

* With ``fields=``, a field left out is not there: reading it raises ``AttributeError``
  naming what to add to ``fields=`` (``id`` is always fetched).
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
    ProjectUserStatus,
    Status,
    StatusInStep,
    StepType,
    WorkflowVersion,
)
from ._generated.fragments import (
    Asset,
    AssetActionOutcome,
    Issue,
    Label,
    Organization,
    OrganizationMetrics,
    Project,
    ProjectUser,
    ProjectVersion,
    ProjectWorkflow,
    Step,
    Tag,
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
from ._generated.fragments import StepAssignees as StepAssignee

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
    "IMAGE",
    "GEOSPATIAL",
    "PDF",
    "TEXT",
    "VIDEO",
    "LLM_RLHF",
    "LLM_INSTR_FOLLOWING",
    "LLM_STATIC",
    "AUDIO",
]
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
    "OrganizationMetrics",
    "OrganizationRole",
    "Project",
    "ProjectMember",
    "ProjectRole",
    "ProjectUser",
    "ProjectUserStatus",
    "ProjectVersion",
    "ProjectWorkflow",
    "Resolution",
    "Status",
    "StatusInStep",
    "Step",
    "StepAssignee",
    "StepStatusName",
    "StepType",
    "Tag",
    "UpdatedAsset",
    "User",
    "UserProfile",
    "WorkflowVersion",
]
