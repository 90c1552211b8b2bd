"""RestartWorkload through the real operator, the kmock emulator and three Apache Kafka
brokers. Consumer threads stand for the Deployment's pods: when the pod template's
``kubectl.kubernetes.io/restartedAt`` changes, they are replaced one by one, as a rolling
update replaces pods. Done means every member id the broker reports has changed, and the
group reads at its rate before the restart again."""

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from apache_world import Production, approved, drafted
from confluent_kafka import Consumer, ConsumerGroupState, KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from operator_harness import DEPLOYMENTS, NAMESPACE, Harness, Kubectl

from kcr import kinds
from kcr.embedded.kraft import KraftCluster
from kcr.kafka import KafkaPort
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.restart_workload import RESTARTED_AT, RestartWorkload, restart_stamp
from kcr.model import ConsumerProgressGate, DeploymentRef, GroupProgress, ObservedState
from kcr.model.cluster import HealthGates

pytestmark = [pytest.mark.slow, pytest.mark.kafka, pytest.mark.asyncio]

FINAL = ("Succeeded", "RolledBack", "RollbackFailed", "Failed", "Stale", "Invalid")
WAIT = 120.0
REPLICAS = 2
PROGRESS = HealthGates(consumer_progress=ConsumerProgressGate(baseline_seconds=5, min_percent=50))
COORDINATOR_MOVING = (
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
)


class Pod:
    """One consumer process of the group, polling in its own thread until stopped."""

    def __init__(self, cluster: KraftCluster, group: str, topic: str, name: str) -> None:
        self.consumer = Consumer(
            cluster.client_config()
            | {
                "group.id": group,
                "client.id": name,
                "auto.offset.reset": "earliest",
                "auto.commit.interval.ms": 200,
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 500,
            }
        )
        self.consumer.subscribe([topic])
        self.assigned = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name=name, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.consumer.poll(0.1)
            if self.consumer.assignment():
                self.assigned.set()

    def stop(self) -> None:
        """Leave the group at once, as a pod's container does on SIGTERM."""
        self._stop.set()
        self._thread.join(30)
        self.consumer.close()


class Pods:
    """The Deployment's pods: a rollout replaces them one at a time, each new one started
    before the next old one stops."""

    def __init__(self, cluster: KraftCluster, group: str, topic: str) -> None:
        self.cluster, self.group, self.topic = cluster, group, topic
        self.names = (f"{group}-pod-{n}" for n in range(1000))
        self.running = [self._start() for _ in range(REPLICAS)]
        self.rollouts = 0

    def _start(self) -> Pod:
        return Pod(self.cluster, self.group, self.topic, next(self.names))

    def roll(self) -> None:
        self.rollouts += 1
        for index, old in enumerate(list(self.running)):
            new = self._start()
            old.stop()
            self.running[index] = new
        for pod in self.running:
            pod.assigned.wait(30)

    def stop(self) -> None:
        for pod in self.running:
            pod.stop()


@contextmanager
def pods_of(cluster: KraftCluster, group: str, topic: str) -> Iterator[Pods]:
    pods = Pods(cluster, group, topic)
    try:
        yield pods
    finally:
        pods.stop()


async def template_annotations(kubectl: Kubectl, name: str) -> dict[str, str]:
    response = await kubectl.client.get(f"{DEPLOYMENTS.format(namespace=NAMESPACE)}/{name}")
    response.raise_for_status()
    template = response.json()["spec"].get("template") or {}
    return dict((template.get("metadata") or {}).get("annotations") or {})


async def follow_rollouts(
    kubectl: Kubectl, name: str, pods: Pods, until: asyncio.Event
) -> list[str]:
    """Replace the pods each time the template's restart stamp changes; the stamps seen."""
    stamps: list[str] = []
    deadline = time.monotonic() + WAIT
    while not until.is_set() and time.monotonic() < deadline:
        stamp = (await template_annotations(kubectl, name)).get(RESTARTED_AT)
        if stamp is not None and stamp not in stamps:
            stamps.append(stamp)
            await asyncio.to_thread(pods.roll)
        await asyncio.sleep(0.1)
    return stamps


