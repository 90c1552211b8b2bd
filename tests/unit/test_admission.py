"""The kcr-approvals ValidatingAdmissionPolicy, evaluated with a CEL library.

Each admission request is built the way the API server presents it to the policy
(`object`, `oldObject`, `request.userInfo`, `params`); variables are evaluated in order,
as Kubernetes composes them, and every validation rule must reject its counter-example.
"""

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kcr.engine.signals import (
    ABORT,
    APPROVED_BY,
    APPROVED_SPEC_HASH,
    CONTINUE,
    REJECTED_BY,
    ROLLBACK,
    ROLLBACK_APPROVED_BY,
    ROLLBACK_APPROVED_HASH,
    ROLLBACK_REQUESTED,
    ROLLBACK_REQUESTED_BY,
)
from kcr.model import Phase
from kcr.policy.authority import PHASES, Action, identity_refusal, same_person

from . import admission_policy
from .admission_policy import PARAMS, POLICY, VALIDATIONS

MCP = PARAMS["data"]["mcpServer"]
GITOPS = PARAMS["data"]["gitopsApplier"]
OPERATOR = "system:serviceaccount:kcr-system:kcr-operator"
APPROVERS = [PARAMS["data"]["approversGroup"], "system:authenticated"]
PEOPLE = ["system:authenticated"]
HASH = "a" * 64
SIGNED = {"kcr.dev/approval-signatures": '[{"approver": "bob", "signature": "x"}]'}


@dataclass(frozen=True)
class Admission:
    operation: str
    user: str
    groups: list[str]
    annotations: dict[str, str] = field(default_factory=dict)
    old_annotations: dict[str, str] | None = None
    principal: str = "alice"
    channel: str = "kubectl"
    namespace: str = "kafka-ops"
    phase: Phase | None = None

    def request_object(self, annotations: dict[str, str] | None) -> dict[str, Any] | None:
        if annotations is None:
            return None
        metadata: dict[str, Any] = {"name": "orders-retention", "namespace": self.namespace}
        if annotations:
            metadata["annotations"] = annotations
        found: dict[str, Any] = {
            "apiVersion": "kcr.dev/v1alpha1",
            "kind": "KafkaChangeRequest",
            "metadata": metadata,
            "spec": {
                "cluster": "prod",
                "requestedBy": {"principal": self.principal, "channel": self.channel},
            },
        }
        if self.phase is not None:
            found["status"] = {"phase": self.phase.value}
        return found


def denials(admission: Admission) -> dict[int, str]:
    """Rule index → message, for every validation the request fails."""
    obj = admission.request_object(admission.annotations)
    assert obj is not None
    return admission_policy.denials(
        operation=admission.operation,
        user=admission.user,
        groups=admission.groups,
        obj=obj,
        old=admission.request_object(admission.old_annotations),
    )


def approved(by: str, spec_hash: str = HASH) -> dict[str, str]:
    return {APPROVED_BY: by, APPROVED_SPEC_HASH: spec_hash}


def rollback(
    asker: str | None = None, by: str | None = None, spec_hash: str = HASH, asked: bool = False
) -> dict[str, str]:
    """The rollback annotations: asked for (``asked``), who asked, and who approved it."""
    found = {ROLLBACK: ROLLBACK_REQUESTED} if asked else {}
    if asker is not None:
        found[ROLLBACK_REQUESTED_BY] = asker
    if by is not None:
        found |= {ROLLBACK_APPROVED_BY: by, ROLLBACK_APPROVED_HASH: spec_hash}
    return found


