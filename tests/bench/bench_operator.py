"""Operator reaction time: approval annotation → first Kafka write, next to a no-op handler.

One run, one kmock Kubernetes emulator (its own thread), two operators in their own
threads and event loops:

- kcr: the real operator (kopf, the engine, the status writes, a snapshot through the
  Kafka fake) in namespace ``bench``. Each request is a CreateTopic; the clock starts just
  before the approval annotation is sent and stops when the fake receives the topic
  creation.
- floor: a kopf operator whose only handler records when it sees an annotation, in
  namespace ``bench-noop`` on the same emulator: what kopf and the emulator cost alone.

``KCR_BENCH_OPERATOR_REQUESTS`` sets the number of timed requests per side (default 60).
No target is enforced; the report shows both distributions and their difference.
"""

import asyncio
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import kopf

from kcr.embedded.kube_emulator import EmulatorThread
from kcr.engine import EngineSettings
from kcr.kafka.fake import FakeCluster, FakeKafka
from kcr.kinds.create_topic import CreateTopic
from kcr.model import Change, KafkaChangeRequestSpec, RequestedBy, Rollout
from kcr.operator.app import build_runtime, run_operator
from kcr.operator.logs import configure_logging
from kcr.operator.settings import LogFormat, OperatorConfig

KCR = "/apis/kcr.dev/v1alpha1/namespaces/{namespace}/kafkachangerequests"
MERGE = {"Content-Type": "application/merge-patch+json"}
PING = "bench.kcr.dev/ping"
WAIT_SECONDS = 30.0
WARMUP = 5


class TimedCluster(FakeCluster):
    """Records when each topic's creation reached Kafka."""

    def __init__(self) -> None:
        super().__init__()
        self.written: dict[str, float] = {}

    async def create_topic(
        self, topic: str, partitions: int, replication_factor: int, configs: dict[str, str]
    ) -> None:
        self.written.setdefault(topic, time.perf_counter())
        await super().create_topic(topic, partitions, replication_factor, configs)


class InThread:
    """An asyncio program in its own thread, started until ready and stopped by flag."""

    def __init__(self, program: Callable[[threading.Event, threading.Event], Any]) -> None:
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(
            target=lambda: asyncio.run(program(self.stop, self.ready)), daemon=True
        )

    def __enter__(self) -> "InThread":
        self.thread.start()
        if not self.ready.wait(WAIT_SECONDS):
            raise RuntimeError("an operator did not start")
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(WAIT_SECONDS)


def kcr_operator(url: str, kafka: FakeKafka) -> InThread:
    config = OperatorConfig(
        namespaces=("bench",),
        metrics_port=None,
        health_port=None,
        scan_cluster=False,
        engine=EngineSettings(),
    )

    async def program(stop: threading.Event, ready: threading.Event) -> None:
        runtime = build_runtime(
            config,
            login=lambda: kopf.ConnectionInfo(server=url, insecure=True),
            kafka_factory=lambda _spec, _credentials: kafka,
        )
        await run_operator(runtime, stop_flag=stop, ready_flag=ready)

    return InThread(program)


def noop_operator(url: str, seen: dict[str, float]) -> InThread:
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kopf.ConnectionInfo(server=url, insecure=True)

    @kopf.on.event(
        "kcr.dev",
        "v1alpha1",
        "kafkachangerequests",
        registry=registry,
        annotations={PING: kopf.PRESENT},
    )
    async def noticed(annotations: Any, **_: Any) -> None:
        seen.setdefault(annotations[PING], time.perf_counter())

    async def program(stop: threading.Event, ready: threading.Event) -> None:
        settings = kopf.OperatorSettings()
        settings.scanning.disabled = True
        settings.posting.enabled = False
        await kopf.operator(
            registry=registry,
            settings=settings,
            namespaces=["bench-noop"],
            standalone=True,
            stop_flag=stop,
            ready_flag=ready,
        )

    return InThread(program)


