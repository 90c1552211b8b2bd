"""The operator at scale: 1,000 KafkaChangeRequests in one namespace, then approvals timed.

The kmock emulator runs in its own process (this file, ``--serve-emulator``), so the
memory measured here is the operator's, with the bench's small HTTP client beside it. The
real operator (kopf, the engine, status writes, snapshots through the Kafka fake) runs in
a thread of this process:

1. the requests are created, CreateTopic each, and the bench waits until the operator has
   reviewed every one of them (``AwaitingApproval``), with tracemalloc on: the peak of
   Python allocations and the growth of the process's RSS while it took them in;
2. with tracemalloc off (it slows every allocation), a sample spread across the requests is
   approved one after another while all of them exist, after five approvals not counted;
   the clock starts before the approval annotation is sent and stops when the fake
   receives the topic's creation.

Target: p99 from approval to first Kafka write under 1 s. ``KCR_BENCH_OPERATOR_SCALE``
sets the number of requests (default 1,000), ``KCR_BENCH_OPERATOR_SAMPLE`` the approvals
timed (default 50).
"""

import os
import select
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
from bench_operator import (
    KCR,
    MERGE,
    TimedCluster,
    create,
    kcr_operator,
    percentile,
    report,
    spec,
    wait_until,
)

from kcr.embedded.kube_emulator import EmulatorThread
from kcr.kafka.fake import FakeKafka
from kcr.operator.logs import configure_logging
from kcr.operator.settings import LogFormat

NAMESPACE = "bench"
TARGET_P99_SECONDS = 1.0
START_SECONDS = 60.0
REVIEW_SECONDS = 600.0
SERVE_FLAG = "--serve-emulator"
WARMUP = 5
"""Approvals right after the last review are timed but not counted, as in bench_operator:
the operator may still be posting the reviews' Events."""


def rss_bytes() -> int:
    """The process's resident set now, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def serve_emulator() -> int:
    """Print the emulator's URL, then serve until stdin closes (the bench ends)."""
    with EmulatorThread(namespaces=(NAMESPACE,)) as emulator:
        assert emulator.kube is not None
        sys.stdout.write(emulator.kube.url + "\n")
        sys.stdout.flush()
        sys.stdin.read()
    return 0


class EmulatorProcess:
    """The emulator in a child process, started until it prints its URL, stopped by pid."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> "EmulatorProcess":
        self.process = subprocess.Popen(
            [sys.executable, __file__, SERVE_FLAG],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert self.process.stdout is not None
        readable, _, _ = select.select([self.process.stdout], [], [], START_SECONDS)
        line = self.process.stdout.readline().strip() if readable else ""
        if not line.startswith("http"):
            self.__exit__()
            raise RuntimeError(f"the emulator process did not start: {line!r}")
        self.url = line
        return self

    def __exit__(self, *_: object) -> None:
        if self.process is None:
            return
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(START_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(START_SECONDS)


def phases(client: httpx.Client) -> dict[str, int]:
    response = client.get(KCR.format(namespace=NAMESPACE))
    response.raise_for_status()
    counts: dict[str, int] = {}
    for item in response.json().get("items", []):
        phase = (item.get("status") or {}).get("phase", "New")
        counts[phase] = counts.get(phase, 0) + 1
    return counts


def approve(client: httpx.Client, cluster: TimedCluster, index: int) -> float:
    path = f"{KCR.format(namespace=NAMESPACE)}/scale-{index}"
    spec_hash = client.get(path).json()["status"]["specHash"]
    approval = {"kcr.dev/approved-by": "bob", "kcr.dev/approved-spec-hash": spec_hash}
    topic = f"scale-topic-{index}"
    started = time.perf_counter()
    client.patch(path, json={"metadata": {"annotations": approval}}, headers=MERGE)
    wait_until(lambda: topic in cluster.written, f"scale-{index} to write")
    return cluster.written[topic] - started


def ingest(client: httpx.Client, count: int) -> float:
    """Create ``count`` requests and wait until each one awaits approval; the seconds taken."""
    started = time.monotonic()
    for index in range(count):
        create(client, NAMESPACE, f"scale-{index}", spec(f"scale-topic-{index}"))
    deadline = time.monotonic() + REVIEW_SECONDS
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        counts = phases(client)
        if counts.get("AwaitingApproval", 0) == count:
            return time.monotonic() - started
        time.sleep(2.0)  # listing every request is heavy: this process hosts the operator too
    raise RuntimeError(f"not every request was reviewed in {REVIEW_SECONDS:.0f}s: {counts}")


def measure(url: str, count: int, sample: int) -> tuple[dict[str, Any], list[float]]:
    cluster = TimedCluster()
    with httpx.Client(base_url=url, timeout=30) as client:
        client.post(
            f"/apis/kcr.dev/v1alpha1/namespaces/{NAMESPACE}/kafkaclusters",
            json={"metadata": {"name": "prod"}, "spec": {"bootstrapServers": "kafka:9092"}},
        ).raise_for_status()
        rss_before = rss_bytes()
        tracemalloc.start()
        with kcr_operator(url, FakeKafka(cluster)):
            ingest_seconds = ingest(client, count)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss_reviewed = rss_bytes()
            step = max(1, count // (sample + WARMUP))
            indexes = list(range(0, count, step))[: sample + WARMUP]
            timed = [approve(client, cluster, index) for index in indexes]
            warmup, latencies = timed[:WARMUP], timed[WARMUP:]
            rss_after = rss_bytes()
    memory = {
        "ingest_seconds": ingest_seconds,
        "peak": peak,
        "rss_reviewed": rss_reviewed - rss_before,
        "rss_after": rss_after - rss_before,
        "warmup": warmup,
    }
    return memory, latencies


def main() -> int:
    configure_logging("WARNING", LogFormat.TEXT)
    count = int(os.environ.get("KCR_BENCH_OPERATOR_SCALE", "1000"))
    sample = int(os.environ.get("KCR_BENCH_OPERATOR_SAMPLE", "50"))
    with EmulatorProcess() as emulator:
        memory, latencies = measure(emulator.url, count, sample)
    mib = 1024 * 1024
    sys.stdout.write(
        f"{count} KafkaChangeRequests in one namespace, kmock emulator in its own process\n"
        f"all reviewed (AwaitingApproval) in {memory['ingest_seconds']:.1f} s\n"
        f"operator memory: RSS +{memory['rss_reviewed'] / mib:.1f} MiB once all were "
        f"reviewed, +{memory['rss_after'] / mib:.1f} MiB after the approvals; "
        f"tracemalloc peak {memory['peak'] / mib:.1f} MiB while taking them in\n"
    )
    first = ", ".join(f"{s * 1000:.0f}" for s in memory["warmup"])
    sys.stdout.write(f"first {WARMUP} approvals after the last review (not counted): {first} ms\n")
    sys.stdout.write(report(f"approval → first write, {count} exist", latencies))
    slowest = max(range(len(latencies)), key=latencies.__getitem__)
    sys.stdout.write(f"slowest: approval {slowest + 1} of {len(latencies)}\n")
    p99 = percentile(latencies, 0.99)
    met = p99 < TARGET_P99_SECONDS
    sys.stdout.write(
        f"target: p99 approval → first Kafka write < {TARGET_P99_SECONDS * 1000:.0f} ms "
        f"with {count} requests: {p99 * 1000:.1f} ms, {'met' if met else 'MISSED'}\n"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(serve_emulator() if SERVE_FLAG in sys.argv else main())
