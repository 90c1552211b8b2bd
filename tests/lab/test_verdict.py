"""The lab's verdicts: each criterion passes on a good answer and fails on the bad one."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from kcr.lab import scenario as scenario_module
from kcr.lab.assistant import draft_tool
from kcr.lab.runner import read_answer
from kcr.lab.scenario import HEALTHY, NO_CHANGE, Check, Expectation, discover
from kcr.lab.scenarios.hot_partition import HotPartition
from kcr.lab.scenarios.schemas import SchemaIncompatible
from kcr.lab.verdict import DraftSeen, EvidenceSeen, FindingSeen, Observation, judge
from kcr.model import Phase, Risk

EVIDENCE = EvidenceSeen("kafka/lab: DescribeAcls", "check_access User:app Write", "t0/t1")
DENIED = FindingSeen("AccessDenied", "the authorizer refuses User:app", (EVIDENCE,))
GRANT = Expectation(cause="AccessDenied", proposal="AlterAcls", risk=Risk.LOW)
DRAFT = DraftSeen("grant", "AlterAcls", "LOW", irreversible=False, rollback_steps=1)
GOOD = Observation(
    findings=[DENIED],
    draft=DRAFT,
    phase="Succeeded",
    read_back=[Check("same producer succeeds after", True, "delivered")],
    seconds_to_diagnosis=0.4,
    tool_calls=5,
)


def failed(observation: Observation, expected: Expectation = GRANT) -> list[str]:
    return [c.name for c in judge("acl", expected, observation).checks if not c.passed]


def test_a_good_answer_passes_every_criterion() -> None:
    verdict = judge("acl", GRANT, GOOD)
    assert verdict.passed, [c for c in verdict.checks if not c.passed]
    assert verdict.label == "PASS"


@pytest.mark.parametrize(
    ("observation", "fails"),
    [
        (replace(GOOD, findings=[replace(DENIED, kind="SlowConsumer")]), ["cause ranked first"]),
        (replace(GOOD, findings=[]), ["cause ranked first", "evidence: source, query, window"]),
        (
            replace(GOOD, findings=[replace(DENIED, evidence=(replace(EVIDENCE, window=""),))]),
            ["evidence: source, query, window"],
        ),
        (
            replace(GOOD, findings=[replace(DENIED, evidence=(replace(EVIDENCE, query=" "),))]),
            ["evidence: source, query, window"],
        ),
        (replace(GOOD, draft=replace(DRAFT, kind="DeleteTopic")), ["proposal kind"]),
        (replace(GOOD, draft=replace(DRAFT, risk="MEDIUM")), ["risk"]),
        (
            replace(GOOD, draft=replace(DRAFT, irreversible=True)),
            ["irreversibility"],
        ),
        (replace(GOOD, draft=replace(DRAFT, rollback_steps=0)), ["rollback plan"]),
        (replace(GOOD, phase="Failed"), ["outcome"]),
        (
            replace(GOOD, read_back=[Check("same producer succeeds after", False, "refused")]),
            ["same producer succeeds after"],
        ),
        (replace(GOOD, tool_calls=0), ["time and calls recorded"]),
        (replace(GOOD, seconds_to_diagnosis=None), ["time and calls recorded"]),
        (replace(GOOD, error="TimeoutError: gone"), ["run"]),
    ],
    ids=[
        "wrong-cause-first",
        "no-diagnosis",
        "evidence-without-window",
        "evidence-without-query",
        "wrong-kind",
        "wrong-risk",
        "irreversible-grant",
        "no-rollback-plan",
        "failed-outcome",
        "broker-disagrees",
        "no-calls-recorded",
        "no-diagnosis-time",
        "run-error",
    ],
)
def test_a_verdict_that_must_fail_does_fail(observation: Observation, fails: list[str]) -> None:
    assert failed(observation) == fails
    assert not judge("acl", GRANT, observation).passed


def test_where_the_answer_is_no_kafka_change_any_draft_fails() -> None:
    expected = Expectation(cause="SlowConsumer", proposal=NO_CHANGE)
    slow = FindingSeen(
        "SlowConsumer", "lag grew", (EVIDENCE,), runbook="consumer-lag#slow-or-stuck-consumers"
    )
    quiet = Observation(findings=[slow], seconds_to_diagnosis=0.2, tool_calls=3)
    assert judge("slow", expected, quiet).passed
    drafted = replace(quiet, draft=replace(DRAFT, kind="IncreasePartitions"), phase="Succeeded")
    assert failed(drafted, expected) == ["proposal kind", "outcome"]


def test_where_the_answer_is_no_kafka_change_the_finding_names_a_runbook() -> None:
    """The owning team fixes it outside Kafka: the finding must say where to read how."""
    expected = Expectation(cause="HotPartition", proposal=NO_CHANGE)
    hot = FindingSeen("HotPartition", "t/1 holds 93% of t's bytes", (EVIDENCE,))
    seen = Observation(findings=[hot], seconds_to_diagnosis=0.1, tool_calls=1)
    assert failed(seen, expected) == ["runbook for a fix outside Kafka"]
    named = replace(seen, findings=[replace(hot, runbook="consumer-lag#hot-partitions")])
    assert judge("hot", expected, named).passed
    assert failed(replace(seen, findings=[]), expected) == [
        "cause ranked first",
        "evidence: source, query, window",
        "runbook for a fix outside Kafka",
    ]
    grant = replace(GOOD, findings=[DENIED])
    assert "runbook for a fix outside Kafka" not in failed(grant), "a change needs none"


def test_a_flagged_change_must_be_refused_not_run() -> None:
    expected = Expectation(
        cause="NoActiveConsumer",
        proposal="AlterTopicConfig",
        risk=Risk.HIGH,
        irreversible=True,
        approve=False,
    )
    idle = FindingSeen("NoActiveConsumer", "nothing consumes", (EVIDENCE,))
    flagged = DraftSeen(
        "shorter", "AlterTopicConfig", "HIGH", True, 1, ("records older than 2 h are deleted",)
    )
    seen = Observation(
        findings=[idle], draft=flagged, phase="Rejected", seconds_to_diagnosis=1, tool_calls=4
    )
    assert judge("decrease", expected, seen).passed
    assert failed(replace(seen, phase="Succeeded"), expected) == ["outcome"]
    assert failed(replace(seen, draft=replace(flagged, risk="MEDIUM")), expected) == ["risk"]


def test_a_drill_needs_a_healthy_subject_before_it() -> None:
    expected = Expectation(
        cause=HEALTHY, proposal="AlterTopicConfig", outcomes=(Phase.ROLLED_BACK,)
    )
    seen = Observation(
        draft=replace(DRAFT, kind="AlterTopicConfig", risk="MEDIUM"),
        phase="RolledBack",
        seconds_to_diagnosis=1,
        tool_calls=4,
    )
    assert judge("drill", expected, seen).passed
    assert failed(replace(seen, phase="Succeeded"), expected) == ["outcome"]
    assert failed(replace(seen, findings=[DENIED]), expected) == ["cause ranked first"]


def test_a_brokers_own_health_does_not_make_a_healthy_subject_sick() -> None:
    """A slow broker is the estate's (a shared staging cluster, a loaded machine): reported
    beside a healthy scenario's verdict, not counted as its cause; a finding about the
    scenario's own topic still is, and an uncited one still fails the evidence check."""
    expected = Expectation(cause=HEALTHY, proposal="ReassignPartitions", risk=Risk.LOW)
    slow = FindingSeen(
        "SlowBroker",
        "broker 2 answers produce requests in 180 ms",
        (EVIDENCE,),
        subject="broker/2",
    )
    seen = Observation(
        findings=[slow],
        draft=replace(DRAFT, kind="ReassignPartitions"),
        phase="Succeeded",
        seconds_to_diagnosis=1,
        tool_calls=2,
    )
    verdict = judge("drain", expected, seen)
    assert verdict.passed, [c for c in verdict.checks if not c.passed]
    (cause,) = [c for c in verdict.checks if c.name == "cause ranked first"]
    assert cause.detail == "healthy, as it is; also on the brokers: SlowBroker broker/2"
    hot = FindingSeen("HotPartition", "t/1 holds 93%", (), subject="topic/t")
    assert failed(replace(seen, findings=[slow, hot]), expected) == [
        "cause ranked first",
        "evidence: source, query, window",
    ]


