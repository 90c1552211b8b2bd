"""Everything a reviewer needs to decide, computed once from the spec and cluster policy.

The CLI (`kcr validate`), the MCP server (`preview_change`) and the operator all call
this, so what a person previews is what the operator will enforce.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from kcr.model import (
    BlastRadius,
    ClusterPolicy,
    DataMovement,
    KafkaChangeRequest,
    KafkaChangeRequestSpec,
    Plan,
    Risk,
    RollbackPlan,
    Storage,
    explain,
)
from kcr.plan.hashing import spec_hash
from kcr.plan.rollback import build_rollback
from kcr.plan.stages import build_plan
from kcr.policy import (
    WindowVerdict,
    assess,
    blast_radius,
    change_window,
    gate_violations,
    limit_violations,
)


@dataclass(frozen=True)
class Review:
    spec: KafkaChangeRequestSpec
    spec_hash: str
    risk: Risk
    risk_reasons: list[str]
    irreversible: list[str]
    blast_radius: BlastRadius
    data_movement: DataMovement
    plan: Plan
    rollback: RollbackPlan
    required_approvals: int
    window: WindowVerdict
    violations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.violations


def review_spec(
    spec: KafkaChangeRequestSpec,
    policy: ClusterPolicy,
    now: datetime,
    *,
    storage: Storage = Storage.LOCAL,
) -> Review:
    """``storage`` is the KafkaCluster's: on shared storage a replica move copies little."""
    observed = spec.observed
    change = spec.change
    assessment = assess(spec.change, observed, policy)
    plan = build_plan(spec)
    rollback = build_rollback(plan, observed)
    irreversible = list(dict.fromkeys([*assessment.irreversible, *rollback.irreversible_reasons]))
    return Review(
        spec=spec,
        spec_hash=spec_hash(spec),
        risk=assessment.risk,
        risk_reasons=assessment.reasons,
        irreversible=irreversible,
        blast_radius=blast_radius(spec.change, observed),
        data_movement=change.kind.data_movement(change.member, observed, storage),
        plan=plan,
        rollback=rollback,
        required_approvals=policy.approvals_for(assessment.risk),
        window=change_window(policy, assessment.risk, now),
        violations=[
            *limit_violations(spec.change, observed, policy),
            *gate_violations(spec.rollout, policy),
        ],
        warnings=_warnings(spec),
    )


def _warnings(spec: KafkaChangeRequestSpec) -> list[str]:
    found = spec.change.kind.warnings(spec.change.member, spec.observed)
    if spec.observed is None:
        found.append("spec.observed is empty: staleness cannot be checked against the draft")
    return found


@dataclass(frozen=True)
class Parsed:
    request: KafkaChangeRequest | None
    errors: list[str]


def parse_request(document: Any) -> Parsed:
    """Validate a KafkaChangeRequest document; errors are one line per field and rule."""
    if not isinstance(document, dict):
        return Parsed(None, ["(document): must be a KafkaChangeRequest object"])
    kind = document.get("kind")
    if kind != "KafkaChangeRequest":
        return Parsed(None, [f"kind: must be KafkaChangeRequest, got {kind!r}"])
    body = {k: v for k, v in document.items() if k != "status"}
    try:
        return Parsed(KafkaChangeRequest.model_validate(body), [])
    except ValidationError as error:
        return Parsed(None, explain(error))
