"""Replica moves, log dirs, elections, throttles and quotas: librdkafka where it has the API
(ElectLeaders, broker configs), kafka-python where it does not (reassignments, log dirs,
client quotas). Each optional API is refused before sending where the broker lacks it."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from confluent_kafka import ElectionType, KafkaError, KafkaException
from confluent_kafka import TopicPartition as ConfluentPartition
from confluent_kafka.admin._config import AlterConfigOpType, ConfigResource
from confluent_kafka.admin._config import ConfigEntry as ConfluentEntry
from confluent_kafka.admin._resource import ResourceType

from kcr.kafka.confluent import convert
from kcr.kafka.confluent.calls import AdminCalls
from kcr.kafka.confluent.errors import kafka_error_of
from kcr.kafka.errors import UnsupportedByBrokerError
from kcr.kafka.kafkapython import KafkaPythonAdmin
from kcr.kafka.quota_model import ClientQuota, ClientQuotaFilter, QuotaAlteration
from kcr.kafka.readmodel import Capabilities, ConfigEntry, Reassignment, TopicPartition
from kcr.kafka.replica_model import Election, ElectionOutcome, ElectionResult, ReplicaLogSize
from kcr.kafka.settings import ClientSettings

ProbeVersions = Callable[[], Awaitable[Capabilities]]
ELECTION_TYPES = {
    Election.PREFERRED: ElectionType.PREFERRED,
    Election.UNCLEAN: ElectionType.UNCLEAN,
}


class ReplicaCalls(AdminCalls):
    """The capabilities check and the second client, with the calls that need them."""

    def __init__(
        self,
        config: dict[str, Any],
        settings: ClientSettings,
        probe_versions: ProbeVersions,
        kafka_python: KafkaPythonAdmin,
    ) -> None:
        super().__init__(config, settings)
        self._probe_versions = probe_versions
        self._capabilities: Capabilities | None = None
        self._kafka_python = kafka_python

    async def close(self) -> None:
        await super().close()
        await self._kafka_python.close()

    async def capabilities(self) -> Capabilities:
        if self._capabilities is None:
            self._capabilities = await self._probe_versions()
        return self._capabilities

    async def _require(self, feature: str, api: str) -> None:
        """``feature`` by its camelCase name (``createAcls``); refused before sending."""
        found = await self.capabilities()
        if not found.serves(feature):
            raise UnsupportedByBrokerError(
                f"{api} is not available on this cluster: {found.reason(feature)}; "
                "kcr did not send it",
                feature=feature,
            )

    # --- through kafka-python ---------------------------------------------------------------

    async def list_reassignments(self, topics: list[str] | None) -> list[Reassignment]:
        return await self._kafka_python.list_reassignments(topics)

    async def alter_reassignments(self, targets: dict[TopicPartition, list[int] | None]) -> None:
        await self._require("alterPartitionReassignments", "AlterPartitionReassignments")
        await self._kafka_python.alter_reassignments(targets)

    async def log_dirs(
        self, partitions: dict[str, list[int]], brokers: list[int]
    ) -> list[ReplicaLogSize]:
        await self._require("describeLogDirs", "DescribeLogDirs")
        return await self._kafka_python.log_dirs(partitions, brokers)

    async def describe_client_quotas(self, quota_filter: ClientQuotaFilter) -> list[ClientQuota]:
        await self._require("describeClientQuotas", "DescribeClientQuotas")
        return await self._kafka_python.describe_client_quotas(quota_filter)

    async def alter_client_quotas(self, alterations: list[QuotaAlteration]) -> None:
        await self._require("alterClientQuotas", "AlterClientQuotas")
        await self._kafka_python.alter_client_quotas(alterations)

    # --- through librdkafka -----------------------------------------------------------------

    async def elect_leaders(
        self, election: Election, partitions: list[TopicPartition] | None
    ) -> list[ElectionResult]:
        await self._require("electLeaders", "ElectLeaders")
        action = f"elect {election.value.lower()} leaders"
        with self._sending(action, "partition"):
            asked = (
                None
                if partitions is None
                else [ConfluentPartition(p.topic, p.partition) for p in partitions]
            )
            # confluent-kafka 2.16's binding refuses its documented timeout keywords (its
            # format string has one more specifier than keywords): librdkafka's default
            # applies, and kcr's own operation deadline bounds the wait below.
            future = self.admin.elect_leaders(ELECTION_TYPES[election], asked)
        found = await self._await(future, action, resource="partition", operation=True)
        return [_election(tp, failure) for tp, failure in found.items()]

    async def broker_config_entries(
        self, brokers: list[int], keys: list[str]
    ) -> dict[int, dict[str, ConfigEntry]]:
        found = await asyncio.gather(*(self._broker_config(b, keys) for b in brokers))
        return dict(zip(brokers, found, strict=True))

    async def _broker_config(self, broker: int, keys: list[str]) -> dict[str, ConfigEntry]:
        """One request per broker: librdkafka sends a broker's configs to that broker."""
        action = f"describe the configuration of broker {broker}"
        with self._sending(action, "broker", str(broker)):
            resource = ConfigResource(ResourceType.BROKER, str(broker))
            futures = self.admin.describe_configs([resource], **self._timeout_kwargs)
        (entries,) = (await self._await_all(futures, lambda _: action, "broker")).values()
        return {key: convert.config_entry(entries[key]) for key in keys if key in entries}

    async def alter_broker_config(
        self, broker: int, set_: dict[str, str], delete: list[str]
    ) -> None:
        action = f"alter the configuration of broker {broker}"
        with self._sending(action, "broker", str(broker)):
            entries = [
                ConfluentEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                for k, v in set_.items()
            ] + [
                ConfluentEntry(k, None, incremental_operation=AlterConfigOpType.DELETE)
                for k in delete
            ]
            resource = ConfigResource(ResourceType.BROKER, str(broker), incremental_configs=entries)
            futures = self.admin.incremental_alter_configs([resource], **self._timeout_kwargs)
        await self._await_all(futures, lambda _: action, "broker")


def _election(tp: Any, failure: KafkaException | None) -> ElectionResult:
    """ELECTION_NOT_NEEDED is Kafka's word for "already led by the wanted replica"."""
    found = kafka_error_of(failure) if failure is not None else None
    if failure is None:
        outcome, code, message = ElectionOutcome.ELECTED, None, None
    elif found is None:
        outcome, code, message = ElectionOutcome.FAILED, None, str(failure)
    elif found.code() == KafkaError.ELECTION_NOT_NEEDED:
        outcome, code, message = ElectionOutcome.NOT_NEEDED, found.name(), found.str()
    else:
        outcome, code, message = ElectionOutcome.FAILED, found.name(), found.str()
    return ElectionResult(
        topic=tp.topic, partition=tp.partition, outcome=outcome, code=code, message=message
    )
