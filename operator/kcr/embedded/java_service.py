"""One Java HTTP service on 127.0.0.1 (Kafka Connect, Apicurio Registry), known by its pid.

Each gets a fresh directory and a free port, logs to a file in that directory, is ready when
a GET of its ready path answers 200, and is stopped by pid like the brokers (SIGTERM, then
SIGKILL after the grace period); its directory goes with it.
"""

import contextlib
import logging
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from kcr.embedded.kraft import KraftError, stop_process
from kcr.embedded.tansu import LOOPBACK, free_port

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
LOG_TAIL_BYTES = 1500

Command = Callable[[Path, int], list[str]]
"""The service's argv, given its directory and port (it may write its files there first)."""


@dataclass
class JavaService:
    name: str
    url: str
    """The server's root."""
    api_url: str
    """Where its API is served: the root, or a prefix under it."""
    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def log_path(self) -> Path:
        return self.directory / "service.log"

    def log_tail(self) -> str:
        try:
            return self.log_path.read_bytes()[-LOG_TAIL_BYTES:].decode(errors="replace")
        except OSError:
            return ""


def start_service(
    name: str,
    command: Command,
    *,
    ready_path: str,
    api_path: str = "",
    in_directory: bool = False,
    ready_timeout: float = 120.0,
) -> JavaService:
    """Start ``command`` and wait until ``GET api_url + ready_path`` answers 200."""
    directory = Path(tempfile.mkdtemp(prefix=f"kcr-{name.lower().replace(' ', '-')}-"))
    port = free_port()
    argv = command(directory, port)
    url = f"http://{LOOPBACK}:{port}"
    with (directory / "service.log").open("ab") as output:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=directory if in_directory else None,
            start_new_session=True,
        )
    service = JavaService(name, url, url + api_path, directory, process)
    try:
        _wait_ready(service, service.api_url + ready_path, ready_timeout)
    except BaseException:
        stop_service(service)
        raise
    log.info("%s on %s (pid %d)", name, url, process.pid)
    return service


def _wait_ready(service: JavaService, probe: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise KraftError(f"{service.name} exited: {service.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(probe, timeout=2.0).status_code == 200:
                return
        time.sleep(POLL_SECONDS)
    raise KraftError(f"{service.name} did not answer within {timeout:.0f}s: {service.log_tail()}")


def stop_service(service: JavaService) -> None:
    stop_process(service.process)
    shutil.rmtree(service.directory, ignore_errors=True)


@contextlib.contextmanager
def running(service: JavaService) -> Iterator[JavaService]:
    """Stop ``service`` by pid when the block ends, however it ends."""
    try:
        yield service
    finally:
        stop_service(service)
