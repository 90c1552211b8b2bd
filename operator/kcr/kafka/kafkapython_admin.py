"""kafka-python's admin client, taught the requests it has classes for but no method.

kafka-python 3 ships the protocol classes of DescribeClientQuotas and AlterClientQuotas
and a DescribeLogDirs call that drops each log dir's error code; these methods send them
the way its own admin mixins do (``self._manager``), and return the broker's answer with
every error code, for :mod:`kcr.kafka.kafkapython` to judge. Committed offsets are read by
:mod:`kcr.kafka.kafkapython_offsets`, mixed in here.
"""

from collections.abc import Callable
from typing import Any

from kafka import TopicPartition as KafkaPythonPartition
from kafka import errors
from kafka.admin import KafkaAdminClient
from kafka.protocol.admin import (
    AlterClientQuotasRequest,
    AlterPartitionReassignmentsRequest,
    DescribeClientQuotasRequest,
    DescribeLogDirsRequest,
)

from kcr.kafka.kafkapython_offsets import OffsetFetchCalls
from kcr.kafka.quota_model import ClientQuotaFilter, QuotaAlteration, QuotaMatch
from kcr.kafka.readmodel import TopicPartition

# DescribeClientQuotas' MatchType: 0 the exact name, 1 the default, 2 any specified name.
MATCH_TYPES = {QuotaMatch.EXACT: 0, QuotaMatch.DEFAULT: 1, QuotaMatch.ANY: 2}
SLOW_TASK_SECONDS = 5.0


class KcrAdminClient(OffsetFetchCalls, KafkaAdminClient):  # type: ignore[misc]
    """Blocking, like the client it extends; each method waits on kafka-python's IO thread."""

    def __init__(self, **configs: Any) -> None:
        """Connects at once, as kafka-python does; a cluster that does not answer within
        ``bootstrap_timeout_ms`` leaves no IO thread behind (kafka-python would)."""
        self._group_coordinators = {}
        self.on_request: Callable[[int], None] = _ignore
        try:
            super().__init__(**configs)
        except BaseException:
            if getattr(self, "_client", None) is not None:
                self._client.close()
            if getattr(self, "_net", None) is not None:
                self._net.stop()
            raise
        # Decoding one OffsetFetch answer of 20,000 rows holds the IO thread for 50-200 ms,
        # past kafka-python's 100 ms warning for a task that blocks its loop.
        self._net.config["slow_task_threshold_secs"] = SLOW_TASK_SECONDS

    def describe_client_quotas(self, quota_filter: ClientQuotaFilter) -> Any:
        """The DescribeClientQuotas response; its top-level error code is the caller's."""
        component = DescribeClientQuotasRequest.ComponentData
        request = DescribeClientQuotasRequest(
            components=[
                component(
                    entity_type=c.entity_type.value, match_type=MATCH_TYPES[c.match], match=c.name
                )
                for c in quota_filter.components
            ],
            strict=quota_filter.strict,
        )
        return self._manager.run(self._send_any, request)

    def alter_client_quotas(self, alterations: list[QuotaAlteration]) -> Any:
        """The AlterClientQuotas response: one error code per entity."""
        entry = AlterClientQuotasRequest.EntryData
        request = AlterClientQuotasRequest(
            entries=[
                entry(
                    entity=[
                        entry.EntityData(entity_type=kind.value, entity_name=name)
                        for kind, name in sorted(alteration.entity.items())
                    ],
                    ops=[
                        entry.OpData(key=key.value, value=value or 0.0, remove=value is None)
                        for key, value in sorted(alteration.values.items())
                    ],
                )
                for alteration in alterations
            ],
            validate_only=False,
        )
        return self._manager.run(self._send_any, request)

    def describe_log_dirs_of(
        self, partitions: dict[str, list[int]], brokers: list[int]
    ) -> list[tuple[int, Any]]:
        """Each broker's DescribeLogDirs response, with every log dir's error code kept."""
        topic = DescribeLogDirsRequest.DescribableLogDirTopic
        request = DescribeLogDirsRequest(
            topics=[topic(topic=name, partitions=list(ids)) for name, ids in partitions.items()]
        )
        return self._manager.run(self._send_each, request, brokers)  # type: ignore[no-any-return]

    def alter_reassignments_of(
        self, targets: dict[TopicPartition, list[int] | None], timeout_ms: int
    ) -> Any:
        """The AlterPartitionReassignments response, with each partition's error message
        (kafka-python's own method keeps only the error class)."""
        request = AlterPartitionReassignmentsRequest(
            timeout_ms=timeout_ms,
            topics=self._process_alter_partition_reassignments_input(
                {KafkaPythonPartition(tp.topic, tp.partition): r for tp, r in targets.items()}
            ),
        )
        return self._manager.run(self._send_request_to_controller, request, _top_level_error, False)

    def _send(self, request: Any, node_id: int | None = None) -> Any:
        """Every request kcr sends itself goes here, counted for the caller's meter."""
        self.on_request(1)
        return self._manager.send(request, node_id=node_id)

    async def _send_any(self, request: Any) -> Any:
        return await self._send(request)

    async def _send_each(self, request: Any, brokers: list[int]) -> list[tuple[int, Any]]:
        return [(broker, await self._send(request, node_id=broker)) for broker in brokers]


def _top_level_error(response: Any) -> Any:
    """The error that refuses the whole request (NOT_CONTROLLER is asked again)."""
    yield errors.for_code(response.error_code)


def _ignore(sent: int) -> None:
    """No meter: requests are not counted."""
