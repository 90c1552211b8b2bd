"""A Kafka Connect worker (standalone mode) on 127.0.0.1, for tests that read Connect's REST API.

Its jars come from Maven Central through ``maven/connect/pom.xml`` (``python -m
kcr.embedded.connect`` resolves them once); it joins an embedded Apache Kafka as the admin
over SASL/PLAIN, with the FileStream connectors on its classpath, and is stopped by pid.
"""

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from kcr.embedded.java_service import JavaService, running, start_service
from kcr.embedded.kraft import (
    ADMIN,
    LOG4J2,
    KraftCluster,
    KraftError,
    java_command,
    password_of,
    resolve_classpath,
)
from kcr.embedded.tansu import LOOPBACK

log = logging.getLogger(__name__)

POM = Path(__file__).with_name("maven") / "connect" / "pom.xml"
# connect-file 4.4.0 is not published; see the pom.
CONNECT_VERSION = "4.3.1"
NAME = f"connect-{CONNECT_VERSION}"


ConnectWorker = JavaService


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

    def command(directory: Path, port: int) -> list[str]:
        (directory / "worker.properties").write_text(_properties(cluster, port, directory))
        (directory / "log4j2.properties").write_text(LOG4J2)
        return java_command(
            classpath,
            "org.apache.kafka.connect.cli.ConnectStandalone",
            str(directory / "worker.properties"),
            options=(f"-Dlog4j2.configurationFile={directory / 'log4j2.properties'}",),
        )

    return start_service(
        "Kafka Connect", command, ready_path="/connectors", ready_timeout=ready_timeout
    )


@contextlib.contextmanager
def running_worker(cluster: KraftCluster) -> Iterator[ConnectWorker]:
    with running(start_worker(cluster)) as worker:
        yield worker


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    try:
        jars = connect_classpath().split(":")
        sys.stdout.write(f"Kafka Connect {CONNECT_VERSION}: {len(jars)} jars\n")
    except KraftError as error:
        sys.stderr.write(f"{error}\n")
        sys.exit(1)
