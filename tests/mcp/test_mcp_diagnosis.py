"""The diagnosis engine, table-driven: facts in, ranked findings with evidence out."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kcr.kafka import (
    CommittedOffset,
    ConfigEntry,
    GroupDescription,
    GroupOffsets,
    HotPartitionRule,
    LagReport,
    PartitionInfo,
    PartitionOffsets,
    Reassignment,
    ReassignmentReport,
    ReplicaLogSize,
    TopicConfigs,
    TopicInfo,
)
from kcr.kafka.lag import build_lag_report
from kcr.mcp.broker_metrics import MetricFamily, MetricRange
from kcr.mcp.diagnosis import Facts, FindingKind, LogSizes, RunbookRef, Severity, diagnose
from kcr.mcp.prometheus import MetricPoint, MetricSeries
from kcr.mcp.sampler import GroupSample, RebalanceEvent
from kcr.mcp.schemas import (
    SchemaCompatibility,
    SchemaHistory,
    SchemaType,
    SchemaVersion,
    SubjectHistory,
)
from kcr.mcp.workloads import DeploymentRollout, Workload
from kcr.model import ConfigSource, EvidenceKind, GroupState, Ownership, TimeWindow

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def topic(name: str, leaders: list[int | None], isr: list[list[int]] | None = None) -> TopicInfo:
    replicas = [0, 1, 2]
    return TopicInfo(
        name=name,
        partitions=[
            PartitionInfo(
                partition=i,
                leader=leader,
                replicas=replicas,
                isr=isr[i] if isr else replicas,
            )
            for i, leader in enumerate(leaders)
        ],
    )


def lag(
    group: str,
    name: str,
    committed: list[int],
    log_end: list[int],
    log_start: list[int] | None = None,
    members: int = 1,
):  # type: ignore[no-untyped-def]
    starts = log_start or [0] * len(committed)
    log = {
        (name, p): PartitionOffsets(topic=name, partition=p, earliest=starts[p], latest=log_end[p])
        for p in range(len(committed))
    }
    offsets = GroupOffsets(
        group=group,
        offsets=[
            CommittedOffset(topic=name, partition=p, offset=c) for p, c in enumerate(committed)
        ],
    )
    description = GroupDescription(
        group=group,
        state=GroupState.STABLE if members else GroupState.EMPTY,
        members=[],
        observed_at=NOW,
    )
    report = build_lag_report(NOW, [offsets], log, {group: description}, HotPartitionRule())
    rows = [g.model_copy(update={"members": members}) for g in report.groups]
    return report.model_copy(update={"groups": rows})


def together(*reports: LagReport) -> LagReport:
    """Several groups' reports as one, as the tool reads them."""
    return reports[0].model_copy(
        update={
            "groups": [g for r in reports for g in r.groups],
            "hot_partitions": sorted(
                (h for r in reports for h in r.hot_partitions), key=lambda h: -h.lag
            ),
        }
    )


def stuck_history(lag_total: int) -> list[GroupSample]:
    return [
        sample(3, lag_total=lag_total, committed=270, log_end=280),
        sample(0, lag_total=lag_total, committed=270, log_end=300),
    ]


def sample(
    minutes_ago: float, *, lag_total: int, committed: int, log_end: int, members: int = 1
) -> GroupSample:
    return GroupSample(
        at=NOW - timedelta(minutes=minutes_ago),
        state=GroupState.STABLE,
        members=members,
        member_digest="m",
        total_lag=lag_total,
        committed_total=committed,
        log_end_total=log_end,
    )


def configs(name: str, **values: str) -> dict[str, TopicConfigs]:
    return {
        name: TopicConfigs(
            topic=name,
            configs={
                k.replace("_", "."): ConfigEntry(value=v, source=ConfigSource.TOPIC_OVERRIDE)
                for k, v in values.items()
            },
        )
    }


