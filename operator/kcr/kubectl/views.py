"""What `kubectl kcr list` and `kubectl kcr describe` print: rich tables, no I/O."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from kcr.cli.review_view import plan_table, rollback_table
from kcr.kubectl.annotations import (
    APPROVED_BY,
    APPROVED_SPEC_HASH,
    REJECTED_BY,
    ROLLBACK_APPROVED_BY,
)
from kcr.model import (
    KafkaChangeRequestSpec,
    KafkaChangeRequestStatus,
    Phase,
    Plan,
    RollbackReview,
    StepState,
    explain,
)
from kcr.plan import spec_hash
from kcr.policy.approvals import parse_approvers

PHASE_STYLE = {
    Phase.SUCCEEDED: "green",
    Phase.ROLLED_BACK: "yellow",
    Phase.EXECUTING: "cyan",
    Phase.ROLLING_BACK: "yellow",
    Phase.AWAITING_APPROVAL: "magenta",
    Phase.PAUSED: "magenta",
    Phase.AWAITING_ROLLBACK_APPROVAL: "magenta",
    Phase.FAILED: "bold red",
    Phase.ROLLBACK_FAILED: "bold red",
    Phase.INVALID: "red",
    Phase.STALE: "red",
}
RISK_STYLE = {"LOW": "green", "MEDIUM": "yellow", "HIGH": "red", "CRITICAL": "bold red"}


@dataclass(frozen=True)
class Parsed:
    """One KafkaChangeRequest as read from the API, parsed as far as it parses."""

    raw: dict[str, Any]
    spec: KafkaChangeRequestSpec | None
    status: KafkaChangeRequestStatus | None
    problems: list[str]

    @property
    def name(self) -> str:
        return str(self.raw["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.raw["metadata"].get("namespace", ""))

    @property
    def annotations(self) -> dict[str, str]:
        return dict(self.raw["metadata"].get("annotations") or {})

    @property
    def phase(self) -> Phase:
        return self.status.phase if self.status is not None else Phase.PENDING


def parse(raw: dict[str, Any]) -> Parsed:
    """Spec and status parse separately, so a status the model cannot read still shows."""
    problems: list[str] = []
    spec = status = None
    try:
        spec = KafkaChangeRequestSpec.model_validate(raw.get("spec") or {})
    except ValidationError as error:
        problems += [f"spec.{line}" for line in explain(error)]
    if raw.get("status"):
        try:
            status = KafkaChangeRequestStatus.model_validate(raw["status"])
        except ValidationError as error:
            problems += [f"status.{line}" for line in explain(error)]
    return Parsed(raw, spec, status, problems)


def age(created: str | None, now: datetime) -> str:
    """kubectl's AGE: the largest unit that is at least 1 (``45s``, ``12m``, ``3h``, ``9d``)."""
    if not created:
        return "<unknown>"
    seconds = int((now - datetime.fromisoformat(created.replace("Z", "+00:00"))).total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def list_table(requests: list[Parsed], now: datetime, all_namespaces: bool) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    columns = ["NAME", "PHASE", "RISK", "CHANGE", "TARGET", "REQUESTED-BY", "APPROVED-BY", "AGE"]
    for column in (["NAMESPACE"] if all_namespaces else []) + columns:
        table.add_column(column, no_wrap=True)
    for request in requests:
        status = request.status
        spec = request.spec
        row: list[RenderableType] = [
            request.name,
            _phase_text(request.phase),
            _risk_text(status.risk.value if status and status.risk else None),
            spec.change.type if spec else "?",
            (status.target if status and status.target else None)
            or (spec.change.target() if spec else "?"),
            spec.requested_by.principal if spec else "?",
            (status.approved_by if status and status.approved_by else None)
            or ",".join(parse_approvers(request.annotations.get(APPROVED_BY)))
            or "-",
            age(request.raw["metadata"].get("creationTimestamp"), now),
        ]
        table.add_row(*([request.namespace] if all_namespaces else []), *row)
    return table


def describe(request: Parsed, now: datetime) -> Group:
    parts: list[RenderableType] = [_header(request, now)]
    for problem in request.problems:
        parts.append(Text(f"cannot read {problem}", style="red"))
    status = request.status
    if status is not None and status.conditions:
        parts.append(_conditions(status, now))
    plan = status.plan if status is not None else None
    if plan is not None and plan.stages:
        parts.append(plan_table(plan.stages, "Plan"))
        parts.append(_gates(plan))
    elif request.spec is not None:
        parts.append(Text("Plan: not computed yet (the operator plans after validation)"))
    if status is not None and status.rollback_plan is not None:
        parts.append(rollback_table(status.rollback_plan))
        if any(step.state is not StepState.PENDING for step in status.rollback_plan.steps):
            parts.append(_rollback_states(status))
        for reason in status.rollback_plan.irreversible_reasons:
            parts.append(Text(f"cannot be undone: {reason}", style="bold red"))
    if status is not None and status.rollback_review is not None:
        parts.append(_rollback_review(status.rollback_review, request, now))
    if request.spec is not None:
        parts.append(_evidence(request.spec, now))
    if status is not None:
        parts.append(_history(status, now))
    return Group(*parts)


def _header(request: Parsed, now: datetime) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    spec, status = request.spec, request.status
    grid.add_row("Name", f"{request.namespace}/{request.name}")
    grid.add_row("Phase", _phase_text(request.phase))
    if status is not None and status.risk is not None:
        risk = _risk_text(status.risk.value)
        if status.irreversible:
            risk.append("  (irreversible)", style="bold red")
        grid.add_row("Risk", risk)
    if spec is not None:
        grid.add_row("Change", f"{spec.change.type}  {spec.change.target()}")
        grid.add_row("Cluster", spec.cluster)
        who = spec.requested_by
        extra = ", ".join(
            part
            for part in (
                f"tenant {who.tenant}" if who.tenant else "",
                f"correlation {who.correlation_id}" if who.correlation_id else "",
            )
            if part
        )
        grid.add_row(
            "Requested by",
            f"{who.principal} via {who.channel.value}" + (f" ({extra})" if extra else ""),
        )
        grid.add_row("Reason", spec.reason.strip())
    if status is not None and status.blast_radius is not None:
        grid.add_row("Blast radius", status.blast_radius.describe())
    if status is not None and status.data_movement is not None:
        grid.add_row("Data moved", status.data_movement.describe())
    grid.add_row("Approvals", _approvals(request, now))
    rejecters = parse_approvers(request.annotations.get(REJECTED_BY))
    if rejecters:
        grid.add_row("Rejected by", ", ".join(rejecters))
    if spec is not None:
        grid.add_row("Spec hash", _hash_line(request, spec))
    if status is not None and status.message:
        grid.add_row("Message", status.message)
    if status is not None and status.rollback_cause:
        grid.add_row("Rollback cause", status.rollback_cause)
    grid.add_row("Age", age(request.raw["metadata"].get("creationTimestamp"), now))
    return grid


def _approvals(request: Parsed, now: datetime) -> str:
    status = request.status
    if status is not None and status.approvals:
        return "; ".join(
            f"{a.user} ({age(a.at.isoformat(), now)} ago, spec {a.spec_hash[:12]})"
            for a in status.approvals
        )
    named = parse_approvers(request.annotations.get(APPROVED_BY))
    if named:
        return f"{', '.join(named)} (annotated, not yet accepted by the operator)"
    return "none yet"


def _rollback_review(review: RollbackReview, request: Parsed, now: datetime) -> Table:
    """A rollback after Succeeded is a change of its own: what it runs, its risk, who
    asked, and the approvals it has against the ones it needs."""
    grid = Table.grid(padding=(0, 2))
    grid.title = "Rollback review"
    grid.title_justify = "left"
    grid.add_column(style="bold")
    grid.add_column()
    asked = age(review.requested_at.isoformat(), now)
    grid.add_row("Asked for by", f"{review.requested_by} ({asked} ago; may not approve it)")
    grid.add_row("Steps", ", ".join(review.steps) or "-")
    grid.add_row("Risk", _risk_text(review.risk.value))
    for reason in review.risk_reasons:
        grid.add_row("", reason)
    if review.approvals:
        given = "; ".join(f"{a.user} ({age(a.at.isoformat(), now)} ago)" for a in review.approvals)
    else:
        named = parse_approvers(request.annotations.get(ROLLBACK_APPROVED_BY))
        given = f"{', '.join(named)} (annotated)" if named else "none yet"
    grid.add_row("Approvals", f"{given}; {review.required_approvals} required")
    grid.add_row("Rollback hash", review.hash)
    return grid


def _hash_line(request: Parsed, spec: KafkaChangeRequestSpec) -> Text:
    computed = spec_hash(spec)
    line = Text(computed)
    approved = request.annotations.get(APPROVED_SPEC_HASH)
    if approved and approved != computed:
        line.append(f"  (approvals were given for {approved[:12]})", style="bold red")
    status_hash = request.status.spec_hash if request.status is not None else None
    if status_hash and status_hash != computed:
        line.append(f"  (the operator computed {status_hash[:12]})", style="red")
    return line


def _conditions(status: KafkaChangeRequestStatus, now: datetime) -> Table:
    table = Table(title="Conditions", title_justify="left")
    for column in ("type", "status", "reason", "message", "since"):
        table.add_column(column)
    for condition in status.conditions:
        table.add_row(
            condition.type,
            condition.status.value,
            condition.reason,
            condition.message,
            age(condition.last_transition_time.isoformat(), now),
        )
    return table


def _gates(plan: Plan) -> Table:
    table = Table(title="Gates", title_justify="left")
    for column in ("after stage", "state", "result"):
        table.add_column(column)
    for stage in plan.stages:
        table.add_row(stage.name, stage.gate_state.value, stage.gate_result or "-")
    return table


def _rollback_states(status: KafkaChangeRequestStatus) -> Table:
    table = Table(title="Rollback progress", title_justify="left")
    for column in ("step", "state", "result"):
        table.add_column(column)
    assert status.rollback_plan is not None
    for step in status.rollback_plan.steps:
        table.add_row(step.id, step.state.value, step.result or "-")
    return table


def _evidence(spec: KafkaChangeRequestSpec, now: datetime) -> Table:
    table = Table(title="Evidence", title_justify="left")
    for column in ("kind", "source", "query", "observed", "captured"):
        table.add_column(column)
    for item in spec.evidence:
        table.add_row(
            item.kind.value,
            item.source,
            item.query or "-",
            item.observed_value,
            f"{age(item.captured_at.isoformat(), now)} ago",
        )
    if not spec.evidence:
        table.add_row("-", "-", "-", "no evidence attached", "-")
    return table


def _history(status: KafkaChangeRequestStatus, now: datetime) -> Table:
    table = Table(title="History", title_justify="left")
    for column in ("when", "phase", "reason", "message"):
        table.add_column(column)
    for entry in status.history:
        table.add_row(
            f"{age(entry.at.isoformat(), now)} ago",
            entry.phase.value,
            entry.reason,
            entry.message,
        )
    if not status.history:
        table.add_row("-", "-", "-", "nothing recorded yet")
    return table


def _phase_text(phase: Phase) -> Text:
    return Text(phase.value, style=PHASE_STYLE.get(phase, ""))


def _risk_text(risk: str | None) -> Text:
    return Text(risk or "-", style=RISK_STYLE.get(risk or "", ""))


def now_utc() -> datetime:
    return datetime.now(UTC)
