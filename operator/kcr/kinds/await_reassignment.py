"""AwaitReassignment: a step only. Waits until partitions sit on their target replicas.

It answers "not yet" (a retriable error, so the engine asks again every few seconds) while
ListPartitionReassignments lists a move of its partitions, with the bytes left to copy; a
move of one of them to anywhere else is cancelled and the move to the target started, so
the same step also carries a rollback: cancel the change's move, move back, wait. Its own
timeout is the batch timeout (``step.timeoutSeconds``). Failing to wait changes nothing;
the move step before it is what a rollback undoes.
"""

from pydantic import Field, field_validator

from kcr.kafka.errors import KafkaPortError
from kcr.kafka.port import KafkaPort
from kcr.kafka.readmodel import Reassignment, TopicPartition
from kcr.kafka.results import ApplyResult
from kcr.kinds.base import KindBase, StepPorts
from kcr.kinds.move_review import move_risk
from kcr.kinds.replica_model import (
    ThrottleRate,
    TopicReplicas,
    TopicTargets,
    check_topics_once,
    placements,
    size,
    targets,
)
from kcr.kinds.replication_throttle import THROTTLE_CLAIM
from kcr.model import Assessment, ClusterPolicy, Inverse, ObservedState
from kcr.model.base import KubeModel

SHOWN = 20
Wanted = dict[TopicPartition, list[int]]


class AwaitReassignment(KubeModel):
    topics: TopicTargets = Field(description="The partitions and the replicas they end on")
    throttle_bytes_per_second: ThrottleRate

    _topics_once = field_validator("topics")(check_topics_once)

    @property
    def batch_size(self) -> int:
        """Every partition copies at once: the step waits for all of them."""
        return sum(len(t.partitions) for t in self.topics)


class MoveInProgressError(KafkaPortError):
    """Kafka still lists a move of the step's partitions: not done yet, asked again."""

    retriable = True


class AwaitReassignmentKind(KindBase[AwaitReassignment]):
    model = AwaitReassignment
    requestable = False

    def topics(self, member: AwaitReassignment) -> list[str]:
        return [t.topic for t in member.topics]

    def describe(self, member: AwaitReassignment) -> str:
        return f"wait until {_moves(member.topics)}"

    def claims(self, member: AwaitReassignment) -> list[str]:
        return [THROTTLE_CLAIM]

    def risk(self, member: AwaitReassignment, observed: ObservedState | None) -> Assessment:
        return move_risk(member, observed)

    def assess_undo(
        self, member: AwaitReassignment, live: ObservedState, policy: ClusterPolicy
    ) -> Assessment:
        return move_risk(member, live)

    def undo(
        self, undo_id: str, member: AwaitReassignment, snapshot: ObservedState | None
    ) -> Inverse:
        return Inverse(None)  # waiting wrote nothing; the move step's undo moves back

    async def apply(
        self, ports: StepPorts, member: AwaitReassignment, snapshot: ObservedState | None
    ) -> ApplyResult:
        kafka = ports.kafka
        wanted = wanted_replicas(member.topics)
        sent, details = await start_moves(kafka, wanted)
        running = await running_moves(kafka, wanted)
        if running:
            raise MoveInProgressError(_progress(running, member.throttle_bytes_per_second))
        now = await replicas_now(kafka, wanted)
        unseen = [tp for tp in wanted if now[tp] != wanted[tp]]
        if unseen:
            shown = ", ".join(f"{label(tp)} on {now[tp]}" for tp in unseen[:SHOWN])
            raise MoveInProgressError(f"the brokers do not show the new replicas yet: {shown}")
        moved = _moved(wanted, snapshot)
        lines = [f"{label(tp)}: on {wanted[tp]}{moved.get(tp, '')}" for tp in wanted]
        more = [f"and {len(lines) - SHOWN} more"] if len(lines) > SHOWN else []
        shown_details = details if sent else []
        return self.result(member, sent or bool(moved), [*shown_details, *lines[:SHOWN], *more])


def wanted_replicas(topics: list[TopicReplicas]) -> Wanted:
    return {
        TopicPartition(topic=t, partition=p.partition): list(p.replicas) for t, p in targets(topics)
    }


async def start_moves(kafka: KafkaPort, wanted: Wanted) -> tuple[bool, list[str]]:
    """Cancel a move of a partition to anywhere else, then start the moves not running
    (the port compares first: a partition on its target, or moving there, is not sent).

    A move that just ended may still show its leaving replicas after the target in the
    metadata of the broker asked, while the controller lists it no more: it is left to
    settle, never sent again."""
    running = await running_moves(kafka, wanted)
    elsewhere: dict[TopicPartition, list[int] | None] = {
        tp: None for tp, move in running.items() if move.target != wanted[tp]
    }
    now = await replicas_now(kafka, wanted)
    start: dict[TopicPartition, list[int] | None] = {
        tp: replicas
        for tp, replicas in wanted.items()
        if tp in running or not _settling(now[tp], replicas)
    }
    sent, details = False, []
    for request in (elsewhere, start):
        if request:
            written = await kafka.alter_reassignments(request)
            sent |= written.applied
            details += written.details
    return sent, details


def _settling(now: list[int], wanted: list[int]) -> bool:
    return len(now) > len(wanted) and now[: len(wanted)] == wanted


async def replicas_now(kafka: KafkaPort, wanted: Wanted) -> Wanted:
    live = {t.name: t for t in await kafka.describe_topics(sorted({tp.topic for tp in wanted}))}
    return {
        tp: next(p.replicas for p in live[tp.topic].partitions if p.partition == tp.partition)
        for tp in wanted
    }


async def running_moves(kafka: KafkaPort, wanted: Wanted) -> dict[TopicPartition, Reassignment]:
    report = await kafka.reassignments(sorted({tp.topic for tp in wanted}))
    found = {TopicPartition(topic=m.topic, partition=m.partition): m for m in report.reassignments}
    return {tp: move for tp, move in found.items() if tp in wanted}


def _progress(running: dict[TopicPartition, Reassignment], rate: int) -> str:
    moves = sorted(running.items(), key=lambda item: (item[0].topic, item[0].partition))
    shown = ", ".join(f"{label(tp)} → {m.target} (adding {m.adding})" for tp, m in moves[:5])
    more = f" and {len(moves) - 5} more" if len(moves) > 5 else ""
    left = [m.bytes_left for m in running.values()]
    copied = (
        "bytes left unknown" if None in left else f"{size(sum(b or 0 for b in left))} left to copy"
    )
    return (
        f"{len(moves)} partition(s) still moving: {shown}{more}; {copied} at up to "
        f"{size(rate)}/s per broker"
    )


def _moved(wanted: Wanted, snapshot: ObservedState | None) -> dict[TopicPartition, str]:
    """The partitions the snapshot saw elsewhere, with where that was."""
    found = {}
    for tp, replicas in wanted.items():
        seen = placements(snapshot, tp.topic).get(tp.partition)
        if seen is not None and seen.replicas != replicas:
            found[tp] = f" (was {seen.replicas})"
    return found


def _moves(topics: list[TopicReplicas]) -> str:
    pairs = list(targets(topics))
    if len(pairs) <= 3:
        return ", ".join(f"{t}/{p.partition} is on {p.replicas}" for t, p in pairs)
    return f"{len(pairs)} partitions of {', '.join(t.topic for t in topics)} are on their targets"


def label(tp: TopicPartition) -> str:
    return f"{tp.topic}/{tp.partition}"


KIND = AwaitReassignmentKind()
