"""The consumer progress gate: a baseline before the first write, and a verdict per group.

A group is judged by what it read during the bake against what it would have read at its
pre-change rate, capped by what there was to read (its lag when the bake began plus what
arrived since). A traffic peak adds records but does not slow a healthy consumer, so it
passes; a consumer the change stopped reads nothing while records wait, so it fails. A
group that read nothing before the change has no rate to keep and is not judged: that
stall is not the change's doing.
"""

from datetime import timedelta

from kcr.engine import gates
from kcr.engine.context import Context, clip
from kcr.engine.effects import ProgressCheck, SampleProgress, Transition, Wait
from kcr.engine.observations import CheckResult, GateCheck, ProgressRead
from kcr.engine.reasons import Reason
from kcr.engine.rollback import abort_execution
from kcr.model import (
    ConsumerPositions,
    GroupProgress,
    ProgressVerdict,
    ProgressWindow,
    StepState,
)
from kcr.model.progress import MIN_PROGRESS_BAKE_SECONDS
from kcr.plan import all_steps

MAX_SHOWN = 5
MESSAGE_LIMIT = 1024


def measure_baseline(ctx: Context) -> Transition | None:
    """Before the first write: read the watched groups twice, ``baselineSeconds`` apart.

    None once the baseline is complete (or not wanted). Nothing is written meanwhile, so
    a restarted operator only reads again; the window is what the two readings say.
    """
    gate = gates.progress_gate(ctx)
    groups = gates.watched_groups(ctx)
    baseline = ctx.status.baseline
    plan = ctx.status.plan
    if gate is None or not groups or baseline is None or plan is None:
        return None
    taken = baseline.consumer_positions
    if len(taken) >= 2 or any(s.state is not StepState.PENDING for s in all_steps(plan)):
        return None
    if ctx.resource.signals.abort:
        return abort_execution(ctx)
    window = timedelta(seconds=gate.baseline_seconds)
    if taken and ctx.now < taken[0].observed_at + window:
        return ctx.finish(Wait(taken[0].observed_at + window))
    read = ctx.observed.answer
    if not isinstance(read, ProgressRead) or read.stage is not None:
        return ctx.finish(SampleProgress(None, groups))
    ctx.status.baseline = baseline.model_copy(
        update={"consumer_positions": [*taken, read.positions]}
    )
    if not taken:
        ctx.note(
            Reason.MEASURING_BASELINE,
            f"measuring how fast {_named(groups)} read for {gate.baseline_seconds}s before "
            "the first write",
        )
        return ctx.finish(Wait(read.positions.observed_at + window))
    rates = [_baseline_rate(taken[0], read.positions, g) for g in groups]
    ctx.note(Reason.BASELINE_MEASURED, "before the first write: " + _joined(rates))
    return None


def _baseline_rate(first: ConsumerPositions, last: ConsumerPositions, group: str) -> str:
    window = ProgressWindow.between(first, last, group)
    if window is None:
        return f"{group} has no committed offsets"
    return f"{group} read {window.rate:.1f}/s over {window.seconds:.0f}s (lag {window.lag_at_end})"


def judge(check: ProgressCheck, now: ConsumerPositions) -> tuple[CheckResult, list[GroupProgress]]:
    """The check's result, failed groups named first, and the verdict on every group."""
    verdicts = [judge_group(check, now, group) for group in check.groups]
    failed = [v for v in verdicts if v.verdict is ProgressVerdict.FAILED]
    shown = failed or verdicts
    text = _joined([v.message for v in shown])
    return CheckResult(GateCheck.CONSUMER_PROGRESS, not failed, text), verdicts


def judge_group(check: ProgressCheck, now: ConsumerPositions, group: str) -> GroupProgress:
    baseline = ProgressWindow.between(*check.baseline, group) if len(check.baseline) == 2 else None
    bake = ProgressWindow.between(check.bake_start, now, group)

    def verdict(outcome: ProgressVerdict, message: str) -> GroupProgress:
        return GroupProgress(
            group=group,
            verdict=outcome,
            baseline=baseline,
            bake=bake,
            message=clip(f"{group} {message}", MESSAGE_LIMIT),
        )

    not_judged = ProgressVerdict.NOT_JUDGED
    if len(check.baseline) < 2:
        return verdict(not_judged, "not judged: no baseline was measured before the first write")
    if baseline is None:
        return verdict(not_judged, "not judged: it had no committed offsets before the change")
    if bake is None:
        return verdict(not_judged, "not judged: its committed offsets are gone since the bake")
    if baseline.consumed < 0 or bake.consumed < 0:
        return verdict(
            not_judged, "not judged: its committed offsets moved back (an offset reset?)"
        )
    if baseline.consumed == 0:
        return verdict(
            not_judged,
            f"not judged: it read nothing in the {baseline.seconds:.0f}s before the change, so "
            "it has no rate to keep",
        )
    if bake.seconds < MIN_PROGRESS_BAKE_SECONDS:
        return verdict(
            not_judged, f"not judged: a {bake.seconds:.0f}s bake is too short to measure"
        )
    waiting = bake.lag_at_start + max(0, bake.arrived)
    expected = min(baseline.rate * bake.seconds, waiting)
    summary = (
        f"read {bake.rate:.1f}/s over the {bake.seconds:.0f}s bake ({bake.consumed} of "
        f"{waiting} waiting), {baseline.rate:.1f}/s in the {baseline.seconds:.0f}s before "
        "the change"
    )
    if bake.consumed >= expected * check.gate.min_percent / 100:
        return verdict(ProgressVerdict.PASSED, summary)
    return verdict(
        ProgressVerdict.FAILED, f"{summary}: below {check.gate.min_percent}% of its baseline"
    )


def _named(groups: tuple[str, ...]) -> str:
    shown = ", ".join(groups[:MAX_SHOWN])
    more = len(groups) - MAX_SHOWN
    return f"{shown} and {more} more group(s)" if more > 0 else shown


def _joined(parts: list[str]) -> str:
    more = len(parts) - MAX_SHOWN
    return "; ".join(parts[:MAX_SHOWN]) + (f"; and {more} more" if more > 0 else "")