ALLOWED = {
    "requester creates with kubectl": Admission("CREATE", "alice", PEOPLE),
    "requester as a Kafka principal": Admission("CREATE", "alice", PEOPLE, principal="User:alice"),
    "MCP server creates for its caller": Admission(
        "CREATE", MCP, [], principal="carol", channel="mcp"
    ),
    "GitOps applier carries the approvers' signatures from git": Admission(
        "CREATE", GITOPS, [], SIGNED, principal="dave", channel="gitops"
    ),
    "anyone carries signatures (the operator verifies them)": Admission(
        "CREATE", "alice", PEOPLE, SIGNED, channel="gitops"
    ),
    "GitOps applier creates for the author in git": Admission(
        "CREATE", GITOPS, [], principal="dave", channel="gitops"
    ),
    "GitOps applier re-applies the same approvals": Admission(
        "UPDATE", GITOPS, [], approved("bob, carol"), approved("bob,carol"), "dave", "gitops"
    ),
    "person creates from a git checkout": Admission("CREATE", "alice", PEOPLE, channel="gitops"),
    "approver adds themselves": Admission("UPDATE", "bob", APPROVERS, approved("bob"), {}),
    "second approver appends": Admission(
        "UPDATE", "carol", APPROVERS, approved("bob, carol"), approved("bob")
    ),
    "operator keeps approvals while adding a finalizer": Admission(
        "UPDATE",
        OPERATOR,
        [],
        {**approved("bob"), "kopf.zalando.org/last-handled-configuration": "{}"},
        approved("bob"),
    ),
    "approvals removed": Admission("UPDATE", "alice", PEOPLE, {}, approved("bob")),
    "requester withdraws by rejecting": Admission(
        "UPDATE", "alice", PEOPLE, {"kcr.dev/rejected-by": "alice"}, {}
    ),
    "approver rejects": Admission("UPDATE", "bob", APPROVERS, {"kcr.dev/rejected-by": "bob"}, {}),
    "unrelated annotation by anyone": Admission(
        "UPDATE", "erin", PEOPLE, {**approved("bob"), "note": "x"}, approved("bob")
    ),
    "continue between stages": Admission(
        "UPDATE", "bob", APPROVERS, {**approved("bob"), "kcr.dev/continue": "true"}, approved("bob")
    ),
    "continue left in place by others": Admission(
        "UPDATE",
        "alice",
        PEOPLE,
        {"kcr.dev/continue": "canary", "note": "x"},
        {"kcr.dev/continue": "canary"},
    ),
    "continue removed by the operator": Admission(
        "UPDATE", OPERATOR, [], {}, {"kcr.dev/continue": "canary"}
    ),
    "approver asks for a rollback as themselves": Admission(
        "UPDATE", "bob", APPROVERS, rollback("bob", asked=True), {}
    ),
    "requester asks for a rollback of their change": Admission(
        "UPDATE", "alice", PEOPLE, rollback("alice", asked=True), {}
    ),
    "operator removes the rollback request and keeps its asker": Admission(
        "UPDATE", OPERATOR, [], rollback("dave"), rollback("dave", asked=True)
    ),
    "operator removes every rollback annotation": Admission(
        "UPDATE", OPERATOR, [], {}, rollback("dave", "bob,carol", asked=True)
    ),
    "someone else approves a rollback": Admission(
        "UPDATE", "bob", APPROVERS, rollback("dave", "bob"), rollback("dave")
    ),
    "the change's requester approves a rollback someone else asked for": Admission(
        "UPDATE", "alice", APPROVERS, rollback("dave", "bob, alice"), rollback("dave", "bob")
    ),
}

