"""Prometheus on 127.0.0.1 scraping the embedded brokers' JMX exporter agents.

Debian's ``prometheus`` binary, in a directory of its own: a scrape every second, each
target labelled ``broker`` with its node id, as a scrape configuration's relabelling sets it
on a real cluster (``kcr.mcp.broker_metrics`` expects that label). Ready once every target
is up; stopped by process id, its directory removed.
"""

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

from kcr.embedded.kraft import KraftError, stop_process
from kcr.embedded.tansu import LOOPBACK, free_port

BINARY = "prometheus"
READY_SECONDS = 60.0
JOB = "kafka"


@dataclass
class RunningPrometheus:
    url: str
    directory: Path
    process: "subprocess.Popen[bytes]"


def prometheus_binary() -> str:
    found = shutil.which(BINARY)
    if found is None:
        raise KraftError(
            "no prometheus on PATH (Debian's prometheus package): broker metrics are not read"
        )
    return found


Jobs = Mapping[str, Mapping[int, int]]
"""Job name → broker id → the port of that broker's exporter."""


def _config(jobs: Jobs) -> str:
    lines = ["global: {scrape_interval: 1s, evaluation_interval: 1s}", "scrape_configs:"]
    for job, targets in jobs.items():
        lines += [f"  - job_name: {job}", "    static_configs:"]
        lines += [
            f"      - {{targets: ['{LOOPBACK}:{port}'], labels: {{broker: '{broker}'}}}}"
            for broker, port in sorted(targets.items())
        ]
    return "\n".join(lines) + "\n"


def _targets_up(url: str) -> int:
    query = "count(up == 1)"
    try:
        body = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=2).json()
        result = body.get("data", {}).get("result", [])
        return int(float(result[0]["value"][1])) if result else 0
    except (httpx.HTTPError, ValueError, KeyError, IndexError):
        return 0


@contextlib.contextmanager
def running_prometheus(jobs: Jobs, *, binary: str | None = None) -> Iterator[RunningPrometheus]:
    """Prometheus scraping each job's exporters (``{JOB: agents.ports}`` for the brokers);
    yields once every target was scraped up, or raises :class:`KraftError` saying why not."""
    binary = binary or prometheus_binary()
    targets = sum(len(t) for t in jobs.values())
    directory = Path(tempfile.mkdtemp(prefix="kcr-prometheus-"))
    (directory / "prometheus.yml").write_text(_config(jobs))
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    with (directory / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={directory / 'prometheus.yml'}",
                f"--storage.tsdb.path={directory / 'data'}",
                "--storage.tsdb.retention.time=2h",
                f"--web.listen-address={LOOPBACK}:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        retrying = Retrying(
            retry=retry_if_result(lambda up: up < targets and process.poll() is None),
            stop=stop_after_delay(READY_SECONDS),
            wait=wait_fixed(0.5),
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else 0,
        )
        if retrying(_targets_up, url) < targets:
            tail = (directory / "prometheus.log").read_bytes()[-800:].decode(errors="replace")
            raise KraftError(
                f"Prometheus at {url} did not scrape all {targets} targets within "
                f"{READY_SECONDS:.0f}s (exit {process.poll()}): {tail}"
            )
        yield RunningPrometheus(url, directory, process)
    finally:
        stop_process(process)
        shutil.rmtree(directory, ignore_errors=True)
