"""The review a human reads before approving: risk, blast radius, plan and rollback."""

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from kcr.model import KafkaChangeRequest, RollbackPlan, Stage
from kcr.plan import Review


def review_panel(request: KafkaChangeRequest, review: Review) -> Panel:
    spec = request.spec
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("change", f"{spec.change.type}  {spec.change.target()}")
    head.add_row("cluster", spec.cluster)
    head.add_row("requested by", f"{spec.requested_by.principal} via {spec.requested_by.channel}")
    head.add_row("reason", spec.reason.strip())
    head.add_row("risk", Text(review.risk.value, style=_risk_style(review.risk.value)))
    head.add_row("why", "; ".join(review.risk_reasons))
    head.add_row("approvals", f"{review.required_approvals} required, never by the requester")
    head.add_row("change window", review.window.message)
    head.add_row("blast radius", review.blast_radius.describe())
    head.add_row("data moved", review.data_movement.describe())
    head.add_row("spec hash", review.spec_hash)
    parts: list[Table | Text] = [head, plan_table(review.plan.stages, "Plan")]
    parts.append(rollback_table(review.rollback))
    for line in review.irreversible:
        parts.append(Text(f"cannot be undone: {line}", style="bold red"))
    for line in review.warnings:
        parts.append(Text(f"warning: {line}", style="yellow"))
    for line in review.violations:
        parts.append(Text(f"invalid: {line}", style="bold red"))
    title = f"{request.metadata.name}  ({'VALID' if review.valid else 'INVALID'})"
    return Panel(Group(*parts), title=title, title_align="left")


def plan_table(stages: list[Stage], title: str) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    for column in ("stage", "step", "action", "state", "result"):
        table.add_column(column)
    for stage in stages:
        for step in stage.steps:
            mark = " (irreversible)" if step.irreversible else ""
            table.add_row(
                stage.name, step.id, step.description + mark, step.state.value, step.result
            )
    return table


def rollback_table(rollback: RollbackPlan) -> Table:
    title = "Rollback" + ("" if rollback.reversible else " (partial: see below)")
    table = Table(title=title, title_justify="left")
    table.add_column("step")
    table.add_column("undoes")
    table.add_column("action")
    for step in rollback.steps:
        table.add_row(step.id, step.undoes, step.description)
    if not rollback.steps:
        table.add_row("-", "-", "nothing can be rolled back automatically")
    return table


def _risk_style(risk: str) -> str:
    return {"LOW": "green", "MEDIUM": "yellow", "HIGH": "red", "CRITICAL": "bold red"}[risk]


def print_review(console: Console, request: KafkaChangeRequest, review: Review) -> None:
    console.print(review_panel(request, review))
