"""The two stories of ``kcr demo``, told against the running stack.

The assistant investigates and drafts through MCP; a person approves with ``kubectl kcr``;
the operator executes. The first change succeeds. The second bakes through an evening
peak while the lagging group still reads nothing, its lag-growth gate fails, and the
operator rolls it back. Each outcome is checked on the broker itself, not only in status.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from kcr.embedded.assistant import Assistant
from kcr.embedded.incident import Incident
from kcr.embedded.narration import Narrator
from kcr.embedded.processes import Child, Children
from kcr.embedded.reviewer import approve
from kcr.embedded.traffic import start_producer
from kcr.embedded.watch import (
    RequestWatch,
    Status,
    baking_stage,
    in_phase,
    narrate_history,
    seconds_since,
)
from kcr.kafka import KafkaPort
from kcr.model import Phase, StepState
from kcr.model.request import MAX_STAGES
from kcr.policy.authority import FINISHED_PHASES

REVIEW_TIMEOUT_SECONDS = 30.0
STAGE_TIMEOUT_SECONDS = 45.0
"""Longest wait for a stage's steps (or the rollback) between two bakes."""
GATE_TIMEOUT_SECONDS = 30.0
"""Longest wait past the bake time for the operator to check the gate."""
SEVEN_DAYS_MS = 7 * 24 * 3_600_000
ACTING_VERBS = ("execute", "apply", "approve", "run_", "alter_", "delete_", "reset_")
"""Tool name beginnings that would mean the assistant could change Kafka by itself."""
SETTLED = frozenset({*FINISHED_PHASES, Phase.PAUSED})
"""Where a story stops following the operator: the change is done with, or waits for a person."""


class StoryError(RuntimeError):
    """A story did not end as it should; the message says where and what was seen."""


@dataclass
class Cast:
    """Who and what the stories use."""

    narrator: Narrator
    assistant: Assistant
    reviewer: str
    reviewer_kubeconfig: Path
    namespace: str
    kafka: KafkaPort
    watch: RequestWatch
    incident: Incident
    children: Children
    bootstrap: str
    max_lag_growth: int


@dataclass
class Outcome:
    name: str
    phase: str
    risk: str | None
    requested_by: str
    approved_by: str
    config_key: str
    before: str | None
    requested: str
    on_broker: str | None
    gate_result: str = ""
    message: str = ""


async def investigate(cast: Cast) -> dict[str, Any]:
    narrator, incident = cast.narrator, cast.incident
    tools = await cast.assistant.tools()
    acting = [t for t in tools if t.startswith(ACTING_VERBS)]
    if acting:
        raise StoryError(f"the MCP server offers tools that act on Kafka: {acting}")
    drafts = [t for t in tools if t.startswith("draft_")]
    previews = [t for t in tools if t.startswith("preview_")]
    narrator.say(
        f"the server offers {len(tools)} tools to {cast.assistant.principal}: "
        f"{len(tools) - len(drafts) - len(previews)} to read, {len(previews)} to preview and "
        f"{len(drafts)} to draft; none executes, applies or approves anything"
    )
    diagnosis = await cast.assistant.call("explain_current_state", {"topic": incident.topic})
    table = Table(title=f"diagnosis of {diagnosis['subject']}", title_justify="left")
    for column in ("#", "severity", "finding", "summary"):
        table.add_column(column, overflow="fold")
    for finding in diagnosis["findings"]:
        table.add_row(
            str(finding["rank"]), finding["severity"], finding["kind"], finding["summary"]
        )
    narrator.show(table)
    owner = diagnosis.get("owner") or {}
    if owner:
        narrator.say(f"owner: team {owner.get('team')} ({owner.get('contact', '')})")
    kinds = [f["kind"] for f in diagnosis["findings"]]
    if "LagBeyondRetention" not in kinds:
        raise StoryError(
            f"the diagnosis of {incident.topic} did not find the retention risk: {kinds}"
        )
    narrator.done(
        f"{len(kinds)} findings, most urgent: {diagnosis['summary']}; every one cites evidence"
    )
    return diagnosis


async def draft(cast: Cast, key: str, value: str, reason: str) -> dict[str, Any]:
    result = await cast.assistant.call(
        "draft_alter_topic_config",
        {"topics": [cast.incident.topic], "set": {key: value}, "reason": reason},
    )
    review = result["review"]
    cast.narrator.done(
        f"drafted KafkaChangeRequest {result['namespace']}/{result['name']}: "
        f"{review['risk']} risk, {review['requiredApprovals']} approval(s) needed, "
        f"requested by {result['requestedBy']['principal']} (from its token, not its words)"
    )
    return result


