"""Consumer groups reading one simulated topic, for the engine's consumer progress gate.

Records arrive at one rate before the change is in place and another after it (a peak
that happens to begin then, or none); each group reads as fast as it can, which the
change may slow or stop. Offsets are integrated over simulated time in small steps, so a
reading at any moment is where a real group would be.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine_world import World
from kcr_builders import T0

from kcr.model import ConsumerPositions, GroupPosition

STEP_SECONDS = 0.1


@dataclass
class Reader:
    group: str
    per_second: float
    """How fast the group can read while the change is not in place."""
    changed_per_second: float | None = None
    """How fast it can read while the change is in place; unchanged when None."""
    commits: bool = True
    """False: the group never committed, so no reading shows it."""
    committed: float = 0.0

    def speed(self, changed: bool) -> float:
        if changed and self.changed_per_second is not None:
            return self.changed_per_second
        return self.per_second


@dataclass
class Flow:
    arriving: float
    """Records a second before the change is in place."""
    readers: list[Reader]
    changed_arriving: float | None = None
    """Records a second while the change is in place; unchanged when None."""
    backlog: float = 0.0
    """Records already waiting for every group at the start."""
    log_end: float = 0.0
    at: datetime = T0
    readings: list[datetime] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.log_end = self.backlog

    def advance(self, now: datetime, changed: bool) -> None:
        """Move from the last reading to ``now`` with the change as it stands now."""
        arriving = self.arriving
        if changed and self.changed_arriving is not None:
            arriving = self.changed_arriving
        steps = int((now - self.at).total_seconds() / STEP_SECONDS)
        for _ in range(steps):
            self.log_end += arriving * STEP_SECONDS
            for reader in self.readers:
                step = reader.speed(changed) * STEP_SECONDS
                reader.committed = min(self.log_end, reader.committed + step)
        self.at += timedelta(seconds=steps * STEP_SECONDS)

    def __call__(self, world: World, groups: tuple[str, ...]) -> ConsumerPositions:
        self.advance(world.now, world.changed)
        self.readings.append(world.now)
        return ConsumerPositions(
            observed_at=world.now,
            groups=[
                GroupPosition(
                    group=r.group,
                    committed=int(r.committed),
                    log_end=int(self.log_end),
                    partitions=1,
                )
                for r in self.readers
                if r.group in groups and r.commits
            ],
        )

    def lag(self, group: str) -> int:
        reader = next(r for r in self.readers if r.group == group)
        return int(self.log_end) - int(reader.committed)
