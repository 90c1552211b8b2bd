"""The two stories of ``kcr demo``, told against the running stack.

The assistant investigates and drafts through MCP; a person approves with ``kubectl kcr``;
the operator executes. The first change bakes through an evening traffic peak: lag grows,
but the consumers read as fast as before, so it succeeds. The second creates a dead-letter
topic that joins invoicing's pattern subscription; invoicing cannot start on it, stops
reading, its progress gate fails, and the operator rolls the change back. Each outcome is
checked on the broker itself, not only in status.
"""

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from kcr.embedded.assistant import Assistant
from kcr.embedded.follow import StoryError, await_review, execute, failed_gate
from kcr.embedded.incident import Incident
from kcr.embedded.narration import Narrator
from kcr.embedded.processes import Child, Children
from kcr.embedded.traffic import start_producer
from kcr.embedded.watch import RequestWatch, Status
from kcr.kafka import KafkaPort
from kcr.model import ConsumerProgressGate, Phase, ProgressWindow

SEVEN_DAYS_MS = 7 * 24 * 3_600_000
BAKE_SECONDS = 15
ACTING_VERBS = ("execute", "apply", "approve", "run_", "alter_", "delete_", "reset_")
"""Tool name beginnings that would mean the assistant could change Kafka by itself."""
RESUME_TIMEOUT_SECONDS = 20.0
"""Longest wait for invoicing to read again once the dead-letter topic is gone."""
RESUME_POLL_SECONDS = 1.0


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
    gate: ConsumerProgressGate


@dataclass
class Outcome:
    name: str
    phase: str
    risk: str | None
    requested_by: str
    approved_by: str
    subject: str
    """What the change set: a config key, or a topic."""
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