BASE = Facts(
    cluster="prod",
    now=NOW,
    topics=[topic("orders", [0, 1, 2])],
    topics_observed_at=NOW,
    brokers=[0, 1, 2],
)
EVEN = lag("orders-app", "orders", [90, 90, 90], [100, 100, 100])
HOT = lag("orders-app", "orders", [0, 0, 0], [20, 30, 500])
IDLE_HOT = lag("orders-app", "orders", [0, 0, 0], [20, 30, 500], members=0)
BEHIND_RETENTION = lag("orders-app", "orders", [10, 90, 90], [900, 100, 100], log_start=[500, 0, 0])
ROLLOUT = Workload(
    namespace="shop",
    name="orders-app",
    matched_by="kcr.dev/consumer-group=orders-app",
    rollouts=[
        DeploymentRollout(
            revision=7,
            at=NOW - timedelta(minutes=20),
            images=["shop/orders:1.8"],
            previous_images=["shop/orders:1.7"],
            changed_images=["shop/orders:1.8"],
        )
    ],
)


def storm(count: int) -> list[RebalanceEvent]:
    return [
        RebalanceEvent(
            group="orders-app",
            at=NOW - timedelta(minutes=i + 1),
            previous_at=NOW - timedelta(minutes=i + 1, seconds=15),
            from_state=GroupState.STABLE,
            to_state=GroupState.PREPARING_REBALANCE,
            members_before=3,
            members_after=2,
            reasons=["members 3 → 2"],
        )
        for i in range(count)
    ]


CASES = [
    pytest.param(replace(BASE, lag=EVEN), [], id="healthy-even-small-lag"),
    pytest.param(replace(BASE, lag=HOT), [("HotPartition", "orders/2")], id="hot-partition"),
    pytest.param(
        replace(BASE, lag=IDLE_HOT),
        [("HotPartition", "orders/2"), ("NoActiveConsumer", "group/orders-app")],
        id="hot-partition-ranks-above-idle-group",
    ),
    pytest.param(
        replace(BASE, topics=[topic("orders", [0, None, 2])], lag=HOT),
        [("OfflinePartitions", "topic/orders"), ("HotPartition", "orders/2")],
        id="offline-first",
    ),
    pytest.param(
        replace(BASE, lag=BEHIND_RETENTION),
        [("LagBeyondRetention", "group/orders-app"), ("HotPartition", "orders/0")],
        id="data-lost-ranks-above-the-hot-partition-it-causes",
    ),
    pytest.param(
        replace(
            BASE,
            lag=EVEN,
            configs=configs("orders", retention_ms="60000"),
            history={
                "orders-app": [
                    sample(10, lag_total=30, committed=240, log_end=270),
                    sample(0, lag_total=30, committed=270, log_end=300),
                ]
            },
        ),
        [("LagBeyondRetention", "group/orders-app")],
        id="lag-age-near-retention",
    ),
    pytest.param(
        replace(
            BASE,
            topics=[topic("orders", [0, 1, 2], isr=[[0], [1, 2, 0], [2, 0, 1]])],
            configs=configs("orders", min_insync_replicas="2"),
        ),
        [("UnderReplicated", "topic/orders")],
        id="under-replicated-below-min-isr",
    ),
    pytest.param(
        replace(
            BASE,
            lag=EVEN,
            history={
                "orders-app": [
                    sample(3, lag_total=10, committed=270, log_end=280),
                    sample(0, lag_total=30, committed=270, log_end=300),
                ]
            },
        ),
        [("StuckConsumer", "group/orders-app")],
        id="stuck-consumer",
    ),
    pytest.param(
        replace(
            BASE,
            lag=EVEN,
            history={
                "orders-app": [
                    sample(0.5, lag_total=10, committed=250, log_end=260),
                    sample(0, lag_total=30, committed=270, log_end=300),
                ]
            },
        ),
        [("SlowConsumer", "group/orders-app")],
        id="slow-consumer",
    ),
    pytest.param(
        replace(
            BASE,
            lag=together(HOT, lag("billing", "payments", [0], [1_000_000])),
            history={"billing": stuck_history(1_000_000)},
        ),
        [("StuckConsumer", "group/billing"), ("HotPartition", "orders/2")],
        id="a-stuck-group-far-behind-outranks-a-small-hot-partition",
    ),
    pytest.param(
        replace(
            BASE,
            lag=together(HOT, lag("billing", "payments", [0], [30])),
            history={"billing": stuck_history(30)},
        ),
        [("HotPartition", "orders/2"), ("StuckConsumer", "group/billing")],
        id="a-big-hot-partition-outranks-a-stuck-group-with-little-waiting",
    ),
    pytest.param(
        replace(
            BASE,
            lag=together(
                lag("billing", "payments", [0], [10_000_000]),
                lag("orders-app", "orders", [10, 90, 90], [900, 100, 100], log_start=[500, 0, 0]),
            ),
            history={"billing": stuck_history(10_000_000)},
        ),
        [
            ("LagBeyondRetention", "group/orders-app"),
            ("StuckConsumer", "group/billing"),
            ("HotPartition", "orders/0"),
        ],
        id="data-lost-outranks-any-amount-of-waiting",
    ),
    pytest.param(
        replace(BASE, rebalances={"orders-app": storm(4)}),
        [("RebalanceStorm", "group/orders-app")],
        id="rebalance-storm",
    ),
    pytest.param(
        replace(BASE, rebalances={"orders-app": storm(2)}), [], id="two-rebalances-are-no-storm"
    ),
    pytest.param(
        replace(
            BASE,
            lag=EVEN,
            workloads={"orders-app": [ROLLOUT]},
            history={"orders-app": [sample(25, lag_total=3, committed=97, log_end=100)]},
        ),
        [("LagAfterRollout", "group/orders-app")],
        id="lag-after-rollout",
    ),
    pytest.param(
        replace(BASE, topics=[topic("orders", [0, 0, 0, 0, 0, 0, 1, 2])]),
        [("LeaderSkew", "broker/0")],
        id="leader-skew",
    ),
]


