"""Following a bake: how fast each judged group reads now, against its rate before.

The numbers come from the broker (the same positions the operator reads) and from the
request's status (the baseline and the positions when the bake began), so what a person
watches is what the gate will judge.
"""

from kcr.embedded.narration import Narrator
from kcr.embedded.watch import RequestWatch, Status, baking_stage, seconds_since
from kcr.kafka import KafkaPort
from kcr.model import ProgressWindow

GATE_TIMEOUT_SECONDS = 30.0
"""Longest wait past the bake time for the operator to check the gate."""


async def follow_bake(
    narrator: Narrator, watch: RequestWatch, kafka: KafkaPort, name: str, stage: str
) -> None:
    """A bar for the bake; its line shows each judged group's reading rate as it goes."""
    body = await watch.read(name)
    seconds = float(body["spec"].get("rollout", {}).get("bakeSeconds", 30))
    seen = ""
    label = f"bake of stage {stage}"
    with narrator.waiting(label, seconds + GATE_TIMEOUT_SECONDS, total=seconds) as wait:

        async def detail(current: Status) -> str:
            nonlocal seen
            _, started = baking_stage(current)
            wait.show(completed=min(seconds, seconds_since(started)))
            seen = await reading(kafka, current, stage) or seen
            return seen

        await watch.until(name, lambda s: not baking_stage(s)[0], wait, detail=detail)
    narrator.done(f"stage {stage} baked {seconds:.0f}s" + (f": {seen}" if seen else ""))


async def reading(kafka: KafkaPort, status: Status, stage: str) -> str:
    """``group 104/s (6/s before), lag +0`` for each group the stage's gate will judge."""
    start = next(
        (s.bake_positions for s in (status.plan.stages if status.plan else []) if s.name == stage),
        None,
    )
    if start is None or not start.groups:
        return ""
    now = await kafka.consumer_positions([g.group for g in start.groups])
    taken = status.baseline.consumer_positions if status.baseline else []
    parts = []
    for group in start.groups:
        bake = ProgressWindow.between(start, now, group.group)
        before = ProgressWindow.between(taken[0], taken[-1], group.group) if taken else None
        if bake is None or bake.seconds <= 0:
            continue
        rate = f"{before.rate:,.0f}/s before" if before else "no rate before"
        lag = bake.lag_at_end - bake.lag_at_start
        parts.append(f"{group.group} reads {bake.rate:,.0f}/s ({rate}), lag {lag:+,}")
    return "; ".join(parts)
