"""What a scenario works with: the cluster, kcr's stack on the emulator, and its own names.

Every topic and group a scenario makes is named under the lab prefix and recorded, so the
run removes them afterwards (on a staging cluster above all). The stack is the embedded
one (``kcr/embedded/stack.py``): the kmock Kubernetes emulator with the kcr CRDs, the
real ``kcr operator`` and ``kcr mcp --transport http``, here pointed at the lab's Kafka
through a KafkaCluster and its Secret, as a user would configure them.
"""

import asyncio
import os
import signal
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_fixed

from kcr import kinds
from kcr.embedded.narration import Narrator
from kcr.embedded.stack import Stack
from kcr.kafka import KafkaPort, KafkaPortError, TopicPartition
from kcr.kafka.clients import Workload, delete_groups
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.delete_topic import DeleteTopic
from kcr.lab.cluster import LabKafka
from kcr.model import ClusterPolicy, HealthGates, KafkaCluster, Ownership
from kcr.model.cluster import ClusterMeta

TEAM = "lab"
TOPIC_READY_SECONDS = 30.0


@dataclass
class LabStack(Stack):
    """The embedded stack on the lab's Kafka instead of tansu."""

    kafka: LabKafka | None = None

    @property
    def bootstrap(self) -> str:
        assert self.kafka is not None
        return self.kafka.bootstrap

    def start_on(self, kafka: LabKafka, narrator: Narrator) -> None:
        self.kafka = kafka
        self._start_kube(narrator)
        url = f"{self.kube_url}/api/v1/namespaces/{self.options.namespace}/secrets"
        if kafka.secret_data:
            httpx.post(
                url, json=kafka.secret(self.options.namespace), timeout=10
            ).raise_for_status()
        self._apply_cluster(narrator)
        self._write_access()

    def cluster_resource(self) -> dict[str, Any]:
        assert self.kafka is not None
        spec = self.kafka.spec.model_copy(
            update={
                "ownership": list(self.options.ownership),
                "policy": ClusterPolicy(default_gates=HealthGates()),
                "schema_registry_url": self.kafka.schema_registry_url,
                "prometheus_url": self.kafka.prometheus_url,
            }
        )
        cluster = KafkaCluster(
            metadata=ClusterMeta(name=self.options.cluster, namespace=self.options.namespace),
            spec=spec,
        )
        return cluster.model_dump(mode="json", by_alias=True, exclude_none=True)

    async def kill_operator(self) -> int:
        """SIGKILL, as a node lost mid-step would: no clean shutdown, nothing flushed."""
        assert self.operator is not None
        pid = self.operator.pid
        os.kill(pid, signal.SIGKILL)
        await asyncio.to_thread(self.operator.process.wait, 10)
        self.children.stop(self.operator)
        return pid

    def restart_operator(self, narrator: Narrator) -> int:
        self.launch_operator()
        self.await_services(narrator)
        assert self.operator is not None
        return self.operator.pid


def lab_owner(prefix: str) -> Ownership:
    return Ownership(
        team=TEAM,
        contact="#kcr-lab",
        topic_prefixes=[prefix],
        group_prefixes=[prefix],
        runbooks=["https://runbooks.example.com/kcr-lab"],
    )


@dataclass
class LabContext:
    scenario: str
    prefix: str
    kafka: LabKafka
    admin: KafkaPort
    stack: LabStack
    narrator: Narrator
    topics: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)

    def name(self, short: str) -> str:
        """``<prefix><scenario>.<short>``: every name the scenario makes is the lab's."""
        return f"{self.prefix}{self.scenario}.{short}"

    def group(self, short: str) -> str:
        found = self.name(short)
        self.groups.append(found)
        return found

    async def create_topic(
        self,
        short: str,
        partitions: int = 3,
        configs: dict[str, str] | None = None,
        replication_factor: int = 3,
    ) -> str:
        topic = self.name(short)
        brokers = len((await self.admin.cluster_overview()).brokers)
        replicas = min(replication_factor, brokers)
        await kinds.apply(
            self.admin,
            CreateTopic(
                topic=topic,
                partitions=partitions,
                replication_factor=replicas,
                configs=configs or {},
            ),
        )
        self.topics.append(topic)
        await self._until_served(topic, partitions)
        return topic

    async def _until_served(self, topic: str, partitions: int) -> None:
        """CreateTopics returns once the controller has the topic; each partition's leader
        learns of it a moment later, and a scenario's first ListOffsets or offset commit
        before then fails with UNKNOWN_TOPIC_OR_PART. Bounded in time."""
        wanted = [TopicPartition(topic=topic, partition=p) for p in range(partitions)]
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(KafkaPortError),
            stop=stop_after_delay(TOPIC_READY_SECONDS),
            wait=wait_fixed(0.2),
            reraise=True,
        ):
            with attempt:
                await self.admin.log_offsets(wanted)

    def run(self, workload: Workload) -> Workload:
        self.workloads.append(workload)
        return workload

    async def cleanup(self) -> list[str]:
        """Stop the clients, delete the scenario's groups and topics; what could not be."""
        for workload in self.workloads:
            await asyncio.to_thread(workload.stop)
        left = await asyncio.to_thread(delete_groups, self.kafka.admin_settings, self.groups)
        for topic in self.topics:
            try:
                await kinds.apply(self.admin, DeleteTopic(topic=topic))
            except Exception as error:  # noqa: BLE001 (every leftover is reported, none stops)
                left.append(f"topic {topic}: {error}")
        return left
