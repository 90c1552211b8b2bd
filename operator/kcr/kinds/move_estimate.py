"""What a replica move copies and how long it takes at the throttle, from the observed state.

Each replica a move adds copies its partition's log from the leader: the bytes are the
partition's size (its largest replica in DescribeLogDirs) times the replicas added. The
throttle holds each broker to the rate, sending and receiving, so a batch lasts as long as
its busiest broker needs; the batches run one after another.
"""

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from kcr.kinds.replica_model import PartitionReplicas, placements
from kcr.model import ObservedState

LARGE_MOVE_BYTES = 10 * 2**30
"""Above this a move is HIGH risk: hours of replication traffic at a common throttle."""

Pair = tuple[str, PartitionReplicas]


@dataclass(frozen=True)
class Move:
    """One partition: where it is (as observed) and where the change puts it."""

    topic: str
    partition: int
    current: tuple[int, ...]
    target: tuple[int, ...]
    leader: int | None
    size: int | None

    @property
    def adding(self) -> list[int]:
        return [b for b in self.target if b not in self.current]

    @property
    def copies(self) -> int | None:
        """Bytes the move copies: none for a reorder or a smaller replica set."""
        if not self.adding:
            return 0
        return None if self.size is None else self.size * len(self.adding)

    @property
    def leader_leaves(self) -> bool:
        """The leader is not among the target replicas, so leadership moves when it ends."""
        return self.leader is not None and self.leader not in self.target

    @property
    def preferred_changes(self) -> bool:
        return bool(self.current) and self.current[0] != self.target[0]


@dataclass(frozen=True)
class Estimate:
    moves: list[Move]
    unobserved: int
    """Listed partitions the observed state does not show (missing topic or partition)."""
    batch_bytes: list[int | None]
    batch_seconds: list[int | None]

    @property
    def bytes(self) -> int | None:
        return None if None in self.batch_bytes else sum(b or 0 for b in self.batch_bytes)

    @property
    def seconds(self) -> int | None:
        return None if None in self.batch_seconds else sum(s or 0 for s in self.batch_seconds)

    @property
    def added(self) -> int:
        return sum(len(m.adding) for m in self.moves)

    @property
    def leaders_leaving(self) -> list[Move]:
        return [m for m in self.moves if m.leader_leaves]

    @property
    def preferred_changing(self) -> list[Move]:
        return [m for m in self.moves if m.preferred_changes]


def batches(pairs: Sequence[Pair], batch_size: int) -> list[list[Pair]]:
    return [list(pairs[i : i + batch_size]) for i in range(0, len(pairs), batch_size)]


def move_of(pair: Pair, observed: ObservedState) -> Move | None:
    topic, wanted = pair
    seen = placements(observed, topic).get(wanted.partition)
    if seen is None:
        return None
    return Move(
        topic=topic,
        partition=wanted.partition,
        current=tuple(seen.replicas),
        target=tuple(wanted.replicas),
        leader=seen.leader,
        size=seen.bytes,
    )


def estimate(
    pairs: Sequence[Pair], batch_size: int, rate: int, observed: ObservedState
) -> Estimate:
    moves: list[Move] = []
    unobserved = 0
    batch_bytes: list[int | None] = []
    batch_seconds: list[int | None] = []
    for batch in batches(pairs, batch_size):
        found = [move_of(pair, observed) for pair in batch]
        unobserved += found.count(None)
        known = [m for m in found if m is not None]
        moves += known
        copies = [m.copies for m in known]
        if None in copies or len(known) < len(found):
            batch_bytes.append(None)
            batch_seconds.append(None)
            continue
        batch_bytes.append(sum(c or 0 for c in copies))
        batch_seconds.append(_busiest(known, rate))
    return Estimate(moves, unobserved, batch_bytes, batch_seconds)


def _busiest(moves: list[Move], rate: int) -> int:
    """Seconds the busiest broker needs: each added replica receives the partition, and its
    leader sends one copy per added replica, all held to ``rate`` per broker."""
    received: Counter[int] = Counter()
    sent: Counter[int] = Counter()
    for move in moves:
        for broker in move.adding:
            received[broker] += move.size or 0
            sent[_sender(move)] += move.size or 0
    busiest = max([*received.values(), *sent.values()], default=0)
    return math.ceil(busiest / rate)


def _sender(move: Move) -> int:
    """Followers copy from the leader; an offline partition's first replica stands in."""
    if move.leader is not None:
        return move.leader
    return move.current[0] if move.current else -1