async def await_review(cast: Cast, name: str) -> Status:
    label = f"the operator reviews {name}"
    with cast.narrator.waiting(label, REVIEW_TIMEOUT_SECONDS) as wait:
        status = await cast.watch.until(name, in_phase(Phase.AWAITING_APPROVAL, *SETTLED), wait)
    if status.phase is not Phase.AWAITING_APPROVAL:
        raise StoryError(f"{name} is {status.phase.value}, not AwaitingApproval: {status.message}")
    show_review(cast.narrator, name, status)
    return status


def show_review(narrator: Narrator, name: str, status: Status) -> None:
    narrator.done(
        f"{name} awaits approval: risk {status.risk.value if status.risk else '?'}, "
        f"spec hash {status.spec_hash or '?'}"
    )
    radius = status.blast_radius
    if radius is not None:
        narrator.say(f"  blast     {radius.describe()}")
    for stage in status.plan.stages if status.plan else []:
        for step in stage.steps:
            narrator.say(f"  plan      stage {stage.name}: {step.description}")
    for step in status.rollback_plan.steps if status.rollback_plan else []:
        narrator.say(f"  rollback  {step.description}")


async def execute(
    cast: Cast, name: str, expected: Phase, after_approval: Callable[[], None] | None = None
) -> Status:
    """Approve as the reviewer and follow the execution to its end."""
    narrator = cast.narrator
    narrator.say(
        f"the requester ({cast.assistant.principal}) may not approve its own change; "
        f"{cast.reviewer} reviews it"
    )
    output = await approve(cast.reviewer_kubeconfig, cast.reviewer, name, cast.namespace, narrator)
    narrator.done(output)
    if after_approval is not None:
        after_approval()
    seen: int | None = None
    for _ in range(MAX_STAGES + 1):
        with narrator.waiting(f"{name} executes", STAGE_TIMEOUT_SECONDS) as wait:
            status = await cast.watch.until(name, _baking_or_finished, wait)
        seen = narrate_history(narrator, status, _approved_at(status) if seen is None else seen)
        stage, _ = baking_stage(status)
        if not stage:
            break
        await bake(cast, name, stage)
    narrate_gates(narrator, status)
    if status.phase is not expected:
        raise StoryError(
            f"{name} ended {status.phase.value}, expected {expected.value}: {status.message}"
        )
    return status


def _baking_or_finished(status: Status) -> bool:
    return status.phase in SETTLED or bool(baking_stage(status)[0])


def narrate_gates(narrator: Narrator, status: Status) -> None:
    """Each stage's health gate verdict, one check a line, in the operator's words."""
    for stage in status.plan.stages if status.plan else []:
        if not stage.gate_result:
            continue
        verdict = "FAILED" if stage.gate_state is StepState.FAILED else "passed"
        mark = narrator.failed if verdict == "FAILED" else narrator.done
        mark(f"health gate after stage {stage.name}: {verdict}")
        for check in stage.gate_result.split("; "):
            narrator.say(f"    {check}")


def _approved_at(status: Status) -> int:
    """History entries up to (not including) the approval were narrated already."""
    for index, entry in enumerate(status.history):
        if entry.phase is Phase.APPROVED:
            return index
    return len(status.history)


async def bake(cast: Cast, name: str, stage: str) -> None:
    """Follow the bake on a bar, with the watched group's lag against the gate's bound."""
    body = await cast.watch.read(name)
    seconds = float(body["spec"].get("rollout", {}).get("bakeSeconds", 30))
    status = Status.model_validate(body.get("status") or {})
    group = cast.incident.group
    baseline = _baseline(status, stage, group)
    growth = 0
    label = f"bake of stage {stage}"
    with cast.narrator.waiting(label, seconds + GATE_TIMEOUT_SECONDS, total=seconds) as wait:

        async def detail(current: Status) -> str:
            nonlocal growth
            _, started = baking_stage(current)
            wait.show(completed=min(seconds, seconds_since(started)))
            lag = await _group_lag(cast)
            growth = lag - baseline if baseline is not None else 0
            return f"lag {growth:+,}, gate ≤ +{cast.max_lag_growth:,}"

        await cast.watch.until(name, lambda s: not baking_stage(s)[0], wait, detail=detail)
    cast.narrator.done(
        f"stage {stage} baked {seconds:.0f}s; the lag of {group} grew {growth:+,} meanwhile "
        f"(the gate allows +{cast.max_lag_growth:,})"
    )


