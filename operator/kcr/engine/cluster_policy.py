"""A KafkaCluster edited after review sends the request back to its review and approval.

The review (risk, limits, required approvals) and every approval were given under the
cluster policy recorded in ``status.clusterPolicy``. If a governing field changes before
the first write, the request is reviewed again under the new policy and waits for
approvals given anew: the approval annotations are removed, and signed approvals are
recorded as void, so a GitOps sync that writes them back does not revive them.
"""

from kcr.engine.context import Context
from kcr.engine.effects import Transition
from kcr.engine.reasons import Reason
from kcr.engine.signals import APPROVAL_SIGNATURES, APPROVED_BY, APPROVED_SPEC_HASH
from kcr.engine.validation import validate
from kcr.model import KafkaClusterSpec
from kcr.model.request import MAX_APPROVALS
from kcr.policy.cluster_policy import changed_fields, policy_digests
from kcr.policy.signatures import SignatureFormatError, parse_signed_approvals, signature_digest


def policy_changes(ctx: Context, cluster: KafkaClusterSpec) -> list[str]:
    """The governing fields changed since review; every field when none was recorded."""
    recorded = ctx.status.cluster_policy
    current = policy_digests(cluster)
    return changed_fields(recorded.fields if recorded else {}, current)


def review_again(ctx: Context, changed: list[str]) -> Transition:
    void_approvals(ctx)
    why = (
        f"KafkaCluster {ctx.spec.cluster} changed after review ({', '.join(changed)}); "
        "earlier approvals no longer count and it was reviewed again under the new policy: "
    )
    return validate(ctx, Reason.CLUSTER_POLICY_CHANGED, why)


def void_approvals(ctx: Context) -> None:
    for annotation in (APPROVED_BY, APPROVED_SPEC_HASH, APPROVAL_SIGNATURES):
        ctx.consume(annotation)
    ctx.status.approvals = []
    ctx.status.approved_by = ""
    ctx.status.voided_signatures = [
        *ctx.status.voided_signatures,
        *signature_digests(ctx.resource.signals.signed_approvals),
    ][-MAX_APPROVALS:]


def signature_digests(text: str) -> list[str]:
    """sha256 of each signature in the annotation (none when it does not parse)."""
    try:
        approvals = parse_signed_approvals(text) if text else []
    except SignatureFormatError:
        return []
    return [signature_digest(a) for a in approvals]
