"""Through kopf and the emulator: a CRITICAL DeleteTopic from git runs only on proven approvals.

The operator reads its allowed-signers file as it would from the mounted ConfigMap; the
approvals travel in the annotation ``kubectl kcr approve --file`` writes, signed by
ssh-keygen with real ed25519 keys.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kafka_setup import draft, prepare
from operator_harness import Harness, fast_config

from kcr.kafka.fake import FakeCluster
from kcr.kubectl.signing import sign_spec_hash
from kcr.model import Channel, RequestedBy
from kcr.policy.signatures import SIGNATURES_ANNOTATION, SignedApproval, dump_signed_approvals

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]


async def test_a_gitops_delete_waits_until_approvals_are_proven(
    harness: Harness, fake_cluster: FakeCluster, ssh_key: Callable[[str], Any], tmp_path: Path
) -> None:
    bob, carol, mallory = ssh_key("bob"), ssh_key("carol"), ssh_key("mallory")
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"bob {bob.public}\ncarol {carol.public}\n")
    spec = await draft(harness.kafka, await prepare("DeleteTopic", fake_cluster))
    from_git = RequestedBy(principal="dave", channel=Channel.GITOPS, correlation_id="pr-7")
    await harness.start(fast_config(allowed_signers=signers))
    kubectl = harness.kubectl
    await kubectl.create("delete-orders", spec.model_copy(update={"requested_by": from_git}))
    review = await kubectl.wait_phase("delete-orders", "AwaitingApproval")
    assert review["risk"] == "CRITICAL"
    spec_hash = review["specHash"]

    # bob's signature is real; "carol"'s was made with mallory's key
    declared = [
        SignedApproval(approver="bob", signature=sign_spec_hash(spec_hash, bob.private)),
        SignedApproval(approver="carol", signature=sign_spec_hash(spec_hash, mallory.private)),
    ]
    await kubectl.annotate(
        "delete-orders", **{SIGNATURES_ANNOTATION: dump_signed_approvals(declared)}
    )
    waiting = await kubectl.wait_for(
        "delete-orders",
        lambda s: "not a key of carol" in s.get("message", ""),
        "the forged signature reported",
    )
    assert waiting["phase"] == "AwaitingApproval"
    assert "1 of 2 required approvals (bob)" in waiting["message"]
    approved = next(c for c in waiting["conditions"] if c["type"] == "Approved")
    assert (approved["status"], approved["reason"]) == ("False", "SignatureUnverified")
    assert "orders" in fake_cluster.topics

    # an approval given in the cluster is the second one
    await kubectl.approve("delete-orders", "erin")
    done = await kubectl.wait_phase("delete-orders", "Succeeded", "Failed", "RolledBack")
    assert done["phase"] == "Succeeded"
    assert [(a["user"], a.get("signed", False)) for a in done["approvals"]] == [
        ("erin", False),
        ("bob", True),
    ]
    assert "orders" not in fake_cluster.topics
