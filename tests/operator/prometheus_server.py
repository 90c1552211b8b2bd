"""A real Prometheus (Debian's ``prometheus`` binary) scraping a test exporter, on free
127.0.0.1 ports, stopped by process id."""

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, Gauge, start_http_server

START_SECONDS = 30.0


@dataclass
class Exporter:
    """What the scraped service reports: one gauge per topic, changed by the test."""

    port: int
    unhealthy: Gauge


@contextmanager
def exporter() -> Iterator[Exporter]:
    registry = CollectorRegistry()
    gauge = Gauge(
        "kcr_test_unhealthy", "1 when the topic is unhealthy", ["topic"], registry=registry
    )
    gauge.labels("orders").set(0)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        yield Exporter(int(server.server_port), gauge)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def prometheus(
    binary: str,
    scrape_port: int,
    port: int,
    workdir: Path,
    ready_query: str = "kcr_test_unhealthy",
) -> Iterator[str]:
    """Prometheus scraping ``scrape_port`` every second, yielded once ``ready_query`` has
    a result."""
    config = workdir / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: exporter\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{scrape_port}']}}]\n"
    )
    log = (workdir / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_scraped(url, process, ready_query)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def wait_until_scraped(url: str, process: subprocess.Popen[bytes], query: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited with code {process.returncode}")
        try:
            body = httpx.get(f"{url}/api/v1/query", params={"query": query}).json()
            if body.get("data", {}).get("result"):
                return
        except (httpx.HTTPError, ValueError):  # not listening yet, or not ready to answer JSON
            pass
        time.sleep(0.2)
    raise RuntimeError(f"prometheus at {url} had no result for {query} in {START_SECONDS}s")