@pytest.mark.parametrize(("facts", "expected"), CASES)
def test_findings_are_ranked(facts: Facts, expected: list[tuple[str, str]]) -> None:
    findings = diagnose(facts)
    assert [(f.kind.value, f.subject) for f in findings] == expected
    assert [f.rank for f in findings] == list(range(1, len(findings) + 1))
    assert all(f.evidence for f in findings), "every finding cites evidence"
    assert all(e.captured_at <= NOW for f in findings for e in f.evidence)
    windows = [e.time_window for f in findings for e in f.evidence]
    assert all(w.start <= w.end <= NOW for w in windows), "every claim says when it holds"


def test_hot_partition_cites_the_partition_and_its_numbers() -> None:
    runbook = RunbookRef(runbook="consumer-lag", section="hot-partitions", title="Consumer lag")
    (finding,) = diagnose(replace(BASE, lag=HOT, runbooks={FindingKind.HOT_PARTITION: runbook}))
    assert finding.severity is Severity.HIGH
    assert "orders/2 holds 500 of the 550 unread records" in finding.summary
    (evidence,) = finding.evidence
    assert evidence.kind is EvidenceKind.LAG
    assert evidence.observed_value.startswith("orders/2 lag 500; siblings' mean lag 25.0")
    assert evidence.captured_at == NOW
    assert finding.runbook == runbook


@pytest.mark.parametrize(
    ("retention_ms", "wording"),
    [
        (
            "720000",
            "lag is about 10 min old at the current production rate, close to orders's "
            "retention of 12 min",
        ),
        (
            "60000",
            "lag is about 10 min old at the current production rate, past orders's "
            "retention of 60 s",
        ),
    ],
    ids=["close-to", "past"],
)
def test_retention_finding_says_how_old_the_lag_is(retention_ms: str, wording: str) -> None:
    history = {
        "orders-app": [
            sample(10, lag_total=30, committed=240, log_end=270),
            sample(0, lag_total=30, committed=270, log_end=300),
        ]
    }
    facts = replace(
        BASE,
        lag=lag("orders-app", "orders", [270, 100, 100], [300, 100, 100]),
        configs=configs("orders", retention_ms=retention_ms),
        history=history,
    )
    finding = next(f for f in diagnose(facts) if f.kind is FindingKind.LAG_BEYOND_RETENTION)
    assert wording in finding.summary
    rate = next(e for e in finding.evidence if e.observed_value.startswith("production rate"))
    assert rate.observed_value == "production rate 0.05 records/s over 2 samples"
    assert (rate.time_window.start, rate.time_window.end) == (
        NOW - timedelta(minutes=10),
        NOW,
    ), "a rate holds over the samples it was computed from"


