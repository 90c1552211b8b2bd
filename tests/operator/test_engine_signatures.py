"""Approvals carried in git count only when the approvers' SSH signatures prove them.

The request is a CRITICAL DeleteTopic from git (two approvals required); keys are real
ed25519 keys and signatures are made by ssh-keygen.
"""

import json
from collections.abc import Callable
from typing import Any

import pytest
from engine_world import World, cluster_spec, request
from kcr_builders import delete_topic

from kcr.engine import Blocker
from kcr.kubectl.signing import sign_spec_hash
from kcr.model import Channel, KafkaChangeRequestSpec, Phase, RequestedBy
from kcr.policy.signatures import (
    SIGNATURES_ANNOTATION,
    SignedApproval,
    dump_signed_approvals,
    parse_allowed_signers,
)

OTHER_HASH = "0" * 64


def from_git(spec: KafkaChangeRequestSpec, channel: str = "gitops") -> KafkaChangeRequestSpec:
    requested_by = RequestedBy(principal="dave", channel=Channel(channel), correlation_id="c-9")
    return spec.model_copy(update={"requested_by": requested_by})


@pytest.fixture
def keys(ssh_key: Callable[[str], Any]) -> dict[str, Any]:
    return {name: ssh_key(name) for name in ("bob", "carol", "dave", "eve")}


def reviewed_from_git(keys: dict[str, Any], channel: str = "gitops") -> World:
    listed = "".join(f"{name} {keys[name].public}\n" for name in ("bob", "carol", "dave"))
    world = World(request(from_git(delete_topic(), channel)))
    world.allowed_signers = parse_allowed_signers(listed)
    world.run()
    assert world.phase is Phase.AWAITING_APPROVAL
    return world


def sign(world: World, keys: dict[str, Any], signer: str, key: str, over: str = "") -> None:
    """``signer`` claims the approval; ``key`` is whose key actually signed."""
    signature = sign_spec_hash(over or world.status.spec_hash or "", keys[key].private)
    current = world.resource.annotations.get(SIGNATURES_ANNOTATION, "[]")
    from_before = [SignedApproval.model_validate(a) for a in json.loads(current)]
    world.annotate(
        {
            SIGNATURES_ANNOTATION: dump_signed_approvals(
                [*from_before, SignedApproval(approver=signer, signature=signature)]
            )
        }
    )


def test_two_verified_signatures_approve_a_critical_delete(keys: dict[str, Any]) -> None:
    world = reviewed_from_git(keys)
    sign(world, keys, "bob", "bob")
    sign(world, keys, "carol", "carol")
    assert world.run() is Phase.SUCCEEDED
    assert [(a.user, a.signed) for a in world.status.approvals] == [
        ("bob", True),
        ("carol", True),
    ]


# id: [(claimed approver, key that signed, hash signed over)], words in status.message
UNPROVEN = {
    "declared but unsigned": ([("bob", "", ""), ("carol", "", "")], "is not JSON"),
    "one forged signature": ([("bob", "bob", ""), ("carol", "bob", "")], "not a key of carol"),
    "signer not on the list": ([("bob", "bob", ""), ("eve", "eve", "")], "eve is not on the"),
    "signature over another hash": (
        [("bob", "bob", ""), ("carol", "carol", OTHER_HASH)],
        "the signature of carol does not verify over spec hash",
    ),
}


@pytest.mark.parametrize(("signed", "words"), UNPROVEN.values(), ids=UNPROVEN.keys())
def test_an_unproven_gitops_approval_counts_as_none(
    keys: dict[str, Any], signed: list[tuple[str, str, str]], words: str
) -> None:
    world = reviewed_from_git(keys)
    for signer, key, over in signed:
        if key:
            sign(world, keys, signer, key, over)
        else:  # what a pull request could always write: names, no proof
            world.annotate({SIGNATURES_ANNOTATION: "bob,carol"})
    assert world.run() is Phase.AWAITING_APPROVAL
    assert world.runs == []
    assert words in world.status.message
    # approvals given in the cluster still count: the request waits for them
    world.approve("erin", "frank")
    assert world.run() is Phase.SUCCEEDED


def test_the_requesters_own_signature_is_refused(keys: dict[str, Any]) -> None:
    """dave wrote the pull request; his valid signature is no second approval."""
    world = reviewed_from_git(keys)
    sign(world, keys, "bob", "bob")
    sign(world, keys, "dave", "dave")
    assert world.run() is Phase.AWAITING_APPROVAL
    assert world.runs == []
    assert "dave requested this change and may not approve it" in world.status.message


def test_signatures_count_only_on_a_request_from_git(keys: dict[str, Any]) -> None:
    world = reviewed_from_git(keys, channel="kubectl")
    sign(world, keys, "bob", "bob")
    sign(world, keys, "carol", "carol")
    assert world.run() is Phase.AWAITING_APPROVAL
    assert "counts only on a request whose spec.requestedBy.channel is gitops" in (
        world.status.message
    )


def test_without_an_allowed_signers_list_no_signature_counts(keys: dict[str, Any]) -> None:
    world = reviewed_from_git(keys)
    world.allowed_signers = None
    sign(world, keys, "bob", "bob")
    sign(world, keys, "carol", "carol")
    assert world.run() is Phase.AWAITING_APPROVAL
    assert "the operator has no allowed-signers list" in world.status.message
    condition = next(c for c in world.status.conditions if c.type == "Approved")
    assert condition.reason == "SignatureUnverified"


def test_signatures_given_under_an_earlier_cluster_policy_stay_void(
    keys: dict[str, Any],
) -> None:
    """A sync that writes the old signatures back does not revive them."""
    world = reviewed_from_git(keys)
    sign(world, keys, "bob", "bob")
    sign(world, keys, "carol", "carol")
    signed = world.resource.annotations[SIGNATURES_ANNOTATION]
    world.blockers = (Blocker("team-a/other", Phase.EXECUTING, ("team-a/prod/topic/orders",)),)
    assert world.run() is Phase.APPROVED
    world.cluster = cluster_spec(protected_topics=["payments"])
    world.decide()
    assert world.phase is Phase.AWAITING_APPROVAL
    assert SIGNATURES_ANNOTATION not in world.resource.annotations
    world.annotate({SIGNATURES_ANNOTATION: signed})  # Argo CD syncs the file again
    world.blockers = ()
    assert world.run() is Phase.AWAITING_APPROVAL
    assert world.runs == []
    assert "the signature of bob was given under an earlier KafkaCluster policy" in (
        world.status.message
    )