async def draft(cast: Cast, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    rollout = {"bakeSeconds": BAKE_SECONDS}
    result = await cast.assistant.call(tool, {**arguments, "rollout": rollout})
    review = result["review"]
    cast.narrator.done(
        f"drafted KafkaChangeRequest {result['namespace']}/{result['name']}: "
        f"{review['risk']} risk, {review['requiredApprovals']} approval(s) needed, "
        f"requested by {result['requestedBy']['principal']} (from its token, not its words)"
    )
    return result


async def run(
    cast: Cast, drafted: dict[str, Any], expected: Phase, *, peak: bool = False
) -> Status:
    """Review, approve and execute; with ``peak``, the evening peak runs through the bake."""
    name = drafted["name"]
    await await_review(cast.narrator, cast.watch, name)
    peaks: list[Child] = []
    try:
        return await execute(
            cast.narrator,
            cast.watch,
            cast.kafka,
            reviewer=(cast.reviewer, cast.reviewer_kubeconfig),
            request=(name, cast.namespace, cast.assistant.principal),
            expected=expected,
            when_baking=(lambda: peaks.append(_start_peak(cast))) if peak else None,
        )
    finally:
        for child in peaks:
            cast.children.stop(child)


async def config_value(cast: Cast, key: str) -> str | None:
    (configs,) = await cast.kafka.topic_configs([cast.incident.topic])
    entry = configs.configs.get(key)
    return entry.value if entry is not None else None


async def story_retention(cast: Cast) -> Outcome:
    """Raise retention.ms so the broker keeps the unread orders, baked through the evening
    peak: lag grows, nobody reads slower, and the change stays."""
    narrator, incident = cast.narrator, cast.incident
    key, value = "retention.ms", str(SEVEN_DAYS_MS)
    before = await config_value(cast, key)
    reason = (
        f"{incident.group} is so far behind that {incident.topic}'s 10-minute retention will "
        "delete records it has not read; keep 7 days while the consumer is fixed"
    )
    arguments = {"topics": [incident.topic], "set": {key: value}, "reason": reason}
    drafted = await draft(cast, "draft_alter_topic_config", arguments)
    status = await run(cast, drafted, Phase.SUCCEEDED, peak=True)
    on_broker = await config_value(cast, key)
    if on_broker != value:
        raise StoryError(f"{drafted['name']} Succeeded but the broker has {key}={on_broker}")
    narrator.done(
        f"{drafted['name']} Succeeded; the broker now has {key}={on_broker} (it was {before}). "
        "The peak raised the lag, but no group read slower than before the change: the gate "
        "judges the change, not the traffic"
    )
    return _outcome(
        drafted, status, subject=key, before=before, requested=value, on_broker=on_broker
    )


async def story_dead_letter(cast: Cast) -> Outcome:
    """A dead-letter topic joins invoicing's pattern subscription and stops it: the gate
    sees invoicing read nothing while orders wait, and the operator deletes the topic."""
    narrator, incident = cast.narrator, cast.incident
    topic = incident.dead_letter_topic
    reason = (
        f"give {incident.group} a dead-letter topic for the orders it cannot process, so one "
        "bad record no longer stops it"
    )
    arguments = {"topic": topic, "partitions": 1, "replication_factor": 1, "reason": reason}
    drafted = await draft(cast, "draft_create_topic", arguments)
    narrator.say(
        f"a new topic has no consumers, so the blast radius names no group; but "
        f"{incident.invoicing} subscribes to {incident.invoicing_subscription}, so the cluster "
        f"policy has the progress gate watch it on every change"
    )
    status = await run(cast, drafted, Phase.ROLLED_BACK)
    if topic in {t.name for t in await cast.kafka.list_topics()}:
        raise StoryError(f"{drafted['name']} RolledBack but {topic} is still on the broker")
    narrator.say(f"    invoicing's log: {_last_error(cast)}")
    read = await _reads_again(cast, incident.invoicing)
    narrator.done(
        f"{drafted['name']} RolledBack by the operator on its own: {topic} is gone from the "
        f"broker and {incident.invoicing} reads again ({read})"
    )
    return _outcome(
        drafted,
        status,
        subject=f"topic {topic}",
        before="absent",
        requested="created",
        on_broker="absent",
    )


def _start_peak(cast: Cast) -> Child:
    incident = cast.incident
    peak = start_producer(cast.children, cast.bootstrap, "producer-evening-peak", incident.peak())
    cast.narrator.say(
        f"the change is in, and the evening peak begins (producer pid {peak.pid}): "
        f"{incident.peak_per_second} records/s more to {incident.topic}/"
        f"{incident.peak_partition}, while {incident.group} still reads nothing"
    )
    return peak


def _last_error(cast: Cast) -> str:
    """The reader's own words for why it stopped, from its log."""
    reader = next((c for c in cast.children.launched if c.name == "consumer-invoicing"), None)
    lines = reader.log_tail().splitlines() if reader else []
    stops = [line.split(" ", 3)[-1] for line in lines if "stopped by" in line]
    return stops[-1] if stops else "(no error logged)"


async def _reads_again(cast: Cast, group: str) -> str:
    """Committed offsets advance again: read from the broker, bounded in time."""
    first = await cast.kafka.consumer_positions([group])
    for _ in range(round(RESUME_TIMEOUT_SECONDS / RESUME_POLL_SECONDS)):
        await asyncio.sleep(RESUME_POLL_SECONDS)
        last = await cast.kafka.consumer_positions([group])
        window = ProgressWindow.between(first, last, group)
        if window is not None and window.consumed > 0:
            return f"{window.consumed} records in {window.seconds:.0f}s, lag {window.lag_at_end}"
    raise StoryError(f"{group} did not read again within {RESUME_TIMEOUT_SECONDS:.0f}s")


def _outcome(
    drafted: dict[str, Any],
    status: Status,
    *,
    subject: str,
    before: str | None,
    requested: str,
    on_broker: str | None,
) -> Outcome:
    return Outcome(
        name=drafted["name"],
        phase=status.phase.value,
        risk=status.risk.value if status.risk else None,
        requested_by=drafted["requestedBy"]["principal"],
        approved_by=status.approved_by,
        subject=subject,
        before=before,
        requested=requested,
        on_broker=on_broker,
        gate_result=failed_gate(status) if status.phase is Phase.ROLLED_BACK else "",
        message=status.message,
    )
