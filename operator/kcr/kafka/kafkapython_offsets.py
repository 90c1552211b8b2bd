"""Committed offsets through kafka-python: OffsetFetch sent to each group's coordinator.

librdkafka 2.16 aborts the whole process when its ListConsumerGroupOffsets is answered
NOT_COORDINATOR (librdkafka #5040), and a replica move or a broker loss moves coordinators
exactly while kcr makes its changes; kafka-python parses that answer like any other, so kcr
forgets the coordinator, finds it again and asks again (:mod:`kcr.kafka.kafkapython`).

Where the broker serves them, one FindCoordinator v4+ (KIP-699) finds every group's
coordinator and one OffsetFetch v8+ (KIP-709) per coordinator carries all of its groups
(v10 names topics by id, so kcr asks for at most v9). On older brokers each group gets its
own lookup and its own OffsetFetch. Either way the requests to one broker are pipelined a
few at a time, and the coordinators are asked in parallel.

These coroutines run on kafka-python's IO thread (``self._manager.run``), the only thread
that touches the coordinator cache.
"""

import logging
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kafka import errors
from kafka.protocol.consumer.group import OffsetFetchRequest
from kafka.protocol.metadata import CoordinatorType, FindCoordinatorRequest

log = logging.getLogger(__name__)

BATCHED_LOOKUP = 4  # FindCoordinator: many keys in one request (KIP-699)
BATCHED_FETCH = 8  # OffsetFetch: many groups in one request (KIP-709)
NAMED_TOPICS = 9  # the last OffsetFetch version that names topics
GROUPS_PER_REQUEST = 250  # bounds the size of one request and of its answer
PIPELINE = 4  # requests one call keeps in flight on one connection
COORDINATOR_LOAD_IN_PROGRESS = 14
COORDINATOR_NOT_AVAILABLE = 15
NOT_COORDINATOR = 16
UNSTABLE_OFFSET_COMMIT = 88
MOVING = frozenset({COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR})
UNREACHABLE = (errors.KafkaConnectionError, errors.NodeNotReadyError, errors.UnknownBrokerIdError)

Wanted = dict[str, list[int]] | None
"""The partitions asked, by topic; None asks for every partition the group committed."""


@dataclass
class GroupAnswer:
    """One group's answer: (topic, partition, committed offset, error code) rows, or the
    error code that refused the whole group (``message`` says more, when kcr knows more)."""

    error_code: int = 0
    message: str | None = None
    rows: list[tuple[str, int, int, int]] = field(default_factory=list)


def _chunks(names: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(names), GROUPS_PER_REQUEST):
        yield names[start : start + GROUPS_PER_REQUEST]


def _answer(error_code: int, topics: Any) -> GroupAnswer:
    rows = [
        (t.name, p.partition_index, p.committed_offset, p.error_code)
        for t in topics or []
        for p in t.partitions
    ]
    return GroupAnswer(error_code=error_code, rows=rows)


def _unreachable(node: Any, error: Exception) -> GroupAnswer:
    """A coordinator kcr could not reach is treated as one that moved: found again."""
    who = "no broker could be reached" if node is None else f"broker {node} could not be reached"
    return GroupAnswer(COORDINATOR_NOT_AVAILABLE, f"{who}: {error}")


