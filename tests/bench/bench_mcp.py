"""MCP overhead: p50 and p99 of one read tool called directly, through stdio and HTTP.

One run, one broker (tansu, or ``KCR_KAFKA_BOOTSTRAP``), one consumer group over a
12-partition topic. The same ``consumer_lag`` function is called three ways:

- direct: ``kcr.mcp.tools.groups.consumer_lag(env, group=...)`` in this process;
- stdio: a ``kcr mcp --transport stdio`` subprocess through the SDK's stdio client;
- http: a ``kcr mcp --transport http`` subprocess through the SDK's streamable HTTP
  client with a bearer token (auth, gate, audit and metrics all on the path).

``KCR_BENCH_MCP_CALLS`` sets the timed calls per transport (default 300). The target:
the MCP path adds at most ``KCR_BENCH_MCP_OVERHEAD_MS`` (default 10) milliseconds to the
direct call's p50, for both transports.
"""

import asyncio
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2
import yaml
from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as ConfluentPartition
from confluent_kafka.admin import AdminClient, NewTopic
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from kcr.embedded.tansu import bootstrap_servers
from kcr.kafka.connect import open_kafka
from kcr.kafka.settings import ClientSettings
from kcr.mcp.calls import CallContext
from kcr.mcp.cluster import ClusterContext
from kcr.mcp.drafts import YamlDraftSink
from kcr.mcp.identity import Caller, Role, Scope
from kcr.mcp.runbooks import RunbookLibrary
from kcr.mcp.sampler import GroupSampler
from kcr.mcp.services import Services
from kcr.mcp.tools.env import ToolEnv
from kcr.mcp.tools.groups import consumer_lag

PARTITIONS = 12
WARMUP = 20
TOKEN = "bench-token-0123456789abcdef"
KCR = str(Path(sys.executable).with_name("kcr"))
START_TIMEOUT = 30.0


def _setting(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def prepare(bootstrap: str, topic: str, group: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
        future.result(START_TIMEOUT)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 1})
    for partition in range(PARTITIONS):
        for _ in range(10):
            producer.produce(topic, b"x", partition=partition)
    producer.flush(START_TIMEOUT)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        consumer.commit(
            offsets=[ConfluentPartition(topic, p, 5) for p in range(PARTITIONS)],
            asynchronous=False,
        )
    finally:
        consumer.close()


async def timed(call: Callable[[], Awaitable[Any]], count: int) -> list[float]:
    """Warm-up calls must succeed: timing a path that answers with errors measures nothing."""
    for _ in range(WARMUP):
        _succeeded(await call())
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def direct(bootstrap: str, group: str, count: int) -> list[float]:
    kafka = open_kafka(bootstrap, settings=ClientSettings(request_timeout=10))
    services = Services(
        kafka=kafka,
        cluster=ClusterContext(name="bench", namespace="default"),
        drafts=YamlDraftSink(),
        runbooks=RunbookLibrary.load(),
        sampler=GroupSampler(kafka, interval=0),
    )
    caller = Caller(principal="bench", roles=[Role.VIEWER], scope=Scope.everything())
    env = ToolEnv(services, CallContext(caller, "bench", "direct", "consumer_lag"))
    try:
        return await timed(lambda: consumer_lag(env, group=group), count)
    finally:
        await kafka.close()


def _succeeded(result: Any) -> None:
    if getattr(result, "is_error", False):
        raise RuntimeError(f"consumer_lag failed: {result.content[0].text}")
    groups = getattr(result, "groups", None)
    if groups is None:
        groups = (getattr(result, "structured_content", None) or {}).get("groups")
    if not groups:
        raise RuntimeError(f"consumer_lag returned no group: {result}")


def common_arguments(bootstrap: str, audit: Path) -> list[str]:
    return [
        "mcp",
        f"--kafka-bootstrap={bootstrap}",
        "--drafts=yaml",
        "--sample-interval=0",
        "--rate-limit=1000000",
        "--rate-burst=1000000",
        f"--audit-log={audit}",
        "--log-level=WARNING",
    ]


async def over_stdio(bootstrap: str, group: str, count: int, workdir: Path) -> list[float]:
    params = StdioServerParameters(
        command=KCR,
        args=[*common_arguments(bootstrap, workdir / "stdio-audit.jsonl"), "--transport=stdio"],
        env={"KUBECONFIG": str(workdir / "none")},
    )
    async with Client(params) as client:
        return await timed(lambda: client.call_tool("consumer_lag", {"group": group}), count)


@contextlib.asynccontextmanager
async def http_server(bootstrap: str, workdir: Path) -> AsyncIterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    access = workdir / "access.yaml"
    access.write_text(
        yaml.safe_dump(
            {
                "tokens": [
                    {
                        "token": TOKEN,
                        "principal": "bench",
                        "roles": ["viewer"],
                        "topicPrefixes": ["*"],
                        "groupPrefixes": ["*"],
                    }
                ]
            }
        )
    )
    arguments = [
        KCR,
        *common_arguments(bootstrap, workdir / "http-audit.jsonl"),
        "--transport=http",
        f"--port={port}",
        f"--token-file={access}",
    ]
    env = {**os.environ, "KUBECONFIG": str(workdir / "none")}
    with (workdir / "http.log").open("wb") as log:
        process = subprocess.Popen(
            arguments, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"kcr mcp http did not start: {(workdir / 'http.log').read_text()}"
                )
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        if process.poll() is None:  # an exited server is already reaped: nothing to stop
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(10)


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


async def over_http(bootstrap: str, group: str, count: int, workdir: Path) -> list[float]:
    async with (
        http_server(bootstrap, workdir) as url,
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        return await timed(lambda: client.call_tool("consumer_lag", {"group": group}), count)


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


async def run(bootstrap: str, count: int, workdir: Path) -> dict[str, list[float]]:
    name = f"bench-mcp-{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(prepare, bootstrap, name, f"{name}-group")
    group = f"{name}-group"
    return {
        "direct": await direct(bootstrap, group, count),
        "stdio": await over_stdio(bootstrap, group, count, workdir),
        "http": await over_http(bootstrap, group, count, workdir),
    }


def main() -> int:
    count = int(_setting("KCR_BENCH_MCP_CALLS", 300))
    target = _setting("KCR_BENCH_MCP_OVERHEAD_MS", 10.0)
    with (
        bootstrap_servers() as bootstrap,
        tempfile.TemporaryDirectory(prefix="kcr-bench-mcp-") as tmp,
    ):
        results = asyncio.run(run(bootstrap, count, Path(tmp)))
    base = percentile(results["direct"], 50)
    lines = [
        f"consumer_lag, one group x {PARTITIONS} partitions, {count} calls per path "
        f"(after {WARMUP} warm-up calls)",
        f"{'path':<8}{'p50 ms':>10}{'p99 ms':>10}{'+p50 ms':>10}",
    ]
    missed = []
    for path, samples in results.items():
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        lines.append(f"{path:<8}{p50:>10.2f}{p99:>10.2f}{p50 - base:>10.2f}")
        if path != "direct" and p50 - base > target:
            missed.append(f"{path} adds {p50 - base:.1f} ms to p50 (target {target:.0f} ms)")
    lines.append(f"target: MCP adds at most {target:.0f} ms to the direct p50")
    lines += [f"MISSED: {m}" for m in missed]
    sys.stdout.write("\n".join(lines) + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