def test_lag_after_rollout_cites_the_deployment_and_the_earlier_sample() -> None:
    facts = replace(
        BASE,
        lag=EVEN,
        workloads={"orders-app": [ROLLOUT]},
        history={"orders-app": [sample(25, lag_total=3, committed=97, log_end=100)]},
    )
    (finding,) = diagnose(facts)
    assert "grew from 3 to 30 after shop/orders-app rolled out revision 7" in finding.summary
    kinds = [e.kind for e in finding.evidence]
    assert kinds == [EvidenceKind.DEPLOYMENT, EvidenceKind.CONSUMER_GROUP]
    deployment, before = finding.evidence
    assert deployment.time_window.start == NOW - timedelta(minutes=120)
    assert before.time_window.start == before.time_window.end == NOW - timedelta(minutes=25)
    assert "shop/orders:1.7" in finding.evidence[0].observed_value


def test_rollout_without_growth_is_not_blamed() -> None:
    facts = replace(
        BASE,
        lag=EVEN,
        workloads={"orders-app": [ROLLOUT]},
        history={"orders-app": [sample(25, lag_total=40, committed=60, log_end=100)]},
    )
    assert diagnose(facts) == []


def test_each_finding_names_its_owning_team() -> None:
    owners = (
        Ownership(team="platform", contact="#platform", topic_prefixes=["orders"]),
        Ownership(team="checkout", contact="#checkout", group_prefixes=["orders-"]),
    )
    findings = diagnose(
        replace(BASE, topics=[topic("orders", [0, None, 2])], lag=IDLE_HOT, ownership=owners)
    )
    assert [(f.kind.value, f.owner.team if f.owner else None) for f in findings] == [
        ("OfflinePartitions", "platform"),
        ("HotPartition", "platform"),
        ("NoActiveConsumer", "checkout"),
    ]
    unowned = diagnose(replace(BASE, lag=IDLE_HOT))
    assert [f.owner for f in unowned] == [None, None]


def test_more_records_waiting_rank_a_finding_higher() -> None:
    scores = [
        diagnose(
            replace(
                BASE,
                lag=lag("billing", "payments", [0], [waiting]),
                history={"billing": stuck_history(waiting)},
            )
        )[0].score
        for waiting in (10, 1_000, 100_000)
    ]
    assert scores == sorted(scores)
    assert len(set(scores)) == 3
    assert scores[-1] < 80.0, "consumer findings stay below replication findings"


def test_a_move_on_the_topic_is_ranked_among_the_lag_findings() -> None:
    """A 500-record hot partition outranks the move (70); an under-replicated topic (80)
    would outrank both."""
    moving = ReassignmentReport(
        reassignments=[
            Reassignment(topic="orders", partition=1, replicas=[2, 1], adding=[2], removing=[1])
        ],
        observed_at=NOW,
    )
    findings = diagnose(replace(BASE, lag=HOT, reassignments=moving))
    assert [(f.kind.value, f.subject, f.rank) for f in findings] == [
        ("HotPartition", "orders/2", 1),
        ("ReassignmentInProgress", "topic/orders", 2),
    ]
    (evidence,) = findings[1].evidence
    assert evidence.observed_value == "orders/1 replicas [2, 1], adding [2], removing [1]"
    assert evidence.source == "kafka/prod: ListPartitionReassignments"


def metric(family: MetricFamily, values: dict[str, list[float]]) -> MetricRange:
    """A range of one family, one series per broker, a point a minute up to NOW."""
    return MetricRange(
        family=family,
        unit="ms",
        query=f"q_{family}",
        window=TimeWindow(start=NOW - timedelta(minutes=15), end=NOW),
        step_seconds=60,
        series=[
            MetricSeries(
                labels={"broker": broker},
                points=[
                    MetricPoint(at=NOW - timedelta(minutes=len(points) - i), value=v)
                    for i, v in enumerate(points)
                ],
            )
            for broker, points in values.items()
        ],
        source="prometheus http://prometheus:9090: query_range",
    )