def test_a_brokers_own_health_ranked_above_the_asked_cause_is_reported_beside_it() -> None:
    """The rebalancing group asked about is judged on its own finding; the slow broker a
    loaded machine showed is printed with the verdict. Where a slow broker is the expected
    cause it is judged like any other."""
    storm = Expectation(cause="RebalanceStorm", proposal=NO_CHANGE)
    slow = FindingSeen("SlowBroker", "broker 3: 238 ms", (EVIDENCE,), subject="broker/3")
    churn = FindingSeen(
        "RebalanceStorm",
        "members join and leave",
        (EVIDENCE,),
        runbook="consumer-lag#rebalances",
        subject="group/g",
    )
    seen = Observation(findings=[slow, churn], seconds_to_diagnosis=1, tool_calls=1)
    verdict = judge("storm", storm, seen)
    assert verdict.passed, [c for c in verdict.checks if not c.passed]
    (cause,) = [c for c in verdict.checks if c.name == "cause ranked first"]
    assert cause.detail.endswith("; also on the brokers: SlowBroker broker/3")
    assert failed(replace(seen, findings=[slow]), storm) == [
        "cause ranked first",
        "evidence: source, query, window",
        "runbook for a fix outside Kafka",
    ]
    slow_expected = Expectation(cause="SlowBroker", proposal=NO_CHANGE)
    named = replace(slow, runbook="broker-metrics#slow-broker")
    assert judge("slow", slow_expected, replace(seen, findings=[named, churn])).passed
    assert failed(replace(seen, findings=[churn, named]), slow_expected) == ["cause ranked first"]


