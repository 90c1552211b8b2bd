"""Apache Kafka itself, in KRaft mode on 127.0.0.1: the judge of whether kcr matches Kafka.

The broker jars come from Maven Central through the pom beside this module (cached in
``~/.m2``); ``python -m kcr.embedded.kraft`` resolves them once, ahead of any test. A
cluster is one combined broker+controller or three of them (replication factor 3,
``min.insync.replicas`` 2), each in its own temporary directory, with SASL/PLAIN on the
client listener and the StandardAuthorizer on, so ACLs bind to real principals and client
quotas are enforced. Every node is stopped by its process id.
"""

import base64
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from kcr.embedded.tansu import LOOPBACK, answers_api_versions, free_port
from kcr.kafka.credentials import Credentials
from kcr.model import KafkaClusterSpec
from kcr.model.cluster import Sasl, SaslMechanism, SecretKeyRef

log = logging.getLogger(__name__)

KAFKA_VERSION = "4.4.0"
POM = Path(__file__).with_name("maven") / "pom.xml"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kcr"
ADMIN = "admin"
# PLAIN users every embedded cluster knows: the admin (a super user) and people for tests
# and the lab. Loopback only; the passwords are not secrets.
USERS = ("admin", "alice", "bob", "carol", "mallory", "app")
SASL_SECRET = "kafka-admin"  # noqa: S105 (the name of a Secret, not a password)
HEAP = "-Xmx384m"
POLL_SECONDS = 0.1
LOG_TAIL_BYTES = 3000


class KraftError(RuntimeError):
    """Java, Maven or the broker jars are missing, or a node did not start in time."""


def password_of(user: str) -> str:
    return f"{user}-secret"


def java_binary() -> str:
    home = os.environ.get("JAVA_HOME")
    candidate = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not candidate or not Path(candidate).exists():
        raise KraftError("Apache Kafka needs Java 17 or newer: no `java` on PATH or JAVA_HOME")
    return candidate


def classpath_file(name: str = f"kafka-{KAFKA_VERSION}") -> Path:
    return CACHE / f"{name}.classpath"


