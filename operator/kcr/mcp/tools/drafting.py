"""The one way a draft is made: scope, snapshot, review, evidence, then the sink.

The review is :func:`kcr.plan.review_spec`, the same function the CLI and the operator
call, so what the assistant shows is what the operator will enforce. A change that breaks
the cluster's policy is refused here rather than drafted to fail later.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated

from pydantic import Field, ValidationError

from kcr import kinds
from kcr.kafka.quota_model import QuotaEntityType, entity_label
from kcr.mcp.drafts import request_name
from kcr.mcp.evidence import (
    combined,
    group_subject,
    principal_subject,
    quota_subject,
    snapshot_evidence,
    topic_subject,
)
from kcr.mcp.gate.calls import ToolDeniedError, ToolInvalidError
from kcr.mcp.scale_scope import require_scalable
from kcr.mcp.scoping import outside_scope
from kcr.mcp.tools.env import ToolEnv
from kcr.mcp.tools.strimzi_review import with_strimzi
from kcr.mcp.withholding import (
    foreign_groups,
    foreign_topics,
    shown_blast_radius,
    shown_observed,
    shown_text,
    withheld_note,
)
from kcr.model import (
    AclResourceType,
    BlastRadius,
    Change,
    Channel,
    DataMovement,
    Evidence,
    KafkaChangeRequest,
    KafkaChangeRequestSpec,
    ObservedState,
    Plan,
    RequestedBy,
    Risk,
    RollbackPlan,
    Rollout,
    explain,
)
from kcr.model.base import KubeModel
from kcr.model.request import MAX_REQUEST_TEXT, ObjectMeta
from kcr.plan import Review, review_spec

DraftReason = Annotated[
    str,
    Field(
        min_length=8,
        max_length=2048,
        description="Why this change: the problem it solves, in one line of prose",
    ),
]


RequestText = Annotated[
    str | None,
    Field(
        max_length=MAX_REQUEST_TEXT,
        description="Optional: the user's request in their own words, pasted as it is "
        "(line breaks allowed). Stored on the request for reviewers, never interpreted.",
    ),
]


def build_change(kind: str, make: Callable[[], KubeModel]) -> Change:
    """Build a change member from tool arguments; a model rule becomes a clear tool error."""
    try:
        return Change.of(make())
    except ValidationError as error:
        raise ToolInvalidError("; ".join(explain(error, kind))) from None


def _subjects(change: Change) -> set[str]:
    kind, member = change.kind, change.member
    subjects = {topic_subject(t) for t in kind.topics(member)}
    subjects |= {group_subject(g) for g in kind.consumer_groups(member)}
    subjects |= {
        group_subject(b.resource_name)
        for b in kind.acl_bindings(member)
        if b.resource_type is AclResourceType.GROUP
    }
    subjects |= {principal_subject(b.principal) for b in kind.acl_bindings(member)}
    subjects |= {
        quota_subject(entity_label({QuotaEntityType(k): v for k, v in entity.items()}))
        for entity in kind.quota_entities(member)
    }
    return subjects


def check_rollout(rollout: Rollout | None) -> Rollout:
    """Drafts may pace a change; the health gates stay the ones the cluster's policy sets."""
    if rollout is None:
        return Rollout()
    if rollout.gates is not None:
        raise ToolInvalidError(
            "rollout.gates: health gates come from the cluster's policy (policy.defaultGates); "
            "a draft may set canary, batchSize, bakeSeconds and onFailure"
        )
    return rollout


@dataclass(frozen=True)
class Reviewed:
    """The spec the sink receives and its review, and what the drafter is shown of it.

    Kubernetes stores every consumer group for the request's reviewers; a YAML draft is
    committed by the drafter, so it is the shown spec, and its review is of that YAML.
    """

    spec: KafkaChangeRequestSpec
    review: Review
    shown: KafkaChangeRequestSpec
    withheld: int
    hidden_topics: frozenset[str] = frozenset()
    """Existing topics outside the caller's scope that the snapshot names (a new topic's
    name collides with them): the review weighs them, the caller is not told their names."""

    def shown_violations(self) -> list[str]:
        return [shown_text(v, self.hidden_topics) for v in self.review.violations]


