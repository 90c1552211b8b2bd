"""MCP layer: kcr's ``consumer_lag`` next to a bare MCP SDK server, one call and many at once.

One run, one broker (tansu, or ``KCR_KAFKA_BOOTSTRAP``), one consumer group over a
12-partition topic. Contenders, measured side by side:

- direct: ``kcr.mcp.tools.groups.consumer_lag(env, group=...)`` in this process;
- kcr over stdio and over streamable HTTP (bearer token: auth, gate, audit, metrics);
- bare: ``bare_server.py``, an MCP SDK server over the same transports, whose
  ``consumer_lag`` returns the direct call's answer without looking (the client receives
  and validates the same result as from kcr) and whose ``trivial`` tool returns two fields.

One call at a time, alternating the contenders (``KCR_BENCH_MCP_CALLS``, default 300):
kcr's layer is its p50 minus the direct call's p50 minus the bare ``consumer_lag``'s p50;
target at most ``KCR_BENCH_MCP_LAYER_MS`` (default 1) for each transport. The trivial
tool's p50 is printed beside it: the SDK's own round trip.

Many at once: ``KCR_BENCH_MCP_SESSIONS`` (default 50) HTTP sessions, each making
``KCR_BENCH_MCP_SESSION_CALLS`` (default 20) calls about the same group, against kcr and
then the bare server. Targets: kcr's throughput at least 0.8x the bare server's and its p99
at most 1.5x; every call audited exactly once (records and distinct correlation ids
counted). The Kafka requests kcr sent meanwhile are read from its ``/metrics``.
"""

import asyncio
import contextlib
import json
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
from dataclasses import dataclass
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
from kcr.mcp.cluster import ClusterContext
from kcr.mcp.drafts import YamlDraftSink
from kcr.mcp.gate.calls import CallContext
from kcr.mcp.gate.identity import Caller, Role, Scope
from kcr.mcp.runbooks import RunbookLibrary
from kcr.mcp.sampler import GroupSampler
from kcr.mcp.services import Services
from kcr.mcp.tools.env import ToolEnv
from kcr.mcp.tools.groups import consumer_lag

PARTITIONS = 12
WARMUP = 20
TOKEN = "bench-token-0123456789abcdef"
KCR = str(Path(sys.executable).with_name("kcr"))
BARE = str(Path(__file__).resolve().with_name("bare_server.py"))
START_TIMEOUT = 30.0
CALL_TIMEOUT = 60.0
METRICS_LAG = 1.2  # librdkafka statistics reach kcr's /metrics once a second


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


Call = Callable[[], Awaitable[Any]]


async def timed(call: Call, count: int) -> list[float]:
    """Warm-up calls must succeed: timing a path that answers with errors measures nothing."""
    for _ in range(WARMUP):
        _succeeded(await call())
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def alternated(calls: dict[str, Call], count: int) -> dict[str, list[float]]:
    """One call of each contender in turn, so background load hits them alike."""
    for call in calls.values():
        for _ in range(WARMUP):
            _succeeded(await call())
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(count):
        for name, call in calls.items():
            started = time.perf_counter()
            await call()
            samples[name].append((time.perf_counter() - started) * 1000)
    return samples


async def direct(bootstrap: str, group: str, count: int, answer: Path) -> list[float]:
    """Timed calls in this process; the last answer is kept for the bare server."""
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
        samples = await timed(lambda: consumer_lag(env, group=group), count)
        answer.write_text((await consumer_lag(env, group=group)).model_dump_json(by_alias=True))
        return samples
    finally:
        await kafka.close()


def _succeeded(result: Any) -> None:
    if getattr(result, "is_error", False):
        raise RuntimeError(f"consumer_lag failed: {result.content[0].text}")
    if getattr(result, "groups", None) or getattr(result, "structured_content", None):
        return
    raise RuntimeError(f"consumer_lag returned nothing: {result}")


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


