"""Failover drills: a broker killed during a staged change, and the operator killed mid-step."""

import asyncio
import time

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_fixed

from kcr.kafka import KafkaPort, KafkaPortError
from kcr.lab.context import LabContext
from kcr.lab.metadata_log import config_records
from kcr.lab.scenario import HEALTHY, Expectation, Need, ReadBack, Scenario, Ticket, register
from kcr.model import KafkaChangeRequestStatus, Phase, Risk, StepState

KEY, VALUE = "compression.type", "zstd"
LOST_BROKER = 3
WAIT_SECONDS = 90.0
POLL_SECONDS = 0.2
WHOLE_SECONDS = 60.0
"""How long a drill waits for every broker to serve with every replica in sync."""


class NotWholeError(Exception):
    """Some broker is not serving, or some replica is not in sync, yet."""


def _requested(topics: list[str]) -> dict[str, object]:
    return {
        "tool": "draft_alter_topic_config",
        "arguments": {"topics": topics, "set": {KEY: VALUE}},
    }


async def _status(lab: LabContext, name: str) -> KafkaChangeRequestStatus:
    from kcr.lab.runner import Requests  # noqa: PLC0415 (the runner imports scenarios' module)

    return await Requests(lab.stack).status(name)


async def _until(lab: LabContext, name: str, what: str, done: "object") -> KafkaChangeRequestStatus:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        status = await _status(lab, name)
        if done(status):  # type: ignore[operator]
            return status
        await asyncio.sleep(POLL_SECONDS)
    raise TimeoutError(f"{name}: {what} did not happen within {WAIT_SECONDS:.0f}s")


async def _whole_cluster(admin: KafkaPort, brokers: int) -> None:
    """Every broker serving and every replica in sync, within WHOLE_SECONDS.

    A drill judges what losing one broker does: started while a broker is fenced, or a
    follower is behind, its topics would be placed without that broker and its health gate
    would compare against a baseline that already counts the loss."""
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type((KafkaPortError, NotWholeError)),
        stop=stop_after_delay(WHOLE_SECONDS),
        wait=wait_fixed(0.5),
        reraise=True,
    ):
        with attempt:
            overview = await admin.cluster_overview()
            serving, behind = len(overview.brokers), overview.under_replicated_partitions
            if serving != brokers or behind:
                raise NotWholeError(
                    f"{serving} of {brokers} brokers serve and {behind} partition(s) are "
                    f"under-replicated after {WHOLE_SECONDS:.0f}s"
                )


async def _overrides(admin: KafkaPort, topics: list[str]) -> list[str]:
    found = []
    for configs in await admin.topic_configs(topics):
        entry = configs.configs.get(KEY)
        if entry is not None and entry.source.value == "TopicOverride":
            found.append(f"{configs.topic} {KEY}={entry.value}")
    return found


@register
class BrokerLost(Scenario):
    name = "failover-broker-lost"
    title = "Failover drill: a broker killed during a staged change"
    expectation = Expectation(
        cause=HEALTHY,
        proposal="AlterTopicConfig",
        risk=Risk.MEDIUM,
        outcomes=(Phase.ROLLED_BACK,),
    )
    needs = frozenset({Need.BROKER_CONTROL})
    bake_seconds = 12
    order = 90

    async def build(self, lab: LabContext) -> Ticket:
        cluster = lab.kafka.embedded
        assert cluster is not None
        await _whole_cluster(lab.admin, len(cluster.nodes))
        self.topics = [await lab.create_topic(f"ledger-{i}") for i in range(2)]
        missing = [
            f"{topic.name}/{p.partition} on {p.replicas}"
            for topic in await lab.admin.describe_topics(self.topics)
            for p in topic.partitions
            if LOST_BROKER not in p.replicas
        ]
        if missing:
            raise RuntimeError(
                f"broker {LOST_BROKER} must hold a replica of every ledger partition: "
                + ", ".join(missing)
            )
        return Ticket(
            text=f"drill: roll {KEY}={VALUE} out to {', '.join(self.topics)}",
            topic=self.topics[0],
            requested=_requested(self.topics),
        )

    async def during_execution(self, lab: LabContext, request: str) -> None:
        await _until(lab, request, "the canary's bake", _baking)
        assert lab.kafka.embedded is not None
        lab.kafka.embedded.stop_node(LOST_BROKER)
        lab.narrator.warn(f"broker {LOST_BROKER} killed (SIGKILL) during the canary's bake")

    async def read_back(self, lab: LabContext, drafted: bool) -> ReadBack:
        """Read by a new client once the broker is back, as an application restarted after
        the outage would: the scenario's own client lived through the lost connections."""
        cluster = lab.kafka.embedded
        assert cluster is not None
        await asyncio.to_thread(cluster.start_stopped)
        read_back = ReadBack()
        admin = lab.kafka.open_admin()
        try:
            left = await _overrides(admin, self.topics)
            read_back.add("no override left", not left, "; ".join(left) or f"{KEY} at its default")
            try:
                await _whole_cluster(admin, len(cluster.nodes))
                read_back.add("broker back", True, f"{len(cluster.nodes)} brokers serve, in sync")
            except (KafkaPortError, NotWholeError) as error:
                read_back.add("broker back", False, str(error))
        finally:
            await admin.close()
        return read_back

    async def cleanup(self, lab: LabContext) -> None:
        if lab.kafka.embedded is not None:
            await asyncio.to_thread(lab.kafka.embedded.start_stopped)


def _baking(status: KafkaChangeRequestStatus) -> bool:
    stages = status.plan.stages if status.plan else []
    return bool(stages) and stages[0].gate_state is StepState.RUNNING


def _second_stage_started(status: KafkaChangeRequestStatus) -> bool:
    stages = status.plan.stages if status.plan else []
    return len(stages) > 1 and any(s.state is not StepState.PENDING for s in stages[1].steps)


@register
class OperatorRestart(Scenario):
    name = "failover-operator-restart"
    title = "Failover drill: the operator killed mid-change resumes without repeating a write"
    expectation = Expectation(cause=HEALTHY, proposal="AlterTopicConfig", risk=Risk.MEDIUM)
    needs = frozenset({Need.METADATA_LOG, Need.OPERATOR_CONTROL})
    bake_seconds = 2
    order = 80

    async def build(self, lab: LabContext) -> Ticket:
        self.topics = [await lab.create_topic(f"ledger-{i}") for i in range(3)]
        self.restarted = ""
        return Ticket(
            text=f"roll {KEY}={VALUE} out to {', '.join(self.topics)}",
            topic=self.topics[0],
            requested=_requested(self.topics),
        )

    async def during_execution(self, lab: LabContext, request: str) -> None:
        await _until(lab, request, "the second stage's step", _second_stage_started)
        killed = await lab.stack.kill_operator()
        started = await asyncio.to_thread(lab.stack.restart_operator, lab.narrator)
        self.restarted = f"operator pid {killed} killed mid-stage, pid {started} took over"
        lab.narrator.warn(self.restarted)

    async def read_back(self, lab: LabContext, drafted: bool) -> ReadBack:
        read_back = ReadBack()
        read_back.add("operator restarted", bool(self.restarted), self.restarted or "never")
        assert lab.kafka.embedded is not None
        for topic in self.topics:
            values = await asyncio.to_thread(config_records, lab.kafka.embedded, topic, KEY)
            read_back.add(
                f"one write to {topic.rsplit('.', 1)[-1]}",
                values == [VALUE],
                f"{len(values)} ConfigRecord(s) for {KEY} in the metadata log: {values}",
            )
        return read_back