def test_a_skipped_scenario_is_neither_passed_nor_failed() -> None:
    verdict = replace(judge("acl", GRANT, GOOD), skipped="needs client-user")
    assert verdict.label == "SKIPPED"
    assert not verdict.passed


def test_an_answer_file_is_read_as_the_assistant_wrote_it(tmp_path: Path) -> None:
    path = tmp_path / "answer.json"
    path.write_text(
        json.dumps(
            {
                "findings": [
                    {
                        "kind": "AccessDenied",
                        "subject": "topic/t",
                        "summary": "refused",
                        "evidence": [
                            {
                                "source": "s",
                                "query": "q",
                                "timeWindow": {"start": "a", "end": "b"},
                            },
                            {"source": "s", "query": "q"},
                        ],
                        "proposal": {"change": {"type": "AlterAcls"}, "reason": "r"},
                        "runbook": {"runbook": "authorization-failures", "section": "diagnose"},
                    }
                ]
            }
        )
    )
    (finding,) = read_answer(path)
    assert finding.kind == "AccessDenied"
    assert [e.window for e in finding.evidence] == ["a/b", ""]
    assert finding.proposal == "AlterAcls"
    assert finding.runbook == "authorization-failures#diagnose"
    assert finding.subject == "topic/t"
    assert read_answer(tmp_path / "missing.json") == []


def test_a_proposal_becomes_its_draft_tool_call() -> None:
    tool, arguments = draft_tool(
        {
            "type": "AlterTopicConfig",
            "alterTopicConfig": {
                "topics": ["t"],
                "set": {"retention.ms": "1"},
                "allowUnknownKeys": False,
            },
        }
    )
    assert tool == "draft_alter_topic_config"
    assert arguments == {"topics": ["t"], "set": {"retention.ms": "1"}, "allow_unknown_keys": False}


def test_every_scenario_is_registered_with_a_unique_name_and_expectation() -> None:
    scenarios = discover()
    assert {
        "slow-consumer",
        "rebalance-storm",
        "acl-failure",
        "lag-beyond-retention",
        "retention-decrease",
        "compacted-topic",
        "failover-broker-lost",
        "failover-operator-restart",
        "schema-incompatible",
        "hot-partition",
        "quota-pressure",
        "migration-drain",
    } <= set(scenarios)
    names = list(scenarios)
    assert names.index("failover-broker-lost") == len(names) - 1
    assert names[0] == "quota-pressure", "on brokers no other scenario has loaded yet"


def test_the_schema_diagnosis_must_name_the_subject_and_the_version() -> None:
    scenario = SchemaIncompatible()
    scenario.subject = "kcr-lab-1.schema-incompatible.orders-value"
    named = FindingSeen(
        "SchemaIncompatible",
        f"the schema registry refuses the producer's AVRO schema for subject "
        f"{scenario.subject}: it is not compatible with version 2 (id 2)",
        (EVIDENCE,),
    )
    ((check,),) = [scenario.diagnosis_checks([named])]
    assert (check.name, check.passed) == ("diagnosis names subject and version", True)
    vague = replace(named, summary="the schema registry refuses the producer's schema")
    assert [c.passed for c in scenario.diagnosis_checks([vague])] == [False]
    assert [c.passed for c in scenario.diagnosis_checks([])] == [False]


def test_the_hot_partition_diagnosis_must_name_the_partition() -> None:
    scenario = HotPartition()
    scenario.topic, scenario.hot = "kcr-lab-1.hot-partition.orders", 1
    named = FindingSeen(
        "HotPartition",
        "partition kcr-lab-1.hot-partition.orders/1 holds 2.1 MiB of the 2.3 MiB",
        (EVIDENCE,),
    )
    assert [c.passed for c in scenario.diagnosis_checks([named])] == [True]
    other = replace(named, summary=named.summary.replace("orders/1", "orders/2"))
    assert [c.passed for c in scenario.diagnosis_checks([other])] == [False]


def test_a_scenario_module_added_later_is_found_without_editing_the_runner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "more_scenarios"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "disk.py").write_text(
        "from kcr.lab.scenario import NO_CHANGE, Expectation, Scenario, register\n"
        "@register\n"
        "class Disk(Scenario):\n"
        "    name = 'disk-pressure'\n"
        "    title = 'Disk pressure'\n"
        "    expectation = Expectation(cause='DiskPressure', proposal=NO_CHANGE)\n"
        "    async def build(self, lab): ...\n"
        "    async def read_back(self, lab, drafted): ...\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(scenario_module, "REGISTRY", dict(scenario_module.REGISTRY))
    found = discover("more_scenarios")
    assert found["disk-pressure"].expectation.cause == "DiskPressure"
    assert "schema-incompatible" in found, "the built-in scenarios stay registered"
    with pytest.raises(ValueError, match="two lab scenarios are named 'disk-pressure'"):
        scenario_module.register(type("Other", (found["disk-pressure"],), {}))
