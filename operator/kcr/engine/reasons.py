"""Reason strings: the same CamelCase word in conditions, history, Events, logs and metrics.

A closed set, so metric labels stay bounded.
"""

from enum import StrEnum


class Reason(StrEnum):
    VALIDATED = "Validated"
    VALIDATION_FAILED = "ValidationFailed"
    CLUSTER_UNAVAILABLE = "ClusterUnavailable"
    DEPLOYMENT_UNAVAILABLE = "DeploymentUnavailable"
    SPEC_CHANGED = "SpecChanged"
    AWAITING_APPROVAL = "AwaitingApproval"
    APPROVAL_REFUSED = "ApprovalRefused"
    INSUFFICIENT_APPROVALS = "InsufficientApprovals"
    APPROVED = "Approved"
    APPROVAL_WITHDRAWN = "ApprovalWithdrawn"
    REJECTED = "Rejected"
    EXPIRED = "Expired"
    ABORTED = "Aborted"
    OUTSIDE_CHANGE_WINDOW = "OutsideChangeWindow"
    BLOCKED = "BlockedByActiveChange"
    STALE_PLAN = "StalePlan"
    PLAN_MISMATCH = "PlanMismatch"
    EXECUTION_STARTED = "ExecutionStarted"
    STEP_SUCCEEDED = "StepSucceeded"
    STEP_RETRYING = "StepRetrying"
    STEP_FAILED = "StepFailed"
    BAKING = "Baking"
    GATE_PASSED = "GatePassed"
    GATE_FAILED = "GateFailed"
    GATE_RETRYING = "GateRetrying"
    AWAITING_CONTINUE = "AwaitingContinue"
    CONTINUED = "Continued"
    SUCCEEDED = "Succeeded"
    ROLLBACK_REQUESTED = "RollbackRequested"
    ROLLBACK_REFUSED = "RollbackRefused"
    ROLLBACK_STEP_SUCCEEDED = "RollbackStepSucceeded"
    ROLLED_BACK = "RolledBack"
    ROLLBACK_FAILED = "RollbackFailed"
    ROLLBACK_ABORTED = "RollbackAborted"
    FAILED = "Failed"