@pytest.mark.parametrize(
    ("metrics", "expected"),
    [
        pytest.param(
            {
                MetricFamily.PRODUCE_LATENCY: metric(
                    MetricFamily.PRODUCE_LATENCY, {"0": [5, 6], "1": [4, 5], "2": [40, 400]}
                )
            },
            [("SlowBroker", "broker/2")],
            id="one-slow-broker",
        ),
        pytest.param(
            {
                MetricFamily.PRODUCE_LATENCY: metric(
                    MetricFamily.PRODUCE_LATENCY, {"0": [5, 60], "1": [4, 50], "2": [40, 70]}
                )
            },
            [],
            id="all-slow-is-not-one-slow-broker",
        ),
        pytest.param(
            {
                MetricFamily.THROTTLE_TIME: metric(
                    MetricFamily.THROTTLE_TIME, {"0": [0, 0], "1": [0, 250]}
                )
            },
            [("QuotaPressure", "brokers/1")],
            id="quota-pressure",
        ),
        pytest.param(
            {MetricFamily.THROTTLE_TIME: metric(MetricFamily.THROTTLE_TIME, {"0": [0, 0]})},
            [],
            id="no-throttling",
        ),
        pytest.param(
            {
                MetricFamily.THROTTLE_TIME: metric(
                    MetricFamily.THROTTLE_TIME, {"1": [250, 0, 0, 0, float("nan")]}
                )
            },
            [],
            id="throttled-only-earlier-in-the-window",
        ),
        pytest.param(
            {
                MetricFamily.THROTTLE_TIME: metric(
                    MetricFamily.THROTTLE_TIME, {"1": [0, 250]}
                ).model_copy(
                    update={
                        "window": TimeWindow(
                            start=NOW - timedelta(minutes=15), end=NOW + timedelta(minutes=5)
                        )
                    }
                )
            },
            [],
            id="its-sensor-silent-since-nan-dropped",
        ),
    ],
)
def test_broker_metric_findings_cite_their_query_and_window(
    metrics: dict[MetricFamily, MetricRange], expected: list[tuple[str, str]]
) -> None:
    findings = diagnose(replace(BASE, metrics=metrics))
    assert [(f.kind.value, f.subject) for f in findings] == expected
    for finding in findings:
        (evidence,) = finding.evidence
        assert evidence.kind is EvidenceKind.METRIC
        assert evidence.query.startswith("q_")
        assert evidence.time_window.start == NOW - timedelta(minutes=15)


def test_a_schema_version_registered_before_the_lag_is_a_lead() -> None:
    history = SchemaHistory(
        topic="orders",
        url="http://registry:8080/apis/ccompat/v7",
        subjects=[
            SubjectHistory(
                subject="orders-value",
                versions=[
                    SchemaVersion(version=1, id=1, registered_at=NOW - timedelta(days=30)),
                    SchemaVersion(version=2, id=7, registered_at=NOW - timedelta(minutes=4)),
                ],
            )
        ],
        observed_at=NOW,
    )
    (finding,) = diagnose(replace(BASE, lag=EVEN, schemas={"orders": history}))
    assert finding.kind is FindingKind.SCHEMA_CHANGED
    assert finding.summary.startswith("orders-value got schema version 2 4 min ago")
    (evidence,) = finding.evidence
    assert evidence.kind is EvidenceKind.SCHEMA
    assert "v2 (id 7, registered 2026-11-25T08:56:00+00:00)" in evidence.observed_value
    assert evidence.time_window.start == NOW - timedelta(days=30)
    assert diagnose(replace(BASE, lag=EVEN, schemas={})) == []


REFUSED = SchemaCompatibility(
    topic="orders",
    subject="orders-value",
    url="http://registry:8080/apis/ccompat/v7",
    schema_type=SchemaType.AVRO,
    compatible=False,
    latest_version=4,
    latest_id=12,
    compatibility_level="BACKWARD",
    messages=["reader type: LONG not compatible with writer type: STRING at /fields/0/type"],
    observed_at=NOW,
)