# (request, the rules that reject it, words of the first rule's message: the one kubectl shows)
DENIED = {
    "approval annotation on create": (
        Admission("CREATE", "alice", PEOPLE, approved("bob")),
        {0, 2, 3},
        "each approver adds their own approval",
    ),
    "spec hash alone on create": (
        Admission("CREATE", "alice", PEOPLE, {"kcr.dev/approved-spec-hash": HASH}),
        {0},
        "created without kcr.dev/approved-by",
    ),
    "MCP server may not carry approvals": (
        Admission("CREATE", MCP, [], approved("bob"), principal="carol", channel="mcp"),
        {0, 2, 3},
        "each approver adds their own approval",
    ),
    "GitOps applier declares approvals from git": (
        Admission(
            "CREATE", GITOPS, [], approved("mallory,someone"), principal="ghost", channel="gitops"
        ),
        {0, 2, 3},
        "approvals reviewed in git travel as the approvers' SSH signatures",
    ),
    "GitOps applier creates in a namespace not listed": (
        Admission("CREATE", GITOPS, [], principal="dave", channel="gitops", namespace="team-b"),
        {1},
        "the GitOps applier one from git with channel gitops in a namespace listed in "
        "gitopsNamespaces",
    ),
    "create on behalf of someone else": (
        Admission("CREATE", "mallory", PEOPLE, principal="alice"),
        {1},
        "spec.requestedBy.principal must be the creating user mallory, not alice",
    ),
    "operator may not create for a person": (
        Admission("CREATE", OPERATOR, [], principal="alice"),
        {1},
        "only the MCP server may create a request on behalf",
    ),
    "approve in someone else's name": (
        Admission("UPDATE", "bob", APPROVERS, approved("carol"), {}),
        {2},
        "may only gain the requesting user bob; each approver approves as themselves "
        "(added: carol)",
    ),
    "approver outside the group": (
        Admission("UPDATE", "dave", PEOPLE, approved("dave"), {}),
        {3},
        "dave is not in the approvers group kcr-approvers",
    ),
    "requester approves own request": (
        Admission("UPDATE", "alice", APPROVERS, approved("alice"), {}),
        {4},
        "alice requested this change and may not approve it",
    ),
    "requester with a colon in the user name": (
        Admission(
            "UPDATE",
            "oidc:alice",
            APPROVERS,
            approved("oidc:alice"),
            {},
            principal="oidc:alice",
        ),
        {4},
        "oidc:alice requested this change",
    ),
    "requester approves in another spelling": (
        Admission("UPDATE", "Alice", APPROVERS, approved("Alice"), {}, principal="User:alice"),
        {4},
        "User:alice requested this change",
    ),
    "GitOps applier carries the requester's approval": (
        Admission("CREATE", GITOPS, [], approved("dave"), principal="dave", channel="gitops"),
        {0, 2, 3, 4},
        "each approver adds their own approval",
    ),
    "spec hash changed without approving": (
        Admission("UPDATE", "mallory", PEOPLE, approved("bob", "b" * 64), approved("bob")),
        {5},
        "changes only together with the requesting user's own approval",
    ),
    "reject outside the group": (
        Admission("UPDATE", "erin", PEOPLE, {"kcr.dev/rejected-by": "erin"}, {}),
        {6},
        "must be in the approvers group or the requester",
    ),
    "reject in someone else's name": (
        Admission("UPDATE", "bob", APPROVERS, {"kcr.dev/rejected-by": "carol"}, {}),
        {6},
        "may only gain the requesting user bob",
    ),
    "GitOps applier carries approvals on a request not from git": (
        Admission("CREATE", GITOPS, [], approved("bob"), principal="dave"),
        {0, 1, 2, 3},
        "each approver adds their own approval",
    ),
    "GitOps applier creates for someone outside git": (
        Admission("CREATE", GITOPS, [], principal="dave"),
        {1},
        "the GitOps applier one from git with channel gitops",
    ),
    "GitOps applier adds an approval to an existing request": (
        Admission("UPDATE", GITOPS, [], approved("bob,carol"), approved("bob"), "dave", "gitops"),
        {2, 3},
        "may only gain the requesting user " + GITOPS,
    ),
    "GitOps applier changes the approved spec hash": (
        Admission(
            "UPDATE", GITOPS, [], approved("bob", "b" * 64), approved("bob"), "dave", "gitops"
        ),
        {5},
        "changes only together with the requesting user's own approval",
    ),
    "GitOps applier rejects for someone": (
        Admission("UPDATE", GITOPS, [], {"kcr.dev/rejected-by": "bob"}, {}, "dave", "gitops"),
        {6},
        "may only gain the requesting user " + GITOPS,
    ),
    "MCP server creates without its channel": (
        Admission("CREATE", MCP, [], principal="carol"),
        {7},
        "the MCP server creates requests with spec.requestedBy.channel mcp, not kubectl",
    ),
    "person claims the MCP channel": (
        Admission("CREATE", "alice", PEOPLE, channel="mcp"),
        {7},
        "spec.requestedBy.channel mcp is for requests the MCP server creates",
    ),
    "GitOps applier claims the MCP channel": (
        Admission("CREATE", GITOPS, [], approved("bob"), principal="dave", channel="mcp"),
        {0, 1, 2, 3, 7},
        "each approver adds their own approval",
    ),
    "requester releases their own manual gate": (
        Admission("UPDATE", "alice", APPROVERS, {"kcr.dev/continue": "canary"}, {}),
        {8},
        "kcr.dev/continue releases a manual gate and may only be set by a member of the "
        "approvers group who did not request the change; alice is the requester",
    ),
    "manual gate released outside the group": (
        Admission("UPDATE", "erin", PEOPLE, {"kcr.dev/continue": "canary"}, {}),
        {8},
        "erin is not in the approvers group",
    ),
    "manual gate moved on to the next stage by the requester": (
        Admission(
            "UPDATE",
            "User:alice",
            APPROVERS,
            {"kcr.dev/continue": "batch-1"},
            {"kcr.dev/continue": "canary"},
            principal="User:alice",
        ),
        {8},
        "User:alice is the requester",
    ),
    "manual gate released at creation": (
        Admission("CREATE", "alice", PEOPLE, {"kcr.dev/continue": "canary"}),
        {8},
        "alice is not in the approvers group",
    ),
    "rollback asked for without naming the asker": (
        Admission("UPDATE", "bob", APPROVERS, {"kcr.dev/rollback": "requested"}, {}),
        {9},
        "kcr.dev/rollback is asked for together with kcr.dev/rollback-requested-by set to the "
        "asking user bob (it says '')",
    ),
    "rollback asked for in someone else's name": (
        Admission("UPDATE", "bob", APPROVERS, rollback("carol", asked=True), {}),
        {9},
        "the asking user bob (it says 'carol')",
    ),
    "rollback asked for outside the group": (
        Admission("UPDATE", "erin", PEOPLE, rollback("erin", asked=True), {}),
        {9},
        "who must be in the approvers group or the requester",
    ),
    "rollback's asker renamed after asking": (
        Admission("UPDATE", "bob", APPROVERS, rollback("bob"), rollback("dave")),
        {9},
        "the asking user bob",
    ),
    "rollback approved in someone else's name": (
        Admission("UPDATE", "bob", APPROVERS, rollback("dave", "carol"), rollback("dave")),
        {10},
        "kcr.dev/rollback-approved-by may only gain the requesting user bob",
    ),
    "rollback approved outside the group": (
        Admission("UPDATE", "erin", PEOPLE, rollback("dave", "erin"), rollback("dave")),
        {10},
        "who must be in the approvers group (added: erin)",
    ),
    "asker approves their own rollback": (
        Admission("UPDATE", "dave", APPROVERS, rollback("dave", "dave"), rollback("dave")),
        {11},
        "dave asked for this rollback and may not approve it",
    ),
    "asker approves their own rollback in another spelling": (
        Admission(
            "UPDATE", "Dave", APPROVERS, rollback("oidc:dave", "Dave"), rollback("oidc:dave")
        ),
        {11},
        "oidc:dave asked for this rollback",
    ),
    "rollback hash changed without approving": (
        Admission(
            "UPDATE",
            "mallory",
            PEOPLE,
            rollback("dave", "bob", "b" * 64),
            rollback("dave", "bob"),
        ),
        {12},
        "changes only together with the requesting user's own",
    ),
}