def _baseline(status: Status, stage: str, group: str) -> int | None:
    for candidate in status.plan.stages if status.plan else []:
        if candidate.name == stage:
            return candidate.lag_baseline.get(group)
    return None


async def _group_lag(cast: Cast) -> int:
    report = await cast.kafka.lag_report([cast.incident.group], describe_groups=False)
    row = report.group(cast.incident.group)
    return row.total_lag if row is not None else 0


async def config_value(cast: Cast, key: str) -> str | None:
    (configs,) = await cast.kafka.topic_configs([cast.incident.topic])
    entry = configs.configs.get(key)
    return entry.value if entry is not None else None


async def story_retention(cast: Cast) -> Outcome:
    """Raise retention.ms so the broker keeps the unread orders: approved, baked, done."""
    narrator, incident = cast.narrator, cast.incident
    key, value = "retention.ms", str(SEVEN_DAYS_MS)
    before = await config_value(cast, key)
    drafted = await draft(
        cast,
        key,
        value,
        f"{incident.group} is so far behind that {incident.topic}'s 10-minute retention will "
        "delete records it has not read; keep 7 days while the consumer is fixed",
    )
    name = drafted["name"]
    await await_review(cast, name)
    status = await execute(cast, name, Phase.SUCCEEDED)
    on_broker = await config_value(cast, key)
    if on_broker != value:
        raise StoryError(f"{name} Succeeded but the broker has {key}={on_broker}, not {value}")
    narrator.done(f"{name} Succeeded; the broker now has {key}={on_broker} (it was {before})")
    return _outcome(
        drafted, status=status, key=key, before=before, requested=value, on_broker=on_broker
    )


async def story_rollback(cast: Cast) -> Outcome:
    """A compression change baked through a traffic peak: the lag gate fails, it rolls back."""
    narrator, incident = cast.narrator, cast.incident
    key, value = "compression.type", "zstd"
    before = await config_value(cast, key)
    drafted = await draft(
        cast,
        key,
        value,
        f"with 7 days of retention {incident.topic} will hold far more data; store it "
        "compressed with zstd to bound its disk use",
    )
    name = drafted["name"]
    await await_review(cast, name)
    peaks: list[Child] = []
    try:
        status = await execute(
            cast, name, Phase.ROLLED_BACK, after_approval=lambda: peaks.append(_start_peak(cast))
        )
    finally:
        for peak in peaks:
            cast.children.stop(peak)
    on_broker = await config_value(cast, key)
    if on_broker != before:
        raise StoryError(f"{name} RolledBack but the broker has {key}={on_broker}, not {before}")
    narrator.done(
        f"{name} RolledBack by the operator on its own; the broker has {key}={on_broker} "
        f"again (the change had set {value})"
    )
    return _outcome(
        drafted,
        status=status,
        key=key,
        before=before,
        requested=value,
        on_broker=on_broker,
        gate_result=_failed_gate(status),
    )


def _start_peak(cast: Cast) -> Child:
    incident = cast.incident
    peak = start_producer(cast.children, cast.bootstrap, "producer-evening-peak", incident.peak())
    cast.narrator.say(
        f"meanwhile the evening peak begins (producer pid {peak.pid}): "
        f"{incident.peak_per_second} records/s to {incident.topic}/{incident.peak_partition}, "
        f"while {incident.group} still reads nothing"
    )
    return peak


def _failed_gate(status: Status) -> str:
    for stage in status.plan.stages if status.plan else []:
        if stage.gate_state is StepState.FAILED:
            return f"after stage {stage.name}: {stage.gate_result}"
    return status.message


def _outcome(
    drafted: dict[str, Any],
    *,
    status: Status,
    key: str,
    before: str | None,
    requested: str,
    on_broker: str | None,
    gate_result: str = "",
) -> Outcome:
    return Outcome(
        name=drafted["name"],
        phase=status.phase.value,
        risk=status.risk.value if status.risk else None,
        requested_by=drafted["requestedBy"]["principal"],
        approved_by=status.approved_by,
        config_key=key,
        before=before,
        requested=requested,
        on_broker=on_broker,
        gate_result=gate_result,
        message=status.message,
    )