class OffsetFetchCalls:
    """Mixed into kcr's kafka-python admin client, which supplies ``_manager`` and ``_send``
    and sets ``_group_coordinators`` (group → broker id) before any call."""

    _manager: Any
    _group_coordinators: dict[str, int]
    _send: Callable[..., Any]

    def committed_of(self, groups: list[str], wanted: Wanted) -> dict[str, GroupAnswer]:
        """Every group's answer, by name (blocking, like the client it extends)."""
        answers: dict[str, GroupAnswer] = self._manager.run(self._committed_of, groups, wanted)
        return answers

    async def _committed_of(self, groups: list[str], wanted: Wanted) -> dict[str, GroupAnswer]:
        answers: dict[str, GroupAnswer] = {}
        by_node: dict[int, list[str]] = {}
        for group, found in (await self._coordinators(groups)).items():
            if isinstance(found, GroupAnswer):
                answers[group] = found
            else:
                by_node.setdefault(found, []).append(group)
        fetches = {
            node: self._manager.call_soon(self._fetch_from, node, names, wanted)
            for node, names in by_node.items()
        }
        for node, fetch in fetches.items():
            try:
                answers.update(await fetch)
            except UNREACHABLE as error:
                answers.update(dict.fromkeys(by_node[node], _unreachable(node, error)))
        for group, answer in answers.items():
            if (
                answer.error_code in MOVING
                and self._group_coordinators.pop(group, None) is not None
            ):
                log.debug("group %s: coordinator moved (error %d)", group, answer.error_code)
        return answers

    # --- FindCoordinator ------------------------------------------------------------------

    async def _coordinators(self, groups: list[str]) -> dict[str, int | GroupAnswer]:
        """Each group's coordinator (a broker id), or the answer that says why none."""
        known = self._group_coordinators
        found: dict[str, int | GroupAnswer] = {g: known[g] for g in groups if g in known}
        unknown = [g for g in groups if g not in known]
        if not unknown:
            return found
        batched = self._manager.broker_version_data.api_version(FindCoordinatorRequest)
        if batched >= BATCHED_LOOKUP:
            requests = [
                FindCoordinatorRequest(
                    key_type=CoordinatorType.GROUP.value, coordinator_keys=chunk, min_version=4
                )
                for chunk in _chunks(unknown)
            ]
        else:
            requests = [
                FindCoordinatorRequest(key=g, key_type=CoordinatorType.GROUP.value, max_version=3)
                for g in unknown
            ]
        node = self._manager.least_loaded_node()
        try:
            responses = await self._pipelined(node, requests)
        except UNREACHABLE as error:
            return found | dict.fromkeys(unknown, _unreachable(node, error))
        if batched >= BATCHED_LOOKUP:
            rows = {row.key: row for response in responses for row in response.coordinators}
        else:
            rows = dict(zip(unknown, responses, strict=True))
        for group in unknown:
            found[group] = self._coordinator(group, rows.get(group))
        return found

    def _coordinator(self, group: str, row: Any) -> int | GroupAnswer:
        if row is None:
            return GroupAnswer(COORDINATOR_NOT_AVAILABLE, "left out of the FindCoordinator answer")
        if row.error_code:
            return GroupAnswer(row.error_code, getattr(row, "error_message", None) or None)
        # Registered with its address, so a broker missing from the metadata is reachable.
        node: int = self._manager.cluster.add_coordinator(
            row, CoordinatorType.GROUP, group, synthesize_node_id=False
        )
        self._group_coordinators[group] = node
        return node

    # --- OffsetFetch --------------------------------------------------------------------------

    async def _fetch_from(
        self, node: int, groups: list[str], wanted: Wanted
    ) -> dict[str, GroupAnswer]:
        """Stable offsets: Kafka 4's coordinator answers a plain read from the state its
        partition's high watermark covers, and a coordinator that has just moved can answer
        a group's commits as missing (measured: 10 of 24 reads right after a move, none when
        stable). Asked to be stable, it answers from its latest state once that is
        replicated. The classic coordinator instead refuses partitions with a pending
        transactional commit (UNSTABLE_OFFSET_COMMIT); those groups are asked once more,
        plainly, for their last commits, which it always serves whole.
        """
        answers = await self._ask(node, groups, wanted, stable=True)
        unstable = [
            g for g, a in answers.items() if any(r[3] == UNSTABLE_OFFSET_COMMIT for r in a.rows)
        ]
        if unstable:
            answers |= await self._ask(node, unstable, wanted, stable=False)
        return answers

    async def _ask(
        self, node: int, groups: list[str], wanted: Wanted, *, stable: bool
    ) -> dict[str, GroupAnswer]:
        version = self._manager.broker_version_data.api_version(
            OffsetFetchRequest, max_version=NAMED_TOPICS
        )
        if version >= BATCHED_FETCH:
            group = OffsetFetchRequest.OffsetFetchRequestGroup
            topic = group.OffsetFetchRequestTopics
            topics = (
                None
                if wanted is None
                else [topic(name=t, partition_indexes=p) for t, p in wanted.items()]
            )
            requests = [
                OffsetFetchRequest(
                    groups=[group(group_id=g, topics=topics) for g in chunk],
                    require_stable=stable,
                    min_version=BATCHED_FETCH,
                    max_version=NAMED_TOPICS,
                )
                for chunk in _chunks(groups)
            ]
            responses = await self._pipelined(node, requests)
            answers = {
                g.group_id: _answer(g.error_code, g.topics) for r in responses for g in r.groups
            }
        else:
            single = OffsetFetchRequest.OffsetFetchRequestTopic
            topics = (
                None
                if wanted is None
                else [single(name=t, partition_indexes=p) for t, p in wanted.items()]
            )
            requests = [
                OffsetFetchRequest(
                    group_id=g, topics=topics, require_stable=stable, min_version=2, max_version=7
                )
                for g in groups
            ]
            responses = await self._pipelined(node, requests)
            answers = {
                g: _answer(r.error_code, r.topics) for g, r in zip(groups, responses, strict=True)
            }
        left_out = GroupAnswer(COORDINATOR_NOT_AVAILABLE, "left out of the OffsetFetch answer")
        return {g: answers.get(g, left_out) for g in groups}

    async def _pipelined(self, node: Any, requests: list[Any]) -> list[Any]:
        """The answers, in order, with at most ``PIPELINE`` requests in flight (kafka-python
        refuses a request outright past its per-connection limit)."""
        answers: list[Any] = []
        in_flight: deque[Any] = deque()
        for request in requests:
            if len(in_flight) == PIPELINE:
                answers.append(await in_flight.popleft())
            in_flight.append(self._send(request, node_id=node))
        while in_flight:
            answers.append(await in_flight.popleft())
        return answers