def test_a_schema_the_registry_refuses_outranks_the_consumers_lag() -> None:
    slow = {
        "orders-app": [
            sample(0.5, lag_total=10, committed=250, log_end=260),
            sample(0, lag_total=30, committed=270, log_end=300),
        ]
    }
    found = diagnose(replace(BASE, lag=EVEN, history=slow, schema_checks=(REFUSED,)))
    assert [f.kind for f in found] == [FindingKind.SCHEMA_INCOMPATIBLE, FindingKind.SLOW_CONSUMER]
    first = found[0]
    assert (first.rank, first.subject, first.proposal) == (1, "topic/orders", None)
    assert "subject orders-value: it is not compatible with version 4 (id 12)" in first.summary
    assert "BACKWARD rule" in first.summary
    assert "/fields/0/type" in first.summary
    (evidence,) = first.evidence
    assert evidence.kind is EvidenceKind.SCHEMA
    assert (
        evidence.query == "check_schema_compatibility topic=orders subject=orders-value version=4"
    )
    assert evidence.time_window == TimeWindow.at(NOW)


@pytest.mark.parametrize(
    "check",
    [
        pytest.param(REFUSED.model_copy(update={"compatible": True}), id="compatible"),
        pytest.param(
            REFUSED.model_copy(update={"latest_version": None, "latest_id": None}),
            id="first-version",
        ),
    ],
)
def test_a_schema_the_registry_would_take_is_no_finding(check: SchemaCompatibility) -> None:
    assert diagnose(replace(BASE, schema_checks=(check,))) == []


@pytest.mark.parametrize(
    ("policy", "at_risk"),
    [("delete", True), ("compact", False), ("compact,delete", True)],
)
def test_retention_is_a_risk_to_the_lag_only_where_it_deletes(policy: str, at_risk: bool) -> None:
    facts = replace(
        BASE,
        lag=lag("orders-app", "orders", [270, 100, 100], [300, 100, 100]),
        configs=configs("orders", retention_ms="60000", cleanup_policy=policy),
        history={
            "orders-app": [
                sample(10, lag_total=30, committed=240, log_end=270),
                sample(0, lag_total=30, committed=270, log_end=300),
            ]
        },
    )
    kinds = [f.kind for f in diagnose(facts)]
    assert (FindingKind.LAG_BEYOND_RETENTION in kinds) is at_risk


def sizes(**by_partition: int) -> LogSizes:
    """orders' replicas on brokers 0-2, each partition ``p<N>`` holding its bytes."""
    return LogSizes(
        replicas=tuple(
            ReplicaLogSize(
                topic="orders",
                partition=int(name[1:]),
                broker=broker,
                log_dir="/var/lib/kafka",
                size=held,
            )
            for name, held in by_partition.items()
            for broker in (0, 1, 2)
        ),
        observed_at=NOW,
        source="kafka/prod: DescribeLogDirs",
    )


def test_a_partition_hot_by_its_lag_and_its_bytes_is_one_finding_citing_both() -> None:
    (finding,) = diagnose(replace(BASE, lag=HOT, log_sizes=sizes(p0=10_000, p1=10_000, p2=9 << 20)))
    assert (finding.kind.value, finding.subject) == ("HotPartition", "orders/2")
    assert "holds 500 of the 550 unread records" in finding.summary, "the higher score speaks"
    assert [e.kind for e in finding.evidence] == [EvidenceKind.LAG, EvidenceKind.METADATA]


@pytest.mark.parametrize(
    ("log_sizes", "hot"),
    [
        pytest.param(sizes(p0=10_000, p1=10_000, p2=9 << 20), True, id="one-takes-most"),
        pytest.param(sizes(p0=10_000, p1=10_000, p2=900_000), False, id="below-the-floor"),
        pytest.param(sizes(p0=4 << 20, p1=4 << 20, p2=9 << 20), False, id="not-three-times"),
    ],
)
def test_a_partition_is_hot_by_bytes_past_a_factor_and_a_floor(
    log_sizes: LogSizes, hot: bool
) -> None:
    found = [
        (f.kind.value, f.subject, f.proposal) for f in diagnose(replace(BASE, log_sizes=log_sizes))
    ]
    assert found == ([("HotPartition", "orders/2", None)] if hot else [])