def drafts_yaml(env: ToolEnv) -> bool:
    return env.services.drafts.kind == "yaml"


def channel_of(env: ToolEnv) -> Channel:
    """A YAML draft reaches the cluster through a pull request and the GitOps applier,
    which the admission policy lets create only ``gitops`` requests; it is part of the
    spec, so the hash a preview shows is the hash reviewers approve."""
    return Channel.GITOPS if drafts_yaml(env) else Channel.MCP


async def review_change(
    env: ToolEnv,
    change: Change,
    reason: str,
    rollout: Rollout | None = None,
    *,
    request_text: str | None = None,
) -> Reviewed:
    pacing = check_rollout(rollout)
    problem = outside_scope(change, env.scope)
    if problem is not None:
        raise ToolDeniedError(problem)
    services = env.services
    await require_scalable(services.kube, change, services.cluster.ownership)
    cluster = services.cluster.name
    observed = await kinds.take_snapshot(services.kafka, change, env.now())
    shown = services.ledger.relevant(env.caller.principal, _subjects(change), env.now())
    spec = KafkaChangeRequestSpec(
        cluster=cluster,
        change=change,
        requested_by=RequestedBy(
            principal=env.caller.requester,
            tenant=env.caller.tenant,
            channel=channel_of(env),
            correlation_id=env.call.correlation_id,
        ),
        reason=reason,
        evidence=combined(snapshot_evidence(cluster, observed), shown),
        observed=observed,
        rollout=pacing,
        request_text=request_text,
    )
    visible = shown_observed(observed, env.scope)
    withheld = len(foreign_groups(observed.consumers_of_topics, env.scope))
    shown_spec = spec.model_copy(
        update={
            "observed": visible,
            "evidence": combined(snapshot_evidence(cluster, visible, withheld), shown),
        }
    )
    storage = services.cluster.storage
    full = review_spec(spec, services.cluster.policy, env.now(), storage=storage)
    sent, review = spec, full
    if drafts_yaml(env):
        sent = shown_spec
        shown_review = review_spec(shown_spec, services.cluster.policy, env.now(), storage=storage)
        review = replace(shown_review, violations=full.violations)
    review = await with_strimzi(env, change, review)
    return Reviewed(
        spec=sent,
        review=review,
        shown=shown_spec,
        withheld=withheld,
        hidden_topics=foreign_topics(observed, env.scope),
    )


class ReviewSummary(KubeModel):
    valid: bool
    violations: list[str]
    warnings: list[str]
    risk: Risk
    risk_reasons: list[str]
    irreversible: list[str] = Field(description="What cannot be undone, in plain words")
    required_approvals: int
    change_window: str
    blast_radius: BlastRadius
    data_movement: DataMovement = Field(description="The bytes the change copies between brokers")
    spec_hash: str

    @classmethod
    def of(cls, reviewed: Reviewed, env: ToolEnv) -> "ReviewSummary":
        review = reviewed.review
        return cls(
            valid=review.valid,
            violations=reviewed.shown_violations(),
            warnings=review.warnings,
            risk=review.risk,
            risk_reasons=review.risk_reasons,
            irreversible=review.irreversible,
            required_approvals=review.required_approvals,
            change_window=review.window.message,
            blast_radius=shown_blast_radius(review.blast_radius, env.scope),
            data_movement=review.data_movement,
            spec_hash=review.spec_hash,
        )


WITHHELD_DESCRIPTION = "How many consumer groups outside your scope are not named here"


class PreviewResult(KubeModel):
    name: str = Field(description="The name a draft of this change would get")
    review: ReviewSummary
    plan: Plan
    rollback: RollbackPlan
    observed: ObservedState
    evidence: list[Evidence]
    withheld: str | None = Field(default=None, description=WITHHELD_DESCRIPTION)