def spec(topic: str) -> dict[str, Any]:
    member = CreateTopic(topic=topic, partitions=1, replication_factor=1)
    return KafkaChangeRequestSpec(
        cluster="prod",
        change=Change.of(member),
        requested_by=RequestedBy(principal="User:bench", channel="kubectl"),
        reason="operator reaction benchmark",
        rollout=Rollout(bake_seconds=0),
    ).model_dump(mode="json", exclude_none=True)


def create(client: httpx.Client, namespace: str, name: str, body: dict[str, Any]) -> None:
    payload = {
        "apiVersion": "kcr.dev/v1alpha1",
        "kind": "KafkaChangeRequest",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }
    client.post(KCR.format(namespace=namespace), json=payload).raise_for_status()


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


def kcr_reaction(client: httpx.Client, cluster: TimedCluster, index: int) -> float:
    name = f"bench-{index}"
    path = f"{KCR.format(namespace='bench')}/{name}"
    create(client, "bench", name, spec(f"bench-topic-{index}"))
    wait_until(
        lambda: client.get(path).json().get("status", {}).get("phase") == "AwaitingApproval",
        f"{name} to be reviewed",
    )
    spec_hash = client.get(path).json()["status"]["specHash"]
    approval = {"kcr.dev/approved-by": "bob", "kcr.dev/approved-spec-hash": spec_hash}
    started = time.perf_counter()
    client.patch(path, json={"metadata": {"annotations": approval}}, headers=MERGE)
    wait_until(lambda: f"bench-topic-{index}" in cluster.written, f"{name} to write")
    return cluster.written[f"bench-topic-{index}"] - started


def noop_reaction(client: httpx.Client, seen: dict[str, float], index: int) -> float:
    name = f"noop-{index}"
    create(client, "bench-noop", name, spec(f"noop-topic-{index}"))
    path = f"{KCR.format(namespace='bench-noop')}/{name}"
    started = time.perf_counter()
    client.patch(path, json={"metadata": {"annotations": {PING: name}}}, headers=MERGE)
    wait_until(lambda: name in seen, f"{name} to be noticed")
    return seen[name] - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(label: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"{label:<34} n={len(ms):<4} p50={percentile(ms, 0.5):7.1f} ms  "
        f"p99={percentile(ms, 0.99):7.1f} ms  mean={statistics.fmean(ms):7.1f} ms  "
        f"max={max(ms):7.1f} ms\n"
    )


def main() -> int:
    configure_logging("WARNING", LogFormat.TEXT)
    count = int(os.environ.get("KCR_BENCH_OPERATOR_REQUESTS", "60"))
    cluster = TimedCluster()
    seen: dict[str, float] = {}
    with EmulatorThread(namespaces=("bench", "bench-noop")) as emulator:
        assert emulator.kube is not None
        url = emulator.kube.url
        with httpx.Client(base_url=url, timeout=10) as client:
            client.post(
                "/apis/kcr.dev/v1alpha1/namespaces/bench/kafkaclusters",
                json={"metadata": {"name": "prod"}, "spec": {"bootstrapServers": "kafka:9092"}},
            ).raise_for_status()
            with kcr_operator(url, FakeKafka(cluster)), noop_operator(url, seen):
                kcr = [kcr_reaction(client, cluster, i) for i in range(WARMUP + count)][WARMUP:]
                noop = [noop_reaction(client, seen, i) for i in range(WARMUP + count)][WARMUP:]
    sys.stdout.write("approval annotation → reaction, kmock emulator over HTTP, same run\n")
    sys.stdout.write(report("kcr: approval → first Kafka write", kcr))
    sys.stdout.write(report("kopf no-op handler: annotation seen", noop))
    overhead = percentile(kcr, 0.5) - percentile(noop, 0.5)
    sys.stdout.write(
        f"kcr adds {overhead * 1000:.1f} ms at p50 over the framework floor (two status "
        "writes, a KafkaCluster read and a snapshot before the write)\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