@pytest.mark.parametrize("admission", ALLOWED.values(), ids=ALLOWED.keys())
def test_allowed_requests_pass_every_rule(admission: Admission) -> None:
    assert denials(admission) == {}


@pytest.mark.parametrize(("admission", "rules", "words"), DENIED.values(), ids=DENIED.keys())
def test_each_rule_rejects_its_counter_example(
    admission: Admission, rules: set[int], words: str
) -> None:
    denied = denials(admission)
    assert set(denied) == rules, denied
    assert words in denied[min(rules)]


def test_every_rule_alone_rejects_a_counter_example() -> None:
    alone = {min(rules) for _, rules, _ in DENIED.values() if len(rules) == 1}
    assert alone == set(range(len(VALIDATIONS)))


def test_added_approvers_are_those_not_approved_before() -> None:
    # bob was there; carol adds herself and the list is re-spaced: only carol is new.
    admission = Admission("UPDATE", "carol", APPROVERS, approved(" bob ,carol,"), approved("bob"))
    assert denials(admission) == {}
    # the same edit by someone who is not carol is refused for carol, not for bob
    forged = Admission("UPDATE", "dave", APPROVERS, approved("bob,carol"), approved("bob"))
    assert "(added: carol)" in denials(forged)[2]


def test_variables_only_use_earlier_variables() -> None:
    """Kubernetes resolves a variable only from those defined before it."""
    seen: set[str] = set()
    for variable in POLICY["spec"]["variables"]:
        used = set(re.findall(r"variables\.([A-Za-z_]\w*)", variable["expression"]))
        assert used <= seen, f"{variable['name']} uses {sorted(used - seen)} before definition"
        seen.add(variable["name"])


def test_policy_matches_only_the_main_resource() -> None:
    """Status writes go to kafkachangerequests/status: the operator is never held up here."""
    rules = POLICY["spec"]["matchConstraints"]["resourceRules"]
    assert [r["resources"] for r in rules] == [["kafkachangerequests"]]
    assert sorted(rules[0]["operations"]) == ["CREATE", "UPDATE"]
    assert POLICY["spec"]["failurePolicy"] == "Fail"


names = st.text(alphabet="abcdefgABCDEFG._-: ", min_size=1, max_size=8).filter(
    lambda s: s.strip() and "," not in s
)


