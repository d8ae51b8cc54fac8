"""Workflow steps: read a project's steps, change them (create, update, delete, rename,
review steps and their properties), assign reviewers and labelers, copy a workflow."""

from .copy import WorkflowCopyMethods
from .methods import WorkflowMethods
from .steps import StepTypeName, WorkflowStepCreate, WorkflowStepDesignation, WorkflowStepUpdate

__all__ = [
    "StepTypeName",
    "WorkflowCopyMethods",
    "WorkflowMethods",
    "WorkflowStepCreate",
    "WorkflowStepDesignation",
    "WorkflowStepUpdate",
]
