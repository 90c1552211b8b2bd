"""Which approvals carried in git are proven, for the spec hash under review.

Only a request from git (``spec.requestedBy.channel: gitops``) carries signed approvals;
anywhere else people approve in the cluster, where the API server knows who they are.
A signature that proves nothing is reported and counted as no approval at all.
"""

from kcr.engine.context import Context
from kcr.model import Channel
from kcr.policy.signatures import (
    SIGNATURES_ANNOTATION,
    SignatureFormatError,
    SignatureVerdict,
    parse_signed_approvals,
    signature_digest,
    verify_signed_approvals,
)


def signature_verdict(ctx: Context) -> SignatureVerdict:
    text = ctx.resource.signals.signed_approvals
    if not text:
        return SignatureVerdict(verified=[], failed=[])
    if ctx.spec.requested_by.channel is not Channel.GITOPS:
        return SignatureVerdict(
            verified=[],
            failed=[
                f"{SIGNATURES_ANNOTATION} counts only on a request whose "
                "spec.requestedBy.channel is gitops; approve this one in the cluster "
                "(kubectl kcr approve)"
            ],
        )
    try:
        approvals = parse_signed_approvals(text)
    except SignatureFormatError as error:
        return SignatureVerdict(verified=[], failed=[str(error)])
    signers = ctx.observed.allowed_signers
    if signers is None:
        problem = ctx.observed.allowed_signers_problem or "the operator has no allowed-signers list"
        return SignatureVerdict(
            verified=[],
            failed=[f"no signature in {SIGNATURES_ANNOTATION} can be verified: {problem}"],
        )
    voided = set(ctx.status.voided_signatures)
    current = [a for a in approvals if signature_digest(a) not in voided]
    verdict = verify_signed_approvals(current, ctx.status.spec_hash or "", signers)
    stale = [
        f"the signature of {a.approver} was given under an earlier KafkaCluster policy and no "
        "longer counts; approve in the cluster"
        for a in approvals
        if a not in current
    ]
    return SignatureVerdict(verified=verdict.verified, failed=[*stale, *verdict.failed])
