"""The server's small parts: rate limits, pages, masking, access file, runbooks, rollouts,
request names, the sampler and TokenReview mapping."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from kcr.cli.main import cli as kcr_cli
from kcr.kafka import GroupDescription, GroupMember
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.increase_partitions import IncreasePartitions
from kcr.mcp.diagnosis import RUNBOOK_SECTIONS, FindingKind
from kcr.mcp.drafts import request_name
from kcr.mcp.gate.access_file import AccessFile, AccessFileError, load_access_file, token_digest
from kcr.mcp.gate.auth import TokenReviewVerifier, caller_of
from kcr.mcp.gate.identity import Role, Scope
from kcr.mcp.gate.ratelimit import RateLimiter, RateLimits
from kcr.mcp.kube import ReviewedUser
from kcr.mcp.masking import MASK, is_sensitive_key, mask_mapping
from kcr.mcp.paging import CursorError, page
from kcr.mcp.runbooks import RunbookLibrary, parse_runbook
from kcr.mcp.sampler import rebalance_between, sample_of
from kcr.mcp.withholding import (
    WITHHELD,
    foreign_groups,
    groups_named,
    shown_spec,
    shown_status,
)
from kcr.mcp.workloads import rollouts_of, touches_topic
from kcr.model import (
    BlastRadius,
    Change,
    Channel,
    ConsumerPositions,
    Evidence,
    EvidenceKind,
    GroupPosition,
    GroupProgress,
    GroupState,
    HealthBaseline,
    KafkaChangeRequestSpec,
    KafkaChangeRequestStatus,
    ObservedState,
    Plan,
    ProgressVerdict,
    RequestedBy,
    Stage,
    TimeWindow,
)

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_allows_a_burst_then_refills_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimits(per_minute=60, burst=3), clock)
    assert [limiter.acquire("alice") for _ in range(3)] == [None, None, None]
    wait = limiter.acquire("alice")
    assert wait == pytest.approx(1.0)
    assert limiter.acquire("bob") is None, "limits are per principal"
    clock.now = 1.0
    assert limiter.acquire("alice") is None
    assert limiter.acquire("alice") == pytest.approx(1.0)


def test_pages_walk_every_item_once_and_refuse_foreign_cursors() -> None:
    items = list(range(7))
    first, cursor = page(items, None, 3, "q")
    second, cursor2 = page(items, cursor, 3, "q")
    third, end = page(items, cursor2, 3, "q")
    assert (first, second, third, end) == ([0, 1, 2], [3, 4, 5], [6], None)
    with pytest.raises(CursorError, match="different query"):
        page(items, cursor, 3, "other query")
    with pytest.raises(CursorError, match="not one this server issued"):
        page(items, "bm90LWpzb24", 3, "q")


@pytest.mark.parametrize(
    ("key", "sensitive"),
    [
        ("sasl.jaas.config", True),
        ("ssl.keystore.password", True),
        ("ssl.key.password", True),
        ("api.key", True),
        ("retention.ms", False),
        ("message.timestamp.type", False),
        ("cleanup.policy", False),
    ],
)
def test_sensitive_keys(key: str, sensitive: bool) -> None:
    assert is_sensitive_key(key) is sensitive


def test_mask_mapping_masks_at_any_depth() -> None:
    masked = mask_mapping({"set": {"sasl.jaas.config": "secret", "retention.ms": "1"}, "n": [1]})
    assert masked == {"set": {"sasl.jaas.config": MASK, "retention.ms": "1"}, "n": [1]}


ACCESS = {
    "tokens": [
        {
            "tokenSha256": token_digest("s3cret-token-for-alice"),
            "principal": "alice",
            "kubernetesUser": "oidc:alice",
            "roles": ["viewer", "drafter"],
            "tenant": "team-a",
            "topicPrefixes": ["team-a."],
            "groupPrefixes": ["team-a."],
        }
    ],
    "subjects": [
        {
            "user": "system:serviceaccount:ai:kafka-assistant",
            "roles": ["viewer"],
            "topicPrefixes": ["a."],
        },
        {
            "group": "kafka-admins",
            "roles": ["drafter"],
            "topicPrefixes": ["*"],
            "groupPrefixes": ["*"],
        },
    ],
}


def test_access_file_maps_tokens_and_subjects() -> None:
    access = AccessFile.model_validate(ACCESS)
    alice = access.caller_for_token("s3cret-token-for-alice")
    assert alice is not None
    assert (alice.principal, alice.tenant, alice.roles) == (
        "alice",
        "team-a",
        [Role.VIEWER, Role.DRAFTER],
    )
    assert alice.requester == "oidc:alice", "drafts name who alice is to Kubernetes"
    assert alice.scope.allows_topic("team-a.orders")
    assert not alice.scope.allows_topic("team-b.x")
    assert access.caller_for_token("s3cret-token-for-alicE") is None
    assistant = access.caller_for_subject(
        "system:serviceaccount:ai:kafka-assistant", ["kafka-admins"]
    )
    assert assistant is not None
    assert assistant.roles == [Role.DRAFTER, Role.VIEWER]
    assert assistant.scope.topic_prefixes == ["a.", "*"], "grants add up over user and groups"
    assert assistant.requester == "system:serviceaccount:ai:kafka-assistant"
    assert access.caller_for_subject("mallory", ["developers"]) is None


def test_access_file_errors_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "access.yaml"
    path.write_text("tokens:\n  - principal: bob\n    roles: [admin]\n    token: short\n")
    with pytest.raises(AccessFileError) as error:
        load_access_file(path)
    assert "tokens[0].token: must be at least 16 characters" in str(error.value)
    assert "tokens[0].roles[0]: must be one of 'viewer' or 'drafter', got 'admin'" in str(
        error.value
    )


def test_a_drafter_token_must_name_its_kubernetes_user(tmp_path: Path) -> None:
    path = tmp_path / "access.yaml"
    path.write_text(
        "tokens:\n  - principal: alice\n    roles: [drafter]\n    token: 0123456789abcdef-alice\n"
    )
    with pytest.raises(AccessFileError) as error:
        load_access_file(path)
    assert "tokens[0]: the drafter alice needs kubernetesUser" in str(error.value)
    assert "for example oidc:alice" in str(error.value)


def test_a_stdio_drafter_must_name_its_kubernetes_user() -> None:
    result = CliRunner().invoke(
        kcr_cli, ["mcp", "--principal", "alice", "--role", "drafter", "--cluster", "prod"]
    )
    assert result.exit_code != 0
    assert "--role drafter needs --kubernetes-user" in result.output


def test_scope_with_no_prefixes_sees_nothing() -> None:
    assert not Scope().allows_topic("orders")
    assert Scope.everything().allows_group("anything")


class Reviewer:
    def __init__(self) -> None:
        self.calls = 0

    async def review_token(self, token: str, audience: str) -> ReviewedUser | None:
        """Like the API server: a token is only good for the audience it was issued for."""
        self.calls += 1
        return (
            ReviewedUser("system:serviceaccount:ai:kafka-assistant", ["system:authenticated"])
            if (token, audience) == ("k8s", "kcr-mcp")
            else None
        )


@pytest.mark.asyncio
async def test_token_review_maps_the_user_and_caches_the_answer() -> None:
    reviewer = Reviewer()
    verifier = TokenReviewVerifier(reviewer, AccessFile.model_validate(ACCESS))
    first = await verifier.verify_token("k8s")
    again = await verifier.verify_token("k8s")
    assert first is not None
    assert again is not None
    caller = caller_of(first)
    assert caller is not None
    assert (caller.principal, caller.roles) == (
        "system:serviceaccount:ai:kafka-assistant",
        [Role.VIEWER],
    )
    assert reviewer.calls == 1
    assert await verifier.verify_token("forged") is None


@pytest.mark.asyncio
async def test_refused_tokens_are_reviewed_once_and_never_evict_accepted_ones() -> None:
    now = [0.0]
    reviewer = Reviewer()
    verifier = TokenReviewVerifier(
        reviewer, AccessFile.model_validate(ACCESS), clock=lambda: now[0]
    )
    assert await verifier.verify_token("k8s") is not None
    for attempt in range(3):
        assert await verifier.verify_token("guessed") is None, attempt
    assert reviewer.calls == 2, "a refused token is asked about once while it is cached"
    for number in range(5000):
        assert await verifier.verify_token(f"made-up-{number}") is None
    assert reviewer.calls == 5002
    assert await verifier.verify_token("k8s") is not None
    assert reviewer.calls == 5002, "5000 made-up tokens did not push the accepted one out"
    now[0] = 11.0
    assert await verifier.verify_token("guessed") is None
    assert reviewer.calls == 5003, "a refusal is remembered briefly: the token may become valid"
    assert await verifier.verify_token("k8s") is not None
    assert reviewer.calls == 5003


def test_runbooks_parse_sections_and_search_ranks_headings() -> None:
    book = parse_runbook(
        "lag", "# Lag\n\nintro\n\n## Hot partitions\nskewed keys\n## Fix\nscale", "x"
    )
    assert [s.slug for s in book.sections] == ["overview", "hot-partitions", "fix"]
    library = RunbookLibrary.load()
    assert {r.slug for r in library.all()} >= {
        "consumer-lag",
        "under-replicated-partitions",
        "offline-partitions",
        "authorization-failures",
        "disk-pressure",
        "rebalance-storms",
        "retention",
    }
    top = library.search("hot partition skewed keys", 1)[0]
    assert (top.runbook.slug, top.section.slug) == ("consumer-lag", "hot-partitions")


def test_runbooks_directory_adds_and_replaces(tmp_path: Path) -> None:
    (tmp_path / "retention.md").write_text("# Our retention\n\n## Policy\nseven days\n")
    (tmp_path / "schema-registry.md").write_text("# Schema registry\n\n## Outage\nrestart\n")
    library = RunbookLibrary.load(tmp_path)
    retention = library.get("retention")
    assert retention is not None
    assert retention.title == "Our retention"
    assert library.get("schema-registry") is not None
    assert library.get("consumer-lag") is not None


def replica_set(revision: int, image: str, created: str) -> dict[str, object]:
    return {
        "metadata": {
            "namespace": "shop",
            "name": f"orders-{revision}",
            "creationTimestamp": created,
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "ownerReferences": [{"kind": "Deployment", "name": "orders", "uid": "u1"}],
        },
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}},
    }


def test_rollouts_come_from_replica_sets_newest_first() -> None:
    deployment = {"metadata": {"namespace": "shop", "name": "orders", "uid": "u1"}}
    rollouts = rollouts_of(
        deployment,
        [
            replica_set(2, "shop/orders:1.8", "2026-11-25T08:30:00Z"),
            replica_set(1, "shop/orders:1.7", "2026-11-20T10:00:00Z"),
        ],
    )
    assert [(r.revision, r.images, r.changed_images) for r in rollouts] == [
        (2, ["shop/orders:1.8"], ["shop/orders:1.8"]),
        (1, ["shop/orders:1.7"], []),
    ]
    assert rollouts[0].at == T0 + timedelta(minutes=30)


def test_topics_label_and_annotation() -> None:
    labelled = {"metadata": {"labels": {"kcr.dev/topics": "orders"}}}
    annotated = {"metadata": {"annotations": {"kcr.dev/topics": "payments, orders"}}}
    assert touches_topic(labelled, "orders")
    assert touches_topic(annotated, "orders")
    assert not touches_topic(labelled, "payments")


def test_request_names_follow_the_change_not_the_moment() -> None:
    grow = Change.of(IncreasePartitions(topic="orders", partitions=12))
    name = request_name("prod", "kafka", grow)
    assert name == request_name(
        "prod", "kafka", Change.of(IncreasePartitions(topic="orders", partitions=12))
    )
    assert name.startswith("increasepartitions-orders-")
    assert name != request_name(
        "prod", "kafka", Change.of(IncreasePartitions(topic="orders", partitions=24))
    )
    assert request_name("prod", "kafka", grow, attempt=1) == f"{name}-r2"
    create = Change.of(CreateTopic(topic="Team_A.Orders.V2", partitions=3, replication_factor=3))
    assert request_name("prod", "kafka", create).startswith("createtopic-team-a-orders-v2-")


def member(member_id: str) -> GroupMember:
    return GroupMember(member_id=member_id)


def test_sampler_sees_membership_and_generation_changes() -> None:
    def described(
        state: GroupState, members: list[str], generation: int | None
    ) -> GroupDescription:
        return GroupDescription(
            group="g",
            state=state,
            generation=generation,
            members=[member(m) for m in members],
            observed_at=T0,
        )

    before = sample_of(T0, described(GroupState.STABLE, ["a", "b"], 4), None, "g")
    same = sample_of(
        T0 + timedelta(seconds=15), described(GroupState.STABLE, ["b", "a"], 4), None, "g"
    )
    after = sample_of(T0 + timedelta(seconds=30), described(GroupState.STABLE, ["a"], 5), None, "g")
    assert rebalance_between("g", before, same) is None
    event = rebalance_between("g", same, after)
    assert event is not None
    assert event.reasons == ["generation 4 → 5", "members 2 → 1"]
    untold = sample_of(T0, described(GroupState.PREPARING_REBALANCE, ["a"], None), None, "g")
    assert rebalance_between("g", after, untold) is not None


@pytest.mark.parametrize(
    ("kind", "where"), [pytest.param(k, w, id=str(k)) for k, w in RUNBOOK_SECTIONS.items()]
)
def test_every_finding_points_at_a_shipped_runbook_section(
    kind: FindingKind, where: tuple[str, str]
) -> None:
    slug, section = where
    book = RunbookLibrary.load().get(slug)
    assert book is not None, f"{kind}: no shipped runbook {slug}"
    assert book.section(section) is not None, f"{kind}: {slug} has no section {section}"


def test_a_withheld_group_named_like_a_topic_leaves_the_topic_alone() -> None:
    """Group fields lose the foreign groups; the change's topic of the same name stays."""
    scope = Scope(topic_prefixes=["team-a."], group_prefixes=["team-a.app"])
    observed = ObservedState(
        captured_at=T0, consumers_of_topics=["team-a.app", "team-a.orders", "team-b.reader"]
    )
    evidence = [
        Evidence(
            kind=kind,
            source="kafka/prod: snapshot",
            query=query,
            observed_value=value,
            time_window=TimeWindow.at(T0),
            captured_at=T0,
        )
        for kind, query, value in [
            (EvidenceKind.METADATA, "topic team-a.orders", "topic team-a.orders: 3 partitions"),
            (EvidenceKind.LAG, "consumers of topics", "team-a.app, team-a.orders, team-b.reader"),
            (EvidenceKind.LAG, "consumer_lag group=team-a.app", "group team-a.app: total lag 1"),
        ]
    ]
    spec = KafkaChangeRequestSpec(
        cluster="prod",
        change=Change.of(AlterTopicConfig(topics=["team-a.orders"], set={"retention.ms": "1"})),
        requested_by=RequestedBy(principal="rita", channel=Channel.KUBECTL),
        reason="keep less of the orders",
        evidence=evidence,
        observed=observed,
    )
    positions = ConsumerPositions(
        observed_at=T0,
        groups=[
            GroupPosition(group=g, committed=c, log_end=c + 10, partitions=1)
            for g, c in (("team-a.app", 1), ("team-a.orders", 2), ("team-b.reader", 3))
        ],
    )
    status = KafkaChangeRequestStatus(
        snapshot=observed,
        blast_radius=BlastRadius(
            topics=["team-a.orders"], consumer_groups=observed.consumers_of_topics
        ),
        plan=Plan(
            stages=[
                Stage(
                    name="canary",
                    steps=[],
                    gate_result="lag of team-a.app=1, team-a.orders=2, team-b.reader=3",
                    bake_positions=positions,
                    progress=[
                        GroupProgress(group=g.group, verdict=ProgressVerdict.PASSED)
                        for g in positions.groups
                    ],
                )
            ]
        ),
        baseline=HealthBaseline(captured_at=T0, consumer_positions=[positions, positions]),
        message="team-b.reader lag grew",
    )
    foreign = foreign_groups(groups_named(spec, status), scope)
    assert foreign == {"team-a.orders", "team-b.reader"}
    shown = shown_spec(spec, scope)
    seen = shown_status(status, scope, foreign, ["team-a.orders"])
    assert shown.change == spec.change
    assert shown.observed is not None
    assert shown.observed.consumers_of_topics == ["team-a.app"]
    assert [e.query for e in shown.evidence] == [
        "topic team-a.orders",
        "consumer_lag group=team-a.app",
    ]
    assert seen.snapshot is not None
    assert seen.snapshot.consumers_of_topics == ["team-a.app"]
    assert seen.blast_radius is not None
    assert (seen.blast_radius.topics, seen.blast_radius.consumer_groups) == (
        ["team-a.orders"],
        ["team-a.app"],
    )
    assert seen.plan is not None
    (stage,) = seen.plan.stages
    assert stage.bake_positions is not None
    assert [g.group for g in stage.bake_positions.groups] == ["team-a.app"]
    assert [p.group for p in stage.progress] == ["team-a.app"]
    assert seen.baseline is not None
    assert [[g.group for g in p.groups] for p in seen.baseline.consumer_positions] == [
        ["team-a.app"],
        ["team-a.app"],
    ]
    assert stage.gate_result == (f"lag of team-a.app=1, team-a.orders=2, {WITHHELD}=3"), (
        "a name that is also a topic of the request stays readable in prose"
    )
    assert seen.message == f"{WITHHELD} lag grew"
