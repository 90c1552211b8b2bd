"""RestartWorkload: its review, its two steps, what its rollback says, and whose pods it
may restart."""

from datetime import datetime, timedelta, timezone

import pytest

from kcr.engine.staleness import stale_differences
from kcr.kinds.restart_workload import RestartWorkload, restart_stamp
from kcr.model import (
    ClusterPolicy,
    DeploymentRef,
    GroupState,
    ObservedGroup,
    ObservedPartition,
    ObservedState,
    Ownership,
    Risk,
)
from kcr.plan import build_plan, build_rollback, review_spec

from .examples import NOW, observed, spec_of

RESTART = RestartWorkload(
    group="billing", deployment=DeploymentRef(namespace="shop", name="billing-api")
)


def billing(members: int = 3) -> ObservedGroup:
    return ObservedGroup(
        group="billing",
        state=GroupState.STABLE,
        members=members,
        member_ids=[f"billing-{n}" for n in range(members)],
        partitions=[
            ObservedPartition(topic="orders", partition=p, committed=10, log_end=12)
            for p in range(4)
        ],
    )


def test_review_is_medium_irreversible_and_moves_no_data() -> None:
    state = observed(consumer_groups=[billing()], consumers_of_topics=["billing"])
    review = review_spec(spec_of(RESTART, state), ClusterPolicy(), NOW)
    assert review.risk is Risk.MEDIUM
    assert review.risk_reasons == [
        "replaces every pod of deployment shop/billing-api: group billing (3 member(s) now) "
        "rebalances and stops reading until its new members have joined"
    ]
    assert review.irreversible == [
        "a rollout restart cannot be undone: Kubernetes replaces the pods with new ones; "
        "nothing else changes, so there is nothing to restore (irreversible but harmless)"
    ]
    assert review.blast_radius.topics == ["orders"]
    assert review.blast_radius.partitions == 4
    assert review.blast_radius.consumer_groups == ["billing"]
    assert review.data_movement.bytes == 0
    assert "reassigned to the new pods" in review.data_movement.summary
    assert not review.rollback.reversible
    assert review.rollback.steps == []


def test_plan_restarts_then_waits_for_the_rejoin() -> None:
    (stage,) = build_plan(spec_of(RESTART)).stages
    assert stage.name == "restart"
    assert [(s.id, s.irreversible, s.timeout_seconds) for s in stage.steps] == [
        ("restart-deployment", True, None),
        ("await-rejoin", False, 600),
    ]
    assert stage.steps[1].description == (
        "wait until group billing has rejoined: new member ids, as many members as before"
    )
    rollback = build_rollback(build_plan(spec_of(RESTART)), None)
    assert rollback.irreversible_reasons[0].startswith("a rollout restart cannot be undone")


def test_the_stamp_comes_from_the_snapshot_so_a_retry_writes_the_same() -> None:
    at = datetime(2026, 11, 25, 11, 0, 5, 120000, tzinfo=timezone(timedelta(hours=1)))
    snapshot = ObservedState(captured_at=at)
    assert restart_stamp(snapshot) == "2026-11-25T10:00:05.120000Z"
    assert restart_stamp(snapshot.model_validate_json(snapshot.model_dump_json())) == (
        restart_stamp(snapshot)
    )


@pytest.mark.parametrize(
    ("labels", "problem"),
    [
        pytest.param({"kcr.dev/consumer-group": "billing"}, None, id="labelled"),
        pytest.param({"kcr.dev/team": "shop"}, None, id="owned-by-the-team"),
        pytest.param(
            {"kcr.dev/consumer-group": "audit"},
            "spec.change.restartWorkload.deployment: Deployment shop/billing-api consumes "
            "group audit, not billing: a restart for group billing may only restart a "
            "Deployment labelled kcr.dev/consumer-group=billing",
            id="another-group",
        ),
        pytest.param(
            None,
            "spec.change.restartWorkload.deployment: Deployment shop/billing-api was not "
            "found among the Deployments that consume group billing",
            id="missing",
        ),
    ],
)
def test_only_a_deployment_that_consumes_the_group_may_restart(
    labels: dict[str, str] | None, problem: str | None
) -> None:
    owners = [Ownership(team="shop", group_prefixes=["bill"])]
    found = spec_of(RESTART).change.kind.deployment_problem(RESTART, labels, owners)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(problem)


def test_a_group_that_lost_its_members_since_the_draft_is_stale() -> None:
    spec = spec_of(RESTART, observed(consumer_groups=[billing()]))
    assert (
        stale_differences(spec, observed(consumer_groups=[billing(members=5)]), ClusterPolicy())
        == []
    )
    assert stale_differences(
        spec, observed(consumer_groups=[billing(members=0)]), ClusterPolicy()
    ) == ["group billing: has members was yes in spec.observed and is no now"]


def test_it_claims_the_group_and_the_deployment_everywhere() -> None:
    kind = spec_of(RESTART).change.kind
    assert kind.claims(RESTART) == ["group/billing", "*/deployment/shop/billing-api"]
    assert kind.consumer_groups(RESTART) == ["billing"]
    assert kind.deployment(RESTART) == RESTART.deployment