def members(cluster: KraftCluster, group: str) -> tuple[Any, set[str]]:
    """The group's state and member ids, as Kafka's DescribeGroups reports them."""
    admin = AdminClient(cluster.client_config())
    described = admin.describe_consumer_groups([group])[group].result(timeout=30)
    return described.state, {m.member_id for m in described.members}


async def until_members(cluster: KraftCluster, group: str, count: int) -> set[str]:
    deadline = time.monotonic() + WAIT
    state: object = None
    ids: set[str] = set()
    while time.monotonic() < deadline:
        try:
            state, ids = await asyncio.to_thread(members, cluster, group)
        except KafkaException as error:  # the coordinator is loading or moving: ask again
            if error.args[0].code() not in COORDINATOR_MOVING:
                raise
            await asyncio.sleep(0.2)
            continue
        if state == ConsumerGroupState.STABLE and len(ids) == count:
            return ids
        await asyncio.sleep(0.2)
    raise AssertionError(f"group {group} is {state} with {len(ids)} member(s)")


async def until_committed(trio_broker: KafkaPort, group: str) -> None:
    """The pods have committed: the group has a rate before the change to keep."""
    deadline = time.monotonic() + WAIT
    while True:
        found = (await trio_broker.consumer_positions([group])).group(group)
        if found is not None and found.committed > 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"group {group} never committed")
        await asyncio.sleep(0.2)


async def test_every_member_rejoins_with_a_new_id_and_the_template_is_stamped_once(
    on_trio_quick: Harness, apache_kafka_trio: KraftCluster, trio_broker: KafkaPort, unique: str
) -> None:
    topic, group, name = f"{unique}.orders", f"{unique}-billing", "billing-api"
    await kinds.apply(trio_broker, CreateTopic(topic=topic, partitions=2, replication_factor=3))
    await on_trio_quick.kubectl.create_deployment(
        NAMESPACE, name, REPLICAS, labels={"kcr.dev/consumer-group": group}
    )
    done = asyncio.Event()
    with (
        Production(apache_kafka_trio, topic, per_second=20).running(),
        pods_of(apache_kafka_trio, group, topic) as pods,
    ):
        before = await until_members(apache_kafka_trio, group, REPLICAS)
        await until_committed(trio_broker, group)
        restart = RestartWorkload(
            group=group, deployment=DeploymentRef(namespace=NAMESPACE, name=name)
        )
        spec = await drafted(trio_broker, restart, bake_seconds=6, gates=PROGRESS)
        assert spec.observed is not None
        seen = spec.observed.group(group)
        assert seen is not None
        assert set(seen.member_ids) == before
        follower = asyncio.create_task(follow_rollouts(on_trio_quick.kubectl, name, pods, done))
        await approved(on_trio_quick.kubectl, "restart", spec)
        status = await on_trio_quick.kubectl.wait_phase("restart", *FINAL, timeout=WAIT)
        done.set()
        stamps = await follower
        after = await until_members(apache_kafka_trio, group, REPLICAS)

    assert status["phase"] == "Succeeded", status["message"]
    assert status["risk"] == "MEDIUM"
    assert not after & before, "every member id the broker reports is new"
    assert pods.rollouts == 1
    snapshot = ObservedState.model_validate(status["snapshot"])
    assert stamps == [restart_stamp(snapshot)]
    assert (await template_annotations(on_trio_quick.kubectl, name)) == {RESTARTED_AT: stamps[0]}
    restart_step, rejoin = status["plan"]["stages"][0]["steps"]
    assert (
        restart_step["result"]
        == f"Applied: restarted {NAMESPACE}/{name}: {RESTARTED_AT}={stamps[0]}"
    )
    assert rejoin["result"].startswith(f"AlreadyApplied: group {group} rejoined: 2 member(s)")
    (stage,) = status["plan"]["stages"]
    assert f"ConsumerProgress: ok ({group} read " in stage["gateResult"], stage["gateResult"]
    (verdict,) = [GroupProgress.model_validate(p) for p in stage["progress"]]
    assert verdict.verdict == "Passed", verdict.message
    assert status["rollbackPlan"]["irreversibleReasons"][0].startswith(
        "a rollout restart cannot be undone"
    )