@settings(max_examples=80, deadline=None)
@given(
    approver=names,
    other=names,
    same=st.booleans(),
    upper=st.booleans(),
    prefixed=st.booleans(),
)
def test_requester_rule_agrees_with_the_operator(
    approver: str, other: str, same: bool, upper: bool, prefixed: bool
) -> None:
    """The API server and the operator must agree on who the requester is."""
    approver = approver.strip()
    name = (approver.upper() if upper else approver) if same else other
    principal = f"User:{name}" if prefixed else name
    admission = Admission("UPDATE", approver, APPROVERS, approved(approver), {}, principal)
    assert (4 in denials(admission)) == same_person(approver, principal)


def admission_for(
    action: Action, user: str, in_group: bool, requester: str, phase: Phase
) -> Admission:
    """``user`` takes ``action`` with the annotations kubectl kcr writes, on a request in
    ``phase``; ``requester`` asked for what the action decides on (for approve-rollback,
    the rollback; the change itself was requested by someone else)."""
    old: dict[str, str] = {}
    new = {
        Action.APPROVE: approved(user),
        Action.REJECT: {REJECTED_BY: user},
        Action.CONTINUE: {CONTINUE: "canary"},
        Action.ABORT: {ABORT: "true"},
        Action.ROLLBACK: rollback(user, asked=True),
    }.get(action, {})
    principal = requester
    if action is Action.APPROVE_ROLLBACK:
        old, new, principal = rollback(requester), rollback(requester, user), "zoe"
    groups = APPROVERS if in_group else PEOPLE
    return Admission("UPDATE", user, groups, new, old, principal=principal, phase=phase)


# (user, in the approvers group, requester)
WHO = {
    "approver, not the requester": ("bob", True, "alice"),
    "outsider, not the requester": ("erin", False, "alice"),
    "requester in the group": ("alice", True, "alice"),
    "requester outside the group": ("alice", False, "alice"),
    "requester as a Kafka principal": ("alice", True, "User:alice"),
    "requester with an OIDC prefix": ("oidc:alice", True, "oidc:alice"),
    "requester in another case": ("Alice", True, "alice"),
    "same name under another prefix": ("oidc:alice", True, "alice"),
}
AGREEMENT = {
    f"{action.value} while {phase.value}: {label}": (action, phase, *who)
    for action in Action
    for phase in sorted(PHASES[action])
    for label, who in WHO.items()
}


@pytest.mark.parametrize(
    ("action", "phase", "user", "in_group", "requester"), AGREEMENT.values(), ids=AGREEMENT.keys()
)
def test_admission_policy_agrees_with_the_rules_the_operator_uses(
    action: Action, phase: Phase, user: str, in_group: bool, requester: str
) -> None:
    """Same person, same action, same verdict: the CEL and kcr.policy.authority, in every
    phase the action applies to there."""
    denied = denials(admission_for(action, user, in_group, requester, phase))
    refusal = identity_refusal(action, user=user, requester=requester, approver=in_group)
    assert (denied != {}) == (refusal != ""), (denied, refusal)


OUT_OF_PHASE = {
    f"{action.value} while {phase.value}": (action, phase)
    for action in Action
    for phase in sorted(set(Phase) - PHASES[action])
}


@pytest.mark.parametrize(("action", "phase"), OUT_OF_PHASE.values(), ids=OUT_OF_PHASE.keys())
def test_admission_policy_judges_who_and_leaves_when_to_the_operator(
    action: Action, phase: Phase
) -> None:
    """kcr.policy.authority gives the API server the identity half only: outside the phases
    an action applies to, the operator and kubectl kcr refuse it (``phase_refusal``), and
    the CEL lets through whom the module allows. A phase rule added to the CEL alone fails
    here; one added to the module is tested above in its new phases."""
    user, in_group, requester = WHO["approver, not the requester"]
    assert not identity_refusal(action, user=user, requester=requester, approver=in_group)
    assert denials(admission_for(action, user, in_group, requester, phase)) == {}


@settings(max_examples=80, deadline=None)
@given(approver=names, other=names, same=st.booleans(), upper=st.booleans())
def test_rollback_asker_rule_agrees_with_the_operator(
    approver: str, other: str, same: bool, upper: bool
) -> None:
    """Who asked for a rollback is compared the same way by the API server and the operator."""
    approver = approver.strip()
    asker = (approver.upper() if upper else approver) if same else other
    admission = Admission("UPDATE", approver, APPROVERS, rollback(asker, approver), rollback(asker))
    assert (11 in denials(admission)) == same_person(approver, asker)