@contextlib.asynccontextmanager
async def stdio_clients(bootstrap: str, workdir: Path) -> AsyncIterator[dict[str, Client]]:
    kcr = StdioServerParameters(
        command=KCR,
        args=[*common_arguments(bootstrap, workdir / "stdio-audit.jsonl"), "--transport=stdio"],
        env={"KUBECONFIG": str(workdir / "none")},
    )
    bare = StdioServerParameters(
        command=sys.executable, args=[BARE, str(workdir / "answer.json"), "stdio"]
    )
    async with Client(kcr) as kcr_client, Client(bare) as bare_client:
        yield {"kcr": kcr_client, "bare": bare_client}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def served(arguments: list[str], port: int, log: Path) -> AsyncIterator[str]:
    """A server subprocess on 127.0.0.1:``port``, stopped by its process id."""
    env = {**os.environ, "KUBECONFIG": str(log.parent / "none")}
    with log.open("wb") as output:
        process = subprocess.Popen(
            arguments, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{arguments[0]} did not start: {log.read_text()}")
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


@dataclass(frozen=True)
class KcrHttp:
    url: str
    metrics_port: int
    audit: Path


@contextlib.asynccontextmanager
async def kcr_http(bootstrap: str, workdir: Path) -> AsyncIterator[KcrHttp]:
    port, metrics_port = _free_port(), _free_port()
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
    audit = workdir / "http-audit.jsonl"
    arguments = [
        KCR,
        *common_arguments(bootstrap, audit),
        "--transport=http",
        f"--port={port}",
        f"--metrics-port={metrics_port}",
        f"--token-file={access}",
    ]
    async with served(arguments, port, workdir / "http.log") as url:
        yield KcrHttp(url=url, metrics_port=metrics_port, audit=audit)


@contextlib.asynccontextmanager
async def bare_http(workdir: Path, answer: Path) -> AsyncIterator[str]:
    port = _free_port()
    arguments = [sys.executable, BARE, str(answer), "http", str(port)]
    async with served(arguments, port, workdir / "bare.log") as url:
        yield url


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


@contextlib.asynccontextmanager
async def http_session(url: str, token: str | None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=CALL_TIMEOUT) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


@dataclass
class Crowd:
    """Many sessions at once: calls per second, latencies, and what kcr counted meanwhile."""

    throughput: float
    p50: float
    p99: float
    kafka_requests: int | None = None
    audited: int | None = None
    correlation_ids: int | None = None


async def crowd(url: str, token: str | None, group: str, sessions: int, calls: int) -> Crowd:
    """Every session opens (and warms up) first; the clock runs over the calls only."""
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(http_session(url, token)) for _ in range(sessions)
        ]
        for client in clients:
            _succeeded(await client.call_tool("consumer_lag", {"group": group}))
        latencies: list[float] = []

        async def session(client: Client) -> None:
            for _ in range(calls):
                started = time.perf_counter()
                _succeeded(await client.call_tool("consumer_lag", {"group": group}))
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(session(c) for c in clients))
        elapsed = time.perf_counter() - started
    return Crowd(
        throughput=len(latencies) / elapsed,
        p50=percentile(latencies, 50),
        p99=percentile(latencies, 99),
    )