class DraftResult(KubeModel):
    name: str
    namespace: str
    sink: str = Field(description="kube: created in Kubernetes; yaml: returned for a pull request")
    created: bool = Field(
        description="True when this call created the KafkaChangeRequest in Kubernetes; the "
        "yaml sink creates nothing"
    )
    already_open: bool = Field(
        default=False,
        description="True when an identical open request already existed; nothing new was made",
    )
    phase: str | None = None
    requested_by: RequestedBy
    existing_requester: str | None = Field(
        default=None, description="Who requested the identical open request, when one existed"
    )
    review: ReviewSummary
    evidence: list[Evidence]
    observed: ObservedState
    withheld: str | None = Field(default=None, description=WITHHELD_DESCRIPTION)
    yaml: str | None = None
    next_steps: str


async def preview(
    env: ToolEnv, change: Change, reason: str, rollout: Rollout | None = None
) -> PreviewResult:
    reviewed = await review_change(env, change, reason, rollout)
    cluster = env.services.cluster
    return PreviewResult(
        name=request_name(cluster.name, cluster.namespace, change),
        review=ReviewSummary.of(reviewed, env),
        plan=reviewed.review.plan,
        rollback=reviewed.review.rollback,
        observed=reviewed.shown.observed or ObservedState(captured_at=env.now()),
        evidence=reviewed.shown.evidence,
        withheld=withheld_note(reviewed.withheld),
    )


async def submit_draft(
    env: ToolEnv,
    change: Change,
    reason: str,
    rollout: Rollout | None = None,
    *,
    request_text: str | None = None,
) -> DraftResult:
    """Kubernetes stores the whole spec for reviewers; a YAML draft is what the caller
    commits, so it carries only what the caller may see."""
    reviewed = await review_change(env, change, reason, rollout, request_text=request_text)
    review = reviewed.review
    if not review.valid:
        raise ToolInvalidError(
            "the change breaks the cluster policy and was not drafted: "
            + "; ".join(reviewed.shown_violations())
        )
    cluster = env.services.cluster
    sink = env.services.drafts
    request = KafkaChangeRequest(
        metadata=ObjectMeta(
            name=request_name(cluster.name, cluster.namespace, change),
            namespace=cluster.namespace,
            labels={
                "app.kubernetes.io/managed-by": "kcr-mcp",
                "kcr.dev/channel": channel_of(env).value,
            },
        ),
        spec=reviewed.spec,
    )
    submitted = await sink.submit(request)
    return DraftResult(
        name=submitted.name,
        namespace=submitted.namespace,
        sink=sink.kind,
        created=submitted.created,
        already_open=submitted.already_open,
        phase=submitted.phase,
        requested_by=reviewed.spec.requested_by,
        existing_requester=submitted.requested_by if submitted.already_open else None,
        review=ReviewSummary.of(reviewed, env),
        evidence=reviewed.shown.evidence,
        observed=reviewed.shown.observed or ObservedState(captured_at=env.now()),
        withheld=withheld_note(reviewed.withheld),
        yaml=submitted.yaml,
        next_steps=_next_steps(
            sink.kind, submitted.name, submitted.namespace, review, submitted.already_open
        ),
    )


def _next_steps(sink: str, name: str, namespace: str, review: Review, already_open: bool) -> str:
    approvals = (
        f"{review.required_approvals} approval(s) by people other than the requester "
        f"({review.risk} risk)"
    )
    if sink == "yaml":
        return (
            f"commit this YAML to the GitOps repository in a pull request; once merged, the "
            f"operator waits for {approvals} on KafkaChangeRequest {namespace}/{name}"
        )
    if already_open:
        return (
            f"an identical open request already exists: review it with "
            f"`kubectl kcr describe {name} -n {namespace}`; nothing new was created"
        )
    return (
        f"review with `kubectl kcr describe {name} -n {namespace}`; it needs {approvals} "
        f"(`kubectl kcr approve {name} -n {namespace}`) before the operator runs it"
    )
