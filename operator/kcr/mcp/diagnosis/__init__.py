"""The diagnosis engine behind ``explain_current_state``: facts in, ranked findings out.

Pure and deterministic: the tool gathers the facts (metadata, configs, lag, sampled group
history, rollouts), the detectors here turn them into findings ranked by how urgently they
need a person, each with the evidence it rests on and the runbook section to read next.
"""

from kcr.mcp.diagnosis.engine import diagnose
from kcr.mcp.diagnosis.findings import (
    RUNBOOK_SECTIONS,
    AccessCheck,
    Facts,
    Finding,
    FindingKind,
    LogSizes,
    Proposal,
    QuotaReading,
    RunbookRef,
    Severity,
    Thresholds,
)

__all__ = [
    "RUNBOOK_SECTIONS",
    "AccessCheck",
    "Facts",
    "Finding",
    "FindingKind",
    "LogSizes",
    "Proposal",
    "QuotaReading",
    "RunbookRef",
    "Severity",
    "Thresholds",
    "diagnose",
]