async def kafka_requests(metrics_port: int) -> int:
    async with httpx2.AsyncClient(timeout=10) as http:
        text = (await http.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
    for line in text.splitlines():
        if line.startswith("kcr_mcp_kafka_requests_total "):
            return int(float(line.split()[1]))
    raise RuntimeError("kcr's /metrics has no kcr_mcp_kafka_requests_total")


def audit_counts(audit: Path) -> tuple[int, int]:
    """consumer_lag records that succeeded, and their distinct correlation ids."""
    ids = []
    for line in audit.read_text().splitlines():
        record = json.loads(line)
        if record.get("tool") == "consumer_lag" and record.get("outcome") == "ok":
            ids.append(record.get("correlationId") or record.get("correlation_id"))
    return len(ids), len(set(ids))


async def settled_requests(server: KcrHttp, group: str) -> int:
    """After a pause, one more call makes kcr's client report its latest statistics."""
    await asyncio.sleep(METRICS_LAG)
    async with http_session(server.url, TOKEN) as client:
        await client.call_tool("cluster_overview", {})
    await asyncio.sleep(0.1)
    return await kafka_requests(server.metrics_port)


async def crowds(bootstrap: str, group: str, workdir: Path) -> dict[str, Crowd]:
    """Alternating rounds of kcr and bare (``KCR_BENCH_MCP_ROUNDS``, default 3), so load from
    elsewhere on the machine hits both alike; each contender's median round is kept."""
    sessions = int(_setting("KCR_BENCH_MCP_SESSIONS", 50))
    calls = int(_setting("KCR_BENCH_MCP_SESSION_CALLS", 20))
    rounds = int(_setting("KCR_BENCH_MCP_ROUNDS", 3))
    kcr_rounds, bare_rounds = [], []
    async with (
        kcr_http(bootstrap, workdir) as server,
        bare_http(workdir, workdir / "answer.json") as bare_url,
    ):
        before_requests = await settled_requests(server, group)
        before_audit = audit_counts(server.audit)
        for _ in range(rounds):
            kcr_rounds.append(await crowd(server.url, TOKEN, group, sessions, calls))
            bare_rounds.append(await crowd(bare_url, None, group, sessions, calls))
        after_audit = audit_counts(server.audit)
        requests = await settled_requests(server, group) - before_requests
    kcr, bare = _median(kcr_rounds), _median(bare_rounds)
    kcr.kafka_requests = round(requests / rounds)
    warmups = rounds * sessions  # one warm-up call per session and round
    kcr.audited = after_audit[0] - before_audit[0] - warmups  # over every round
    kcr.correlation_ids = after_audit[1] - before_audit[1] - warmups
    return {"kcr": kcr, "bare": bare}


def _median(rounds: list[Crowd]) -> Crowd:
    """The round of median throughput."""
    return sorted(rounds, key=lambda r: r.throughput)[len(rounds) // 2]


async def run(bootstrap: str, count: int, workdir: Path) -> dict[str, Any]:
    name = f"bench-mcp-{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(prepare, bootstrap, name, f"{name}-group")
    group = f"{name}-group"
    lag = {"group": group}
    results: dict[str, Any] = {
        "direct": await direct(bootstrap, group, count, workdir / "answer.json")
    }
    async with stdio_clients(bootstrap, workdir) as clients:
        results["stdio"] = await alternated(
            {
                "kcr": lambda: clients["kcr"].call_tool("consumer_lag", lag),
                "bare": lambda: clients["bare"].call_tool("consumer_lag", lag),
                "trivial": lambda: clients["bare"].call_tool("trivial", lag),
            },
            count,
        )
    async with (
        kcr_http(bootstrap, workdir / "one") as server,
        bare_http(workdir / "one", workdir / "answer.json") as bare_url,
        http_session(server.url, TOKEN) as kcr_client,
        http_session(bare_url, None) as bare_client,
    ):
        results["http"] = await alternated(
            {
                "kcr": lambda: kcr_client.call_tool("consumer_lag", lag),
                "bare": lambda: bare_client.call_tool("consumer_lag", lag),
                "trivial": lambda: bare_client.call_tool("trivial", lag),
            },
            count,
        )
    results["crowd"] = await crowds(bootstrap, group, workdir)
    return results


def report(results: dict[str, Any], count: int) -> int:
    layer_target = _setting("KCR_BENCH_MCP_LAYER_MS", 1.0)
    base = percentile(results["direct"], 50)
    lines = [
        f"consumer_lag, one group x {PARTITIONS} partitions, {count} calls per path "
        f"(after {WARMUP} warm-up calls); reads within a second are shared, so most calls "
        "are answered without a Kafka request",
        f"{'path':<14}{'p50 ms':>10}{'p99 ms':>10}",
        f"{'direct':<14}{base:>10.2f}{percentile(results['direct'], 99):>10.2f}",
    ]
    missed = []
    for transport in ("stdio", "http"):
        samples = results[transport]
        for name in ("kcr", "bare", "trivial"):
            p50, p99 = percentile(samples[name], 50), percentile(samples[name], 99)
            lines.append(f"{f'{name} {transport}':<14}{p50:>10.2f}{p99:>10.2f}")
        layer = percentile(samples["kcr"], 50) - base - percentile(samples["bare"], 50)
        lines.append(
            f"kcr's layer over {transport}: {layer:+.2f} ms at p50 beyond the direct call and "
            f"the bare SDK round trip (target <= {layer_target:g} ms)"
        )
        if layer > layer_target:
            missed.append(f"kcr's layer over {transport} adds {layer:.2f} ms")
    kcr, bare = results["crowd"]["kcr"], results["crowd"]["bare"]
    sessions = int(_setting("KCR_BENCH_MCP_SESSIONS", 50))
    calls = int(_setting("KCR_BENCH_MCP_SESSION_CALLS", 20))
    lines += [
        f"{sessions} HTTP sessions at once, {calls} calls each; the median of "
        f"{int(_setting('KCR_BENCH_MCP_ROUNDS', 3))} alternating rounds; Kafka requests per round",
        f"{'server':<14}{'calls/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'Kafka requests':>16}",
        f"{'kcr':<14}{kcr.throughput:>10.1f}{kcr.p50:>10.1f}{kcr.p99:>10.1f}"
        f"{kcr.kafka_requests:>16}",
        f"{'bare':<14}{bare.throughput:>10.1f}{bare.p50:>10.1f}{bare.p99:>10.1f}{'-':>16}",
    ]
    throughput, tail = kcr.throughput / bare.throughput, kcr.p99 / bare.p99
    lines.append(f"kcr throughput: {throughput:.2f}x the bare server's (target >= 0.8x)")
    lines.append(f"kcr p99: {tail:.2f}x the bare server's (target <= 1.5x)")
    rounds = int(_setting("KCR_BENCH_MCP_ROUNDS", 3))
    expected = rounds * sessions * calls
    lines.append(
        f"audit, over {rounds} rounds: {kcr.audited} records of {expected} calls, "
        f"{kcr.correlation_ids} distinct correlation ids (target: exactly one each)"
    )
    if throughput < 0.8:
        missed.append(f"throughput {throughput:.2f}x")
    if tail > 1.5:
        missed.append(f"p99 {tail:.2f}x")
    if not kcr.audited == kcr.correlation_ids == expected:
        missed.append("audit records lost or duplicated")
    lines += [f"MISSED: {m}" for m in missed]
    sys.stdout.write("\n".join(lines) + "\n")
    return 1 if missed else 0


def main() -> int:
    count = int(_setting("KCR_BENCH_MCP_CALLS", 300))
    with (
        bootstrap_servers() as bootstrap,
        tempfile.TemporaryDirectory(prefix="kcr-bench-mcp-") as tmp,
    ):
        (Path(tmp) / "one").mkdir()
        results = asyncio.run(run(bootstrap, count, Path(tmp)))
    return report(results, count)


if __name__ == "__main__":
    sys.exit(main())
