"""Following one request as a person would: its review, its approval, its execution.

Everything shown is read from the request's status on the Kubernetes API (and, during a
bake, from the broker), never from what the demo expects to happen.
"""

from collections.abc import Callable
from pathlib import Path

from kcr.embedded.bake import follow_bake
from kcr.embedded.narration import Narrator
from kcr.embedded.reviewer import approve
from kcr.embedded.watch import (
    RequestWatch,
    Status,
    baking_stage,
    in_phase,
    narrate_history,
)
from kcr.kafka import KafkaPort
from kcr.model import Phase, ProgressWindow, StepState
from kcr.model.request import MAX_STAGES
from kcr.policy.authority import FINISHED_PHASES

REVIEW_TIMEOUT_SECONDS = 30.0
STAGE_TIMEOUT_SECONDS = 45.0
"""Longest wait for a stage's steps (or the rollback, or the baseline) between two bakes."""
SETTLED = frozenset({*FINISHED_PHASES, Phase.PAUSED})
"""Where a story stops following the operator: the change is done with, or waits for a person."""


class StoryError(RuntimeError):
    """A story did not end as it should; the message says where and what was seen."""


async def await_review(narrator: Narrator, watch: RequestWatch, name: str) -> Status:
    label = f"the operator reviews {name}"
    with narrator.waiting(label, REVIEW_TIMEOUT_SECONDS) as wait:
        status = await watch.until(name, in_phase(Phase.AWAITING_APPROVAL, *SETTLED), wait)
    if status.phase is not Phase.AWAITING_APPROVAL:
        raise StoryError(f"{name} is {status.phase.value}, not AwaitingApproval: {status.message}")
    show_review(narrator, name, status)
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
    narrator: Narrator,
    watch: RequestWatch,
    kafka: KafkaPort,
    *,
    reviewer: tuple[str, Path],
    request: tuple[str, str, str],
    expected: Phase,
    when_baking: Callable[[], None] | None = None,
) -> Status:
    """Approve as ``reviewer`` (name, kubeconfig) the ``request`` (name, namespace,
    requester), and follow the execution to its end; ``when_baking`` runs as the first
    bake begins, after the baseline and the first write."""
    person, kubeconfig = reviewer
    name, namespace, requester = request
    narrator.say(f"the requester ({requester}) may not approve its own change; {person} reviews it")
    narrator.done(await approve(kubeconfig, person, name, namespace, narrator))
    seen: int | None = None
    seen_bake = False
    for _ in range(MAX_STAGES + 1):
        with narrator.waiting(f"{name} executes", STAGE_TIMEOUT_SECONDS) as wait:
            status = await watch.until(name, _baking_or_finished, wait)
        seen = narrate_history(narrator, status, _approved_at(status) if seen is None else seen)
        stage, _ = baking_stage(status)
        if not stage:
            break
        if seen_bake is False:
            narrate_baseline(narrator, status)
            if when_baking is not None:
                when_baking()
            seen_bake = True
        await follow_bake(narrator, watch, kafka, name, stage)
    narrate_gates(narrator, status)
    if status.phase is not expected:
        raise StoryError(
            f"{name} ended {status.phase.value}, expected {expected.value}: {status.message}"
        )
    return status


def _baking_or_finished(status: Status) -> bool:
    return status.phase in SETTLED or bool(baking_stage(status)[0])


def _approved_at(status: Status) -> int:
    """History entries up to (not including) the approval were narrated already."""
    for index, entry in enumerate(status.history):
        if entry.phase is Phase.APPROVED:
            return index
    return len(status.history)


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


def narrate_baseline(narrator: Narrator, status: Status) -> None:
    """How fast the watched groups read before the first write, as the operator measured."""
    baseline = status.baseline.consumer_positions if status.baseline else []
    if len(baseline) != 2:
        return
    first, last = baseline
    windows = [ProgressWindow.between(first, last, g.group) for g in first.groups]
    rates = [f"{g.group} {w.rate:,.1f}/s" for g, w in zip(first.groups, windows, strict=True) if w]
    seconds = (last.observed_at - first.observed_at).total_seconds()
    narrator.done(
        f"the operator measured for {seconds:.0f}s before the first write: {', '.join(rates)}"
    )


def failed_gate(status: Status) -> str:
    for stage in status.plan.stages if status.plan else []:
        if stage.gate_state is StepState.FAILED:
            return f"after stage {stage.name}: {stage.gate_result}"
    return status.message