def resolve_classpath(
    *, offline: bool = False, pom: Path = POM, name: str = f"kafka-{KAFKA_VERSION}"
) -> str:
    """The classpath of ``pom`` (the broker's unless told), resolved by Maven once and
    cached beside the jars' own cache under ``name``."""
    cached = classpath_file(name)
    if cached.exists():
        text = cached.read_text().strip()
        if text and all(Path(jar).exists() for jar in text.split(os.pathsep)):
            return text
    if offline:
        raise KraftError(
            f"Apache Kafka {KAFKA_VERSION} is not resolved yet: run `make kafka` "
            "(Maven fetches it into ~/.m2)"
        )
    maven = shutil.which("mvn")
    if maven is None:
        raise KraftError("resolving Apache Kafka needs Maven (`mvn`) on PATH")
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".partial")
    result = subprocess.run(
        [
            maven,
            "--batch-mode",
            "--quiet",
            "-f",
            str(pom),
            "dependency:build-classpath",
            f"-Dmdep.outputFile={partial}",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if result.returncode != 0:
        raise KraftError(f"Maven could not resolve Apache Kafka: {result.stdout[-2000:]}")
    partial.replace(cached)
    return cached.read_text().strip()


def new_cluster_id() -> str:
    """A Kafka Uuid: 16 random bytes, URL-safe base64 without padding.

    Like Kafka's ``Uuid.randomUuid``, never one that starts with "-": the storage tool would
    read it as an option and refuse to format (one id in 64).
    """
    while True:
        found = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not found.startswith("-"):
            return found


@dataclass
class KraftNode:
    node_id: int
    port: int
    controller_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    # A ``-javaagent:`` argument (e.g. the Prometheus JMX exporter), or empty.
    java_agent: str = ""

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def log_path(self) -> Path:
        return self.directory / "server.log"

    def log_tail(self) -> str:
        try:
            return self.log_path.read_bytes()[-LOG_TAIL_BYTES:].decode(errors="replace")
        except OSError:
            return ""


@dataclass
class KraftCluster:
    """A running cluster: its nodes, and what a client needs to reach it as the admin."""

    nodes: list[KraftNode]
    cluster_id: str
    classpath: str = field(repr=False)
    root: Path

    @property
    def bootstrap(self) -> str:
        return ",".join(node.address for node in self.nodes)

    def client_config(self, user: str = ADMIN) -> dict[str, str]:
        """librdkafka settings for a client of ``user`` (a test's producer or consumer)."""
        return {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "PLAIN",
            "sasl.username": user,
            "sasl.password": password_of(user),
        }

    def spec(self) -> KafkaClusterSpec:
        """The KafkaCluster spec a user would write for this cluster (SASL/PLAIN, no TLS)."""
        return KafkaClusterSpec(
            bootstrap_servers=self.bootstrap,
            sasl=Sasl(
                mechanism=SaslMechanism.PLAIN,
                username=SecretKeyRef(name=SASL_SECRET, key="username"),
                password=SecretKeyRef(name=SASL_SECRET, key="password"),
            ),
        )

    def credentials(self, user: str = ADMIN) -> Credentials:
        """What the spec's Secret holds for ``user``."""
        return Credentials(
            sasl_username=SecretStr(user), sasl_password=SecretStr(password_of(user))
        )

    def node(self, node_id: int) -> KraftNode:
        return next(node for node in self.nodes if node.node_id == node_id)

    def stop_node(self, node_id: int) -> None:
        """Kill a node outright, as a failed machine would (SIGKILL, no clean shutdown)."""
        _stop(self.node(node_id), grace=0.0)

    def start_node(self, node_id: int, ready_timeout: float = 90.0) -> None:
        node = self.node(node_id)
        _launch(node, self.classpath)
        _wait_ready([node], ready_timeout)

    def start_stopped(self) -> None:
        """Start again every node that was stopped (a drill's or a test's lost broker)."""
        for node in self.nodes:
            if not node.running:
                self.start_node(node.node_id)


def _properties(node: KraftNode, voters: str, replicas: int) -> str:
    users = " ".join(f'user_{user}="{password_of(user)}"' for user in USERS)
    jaas = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{ADMIN}" password="{password_of(ADMIN)}" {users};'
    )
    settings = {
        "process.roles": "broker,controller",
        "node.id": node.node_id,
        "controller.quorum.voters": voters,
        "listeners": (
            f"SASL_PLAINTEXT://{LOOPBACK}:{node.port},CONTROLLER://{LOOPBACK}:{node.controller_port}"
        ),
        "advertised.listeners": f"SASL_PLAINTEXT://{LOOPBACK}:{node.port}",
        "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "SASL_PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "sasl.enabled.mechanisms": "PLAIN",
        "sasl.mechanism.inter.broker.protocol": "PLAIN",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": jaas,
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        # The controller listener is loopback-only and unauthenticated: its peers are ANONYMOUS.
        "super.users": f"User:{ADMIN};User:ANONYMOUS",
        "allow.everyone.if.no.acl.found": "false",
        "log.dirs": str(node.directory / "data"),
        "num.partitions": 1,
        "default.replication.factor": replicas,
        "min.insync.replicas": min(2, replicas),
        "offsets.topic.replication.factor": replicas,
        "offsets.topic.num.partitions": 3,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min(2, replicas),
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min(2, replicas),
        "group.initial.rebalance.delay.ms": 0,
        "group.classic.min.session.timeout.ms": 1000,
        "auto.create.topics.enable": "false",
        "log.segment.bytes": 16 * 1024 * 1024,
        # A lost broker is fenced, and its replicas leave the ISR, within seconds; a live
        # broker on a loaded two-core machine (a GC pause, a busy neighbour) is not.
        "replica.lag.time.max.ms": 10000,
        "broker.heartbeat.interval.ms": 500,
        "broker.session.timeout.ms": 6000,
        "controlled.shutdown.enable": "false",
        "unstable.api.versions.enable": "false",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def java_command(
    classpath: str, main: str, *arguments: str, options: tuple[str, ...] = ()
) -> list[str]:
    """A short-lived, small JVM: tests start many nodes on two cores."""
    return [
        java_binary(),
        HEAP,
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Djava.awt.headless=true",
        *options,
        "-cp",
        classpath,
        main,
        *arguments,
    ]


def _format(node: KraftNode, classpath: str, cluster_id: str) -> None:
    result = subprocess.run(
        java_command(
            classpath,
            "kafka.tools.StorageTool",
            "format",
            "--ignore-formatted",
            "-t",
            cluster_id,
            "-c",
            str(node.directory / "server.properties"),
        ),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise KraftError(f"formatting node {node.node_id} failed: {result.stdout}{result.stderr}")


def _launch(node: KraftNode, classpath: str) -> None:
    log4j = node.directory / "log4j2.properties"
    with node.log_path.open("ab") as output:
        node.process = subprocess.Popen(
            java_command(
                classpath,
                "kafka.Kafka",
                str(node.directory / "server.properties"),
                options=(
                    f"-Dlog4j2.configurationFile={log4j}",
                    *([f"-javaagent:{node.java_agent}"] if node.java_agent else []),
                ),
            ),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    log.info("Apache Kafka node %d starting on %s (pid %s)", node.node_id, node.address, node.pid)


LOG4J2 = """\
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
logger.kafka.name = kafka.server.KafkaRaftServer
logger.kafka.level = INFO
"""


def _wait_ready(nodes: list[KraftNode], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(nodes)
    while waiting and time.monotonic() < deadline:
        for node in list(waiting):
            if not node.running:
                raise KraftError(
                    f"Apache Kafka node {node.node_id} exited: {node.log_tail().strip()[-1500:]}"
                )
            if answers_api_versions(LOOPBACK, node.port):
                waiting.remove(node)
        if waiting:
            time.sleep(POLL_SECONDS)
    if waiting:
        tails = " | ".join(f"node {n.node_id}: {n.log_tail().strip()[-600:]}" for n in waiting)
        raise KraftError(f"Apache Kafka did not become ready within {timeout:.0f}s: {tails}")


def _stop(node: KraftNode, grace: float = 10.0) -> None:
    stop_process(node.process, grace)


def stop_process(process: "subprocess.Popen[bytes] | None", grace: float = 10.0) -> None:
    """SIGTERM by pid for a clean shutdown, SIGKILL after ``grace``; always reaps."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM if grace > 0 else signal.SIGKILL)
    try:
        process.wait(timeout=grace or 10.0)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10.0)


def start_cluster(
    nodes: int = 1,
    *,
    ready_timeout: float = 120.0,
    java_agent: Callable[[KraftNode], str] | None = None,
) -> KraftCluster:
    """Format and start ``nodes`` combined broker+controllers; on failure, stop all of them.

    ``java_agent`` gives each node's ``-javaagent:`` argument (jar=options), if any."""
    classpath = resolve_classpath(offline=True)
    root = Path(tempfile.mkdtemp(prefix="kcr-kafka-"))
    members = [
        KraftNode(
            node_id=i, port=free_port(), controller_port=free_port(), directory=root / f"n{i}"
        )
        for i in range(1, nodes + 1)
    ]
    for member in members:
        member.java_agent = java_agent(member) if java_agent else ""
    voters = ",".join(f"{m.node_id}@{LOOPBACK}:{m.controller_port}" for m in members)
    cluster = KraftCluster(
        nodes=members, cluster_id=new_cluster_id(), classpath=classpath, root=root
    )
    try:
        for member in members:
            member.directory.mkdir(parents=True)
            (member.directory / "server.properties").write_text(
                _properties(member, voters, replicas=min(3, nodes))
            )
            (member.directory / "log4j2.properties").write_text(LOG4J2)
            _format(member, classpath, cluster.cluster_id)
        for member in members:
            _launch(member, classpath)
        _wait_ready(members, ready_timeout)
    except BaseException:
        stop_cluster(cluster)
        raise
    return cluster


def stop_cluster(cluster: KraftCluster) -> None:
    for node in cluster.nodes:
        _stop(node)
    shutil.rmtree(cluster.root, ignore_errors=True)


@contextlib.contextmanager
def running_cluster(
    nodes: int = 1,
    *,
    ready_timeout: float = 120.0,
    java_agent: Callable[[KraftNode], str] | None = None,
) -> Iterator[KraftCluster]:
    cluster = start_cluster(nodes, ready_timeout=ready_timeout, java_agent=java_agent)
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    try:
        sys.stdout.write(
            f"Apache Kafka {KAFKA_VERSION}: {len(resolve_classpath().split(os.pathsep))} jars\n"
        )
    except KraftError as error:
        sys.stderr.write(f"{error}\n")
        sys.exit(1)
