"""A Kafka Connect worker (standalone mode) on 127.0.0.1, for tests that read Connect's REST API.

Its jars come from Maven Central through ``maven/connect/pom.xml`` (``python -m
kcr.embedded.connect`` resolves them once); it joins an embedded Apache Kafka as the admin
over SASL/PLAIN, with the FileStream connectors on its classpath, and is stopped by pid.
"""

import contextlib
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from kcr.embedded.kraft import (
    ADMIN,
    LOG4J2,
    KraftCluster,
    KraftError,
    java_command,
    password_of,
    resolve_classpath,
    stop_process,
)
from kcr.embedded.tansu import LOOPBACK, free_port

log = logging.getLogger(__name__)

POM = Path(__file__).with_name("maven") / "connect" / "pom.xml"
# connect-file 4.4.0 is not published; see the pom.
CONNECT_VERSION = "4.3.1"
NAME = f"connect-{CONNECT_VERSION}"
POLL_SECONDS = 0.2


@dataclass
class ConnectWorker:
    url: str
    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def log_path(self) -> Path:
        return self.directory / "connect.log"


def connect_classpath(*, offline: bool = False) -> str:
    return resolve_classpath(offline=offline, pom=POM, name=NAME)


def _properties(cluster: KraftCluster, port: int, directory: Path) -> str:
    jaas = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{ADMIN}" password="{password_of(ADMIN)}";'
    )
    security = {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "PLAIN",
        "sasl.jaas.config": jaas,
    }
    settings = {
        "bootstrap.servers": cluster.bootstrap,
        "listeners": f"http://{LOOPBACK}:{port}",
        "rest.advertised.host.name": LOOPBACK,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "offset.storage.file.filename": str(directory / "offsets"),
        "offset.flush.interval.ms": 500,
        "consumer.session.timeout.ms": 6000,
        "consumer.heartbeat.interval.ms": 1000,
        **security,
        **{f"consumer.{key}": value for key, value in security.items()},
        **{f"producer.{key}": value for key, value in security.items()},
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def start_worker(cluster: KraftCluster, *, ready_timeout: float = 120.0) -> ConnectWorker:
    classpath = connect_classpath(offline=True)
    directory = Path(tempfile.mkdtemp(prefix="kcr-connect-"))
    port = free_port()
    (directory / "worker.properties").write_text(_properties(cluster, port, directory))
    (directory / "log4j2.properties").write_text(LOG4J2)
    with (directory / "connect.log").open("ab") as output:
        process = subprocess.Popen(
            java_command(
                classpath,
                "org.apache.kafka.connect.cli.ConnectStandalone",
                str(directory / "worker.properties"),
                options=(f"-Dlog4j2.configurationFile={directory / 'log4j2.properties'}",),
            ),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = ConnectWorker(url=f"http://{LOOPBACK}:{port}", directory=directory, process=process)
    try:
        _wait_ready(worker, ready_timeout)
    except BaseException:
        stop_worker(worker)
        raise
    log.info("Kafka Connect worker on %s (pid %d)", worker.url, process.pid)
    return worker


def _wait_ready(worker: ConnectWorker, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            raise KraftError(f"Kafka Connect exited: {worker.log_path.read_text()[-1500:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{worker.url}/connectors", timeout=2.0).status_code == 200:
                return
        time.sleep(POLL_SECONDS)
    raise KraftError(
        f"Kafka Connect did not answer within {timeout:.0f}s: {worker.log_path.read_text()[-1500:]}"
    )


def stop_worker(worker: ConnectWorker) -> None:
    """By pid, like the brokers: SIGTERM, then SIGKILL after the grace period."""
    stop_process(worker.process)
    shutil.rmtree(worker.directory, ignore_errors=True)


@contextlib.contextmanager
def running_worker(cluster: KraftCluster) -> Iterator[ConnectWorker]:
    worker = start_worker(cluster)
    try:
        yield worker
    finally:
        stop_worker(worker)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    try:
        jars = connect_classpath().split(":")
        sys.stdout.write(f"Kafka Connect {CONNECT_VERSION}: {len(jars)} jars\n")
    except KraftError as error:
        sys.stderr.write(f"{error}\n")
        sys.exit(1)
