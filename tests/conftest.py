"""Fixtures shared by every suite: Kafka-protocol brokers, collision-free names, SSH keys.

``kafka_bootstrap`` is a real cluster when ``KCR_KAFKA_BOOTSTRAP`` is set, otherwise the
tansu broker started once per session on a free 127.0.0.1 port and stopped by pid.
``apache_kafka`` and ``apache_kafka_trio`` are Apache Kafka itself (KRaft, one node or
three), started once per session the same way; ``kafka_connect`` is a Kafka Connect worker
joined to ``apache_kafka``; ``schema_registry`` is Apicurio Registry, in memory.

The tools other suites need (kubectl, shellcheck, Prometheus and its node exporter, tansu,
Java for Apache Kafka) are fixtures too: each skips where its tool is missing, saying why in
one line, and fails instead where the run requires it: ``KCR_REQUIRE_ALL=1`` (CI), or one of
``KCR_REQUIRE_KUBECTL``, ``KCR_REQUIRE_SHELLCHECK``, ``KCR_REQUIRE_PROMETHEUS``,
``KCR_REQUIRE_TANSU``, ``KCR_REQUIRE_APACHE_KAFKA``, ``KCR_REQUIRE_APICURIO`` set to 1.
"""

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

import kcr.kinds  # noqa: F401  (every test sees the built-in change kinds)
from kcr.embedded.apicurio import SchemaRegistry, runner_jar, running_registry
from kcr.embedded.config_command import tools_classpath
from kcr.embedded.connect import ConnectWorker, connect_classpath, running_worker
from kcr.embedded.jmx import agent_jar
from kcr.embedded.kraft import (
    KraftCluster,
    KraftError,
    java_binary,
    resolve_classpath,
    running_cluster,
)
from kcr.embedded.tansu import BOOTSTRAP_ENV, TansuError, bootstrap_servers, tansu_binary

REQUIRE_ALL = "KCR_REQUIRE_ALL"


def missing_tool(why: str, variable: str) -> NoReturn:
    """Skip, saying ``why`` in one line; fail instead where the run requires the tool
    (``variable=1``, or ``KCR_REQUIRE_ALL=1`` as CI sets), so no suite is silently lost."""
    required = [name for name in (variable, REQUIRE_ALL) if os.environ.get(name) == "1"]
    if required:
        pytest.fail(f"{why}; this run requires it ({required[0]}=1)")
    pytest.skip(why)


def _on_path(name: str, why: str, variable: str) -> str:
    found = shutil.which(name)
    if found is None:
        missing_tool(why, variable)
    return found


@pytest.fixture(scope="session")
def kubectl_path() -> str:
    why = "kubectl (with its built-in kustomize) is not installed"
    return _on_path("kubectl", why, "KCR_REQUIRE_KUBECTL")


@pytest.fixture(scope="session")
def shellcheck_path() -> str:
    return _on_path("shellcheck", "shellcheck is not installed", "KCR_REQUIRE_SHELLCHECK")


@pytest.fixture(scope="session")
def prometheus_path() -> str:
    why = "the prometheus binary is not installed (apt-get install prometheus)"
    return _on_path("prometheus", why, "KCR_REQUIRE_PROMETHEUS")


@pytest.fixture(scope="session")
def node_exporter_path() -> str:
    why = "the Prometheus node exporter is not installed (apt-get install prometheus-node-exporter)"
    return _on_path("prometheus-node-exporter", why, "KCR_REQUIRE_PROMETHEUS")


@pytest.fixture(scope="session")
def promtool_path() -> str:
    why = "promtool is not installed (Debian package prometheus)"
    return _on_path("promtool", why, "KCR_REQUIRE_PROMETHEUS")


@pytest.fixture(scope="session")
def tansu_path() -> str:
    try:
        return tansu_binary()
    except TansuError as error:
        missing_tool(f"the embedded extra is not installed: {error}", "KCR_REQUIRE_TANSU")


@pytest.fixture(scope="session")
def kafka_bootstrap(request: pytest.FixtureRequest) -> Iterator[str]:
    if not os.environ.get(BOOTSTRAP_ENV):
        request.getfixturevalue("tansu_path")
    with bootstrap_servers() as bootstrap:
        yield bootstrap


@pytest.fixture
def unique() -> str:
    """A short prefix for topic and group names, so tests can share one cluster."""
    return f"kcr-{uuid.uuid4().hex[:10]}"


REQUIRE_APACHE_KAFKA = "KCR_REQUIRE_APACHE_KAFKA"


def _apache_kafka(nodes: int) -> Iterator[KraftCluster]:
    """Skips (saying why in one line) where Java or the resolved jars are missing, and fails
    instead where the run requires Apache Kafka (see ``missing_tool``)."""
    try:
        java_binary()
        resolve_classpath(offline=True)
    except KraftError as error:
        missing_tool(f"no Apache Kafka: {error}", REQUIRE_APACHE_KAFKA)
    with running_cluster(nodes) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def apache_kafka() -> Iterator[KraftCluster]:
    """One combined broker+controller, SASL/PLAIN and the StandardAuthorizer on."""
    yield from _apache_kafka(1)


@pytest.fixture(scope="session")
def apache_kafka_trio() -> Iterator[KraftCluster]:
    """Three brokers (replication factor 3, min.insync.replicas 2) for ISR and failover."""
    yield from _apache_kafka(3)


@dataclass(frozen=True)
class SshKey:
    """A real ed25519 key pair made by ssh-keygen, as an approver would have."""

    private: Path
    public: str
    """The OpenSSH public key line (``ssh-ed25519 AAAA…``)."""


@pytest.fixture
def ssh_key(tmp_path: Path) -> Callable[[str], SshKey]:
    def make(name: str) -> SshKey:
        private = tmp_path / f"{name}-{uuid.uuid4().hex[:6]}"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(private)],
            check=True,
            timeout=30,
        )
        public = " ".join(private.with_suffix(".pub").read_text().split()[:2])
        return SshKey(private=private, public=public)

    return make


@pytest.fixture(scope="session")
def kafka_connect(apache_kafka: KraftCluster) -> Iterator[ConnectWorker]:
    """A standalone Connect worker on a free 127.0.0.1 port, with the FileStream connectors;
    resolved by ``make kafka`` like the brokers, and stopped by pid."""
    try:
        connect_classpath(offline=True)
    except KraftError as error:
        missing_tool(f"no Kafka Connect: {error}", REQUIRE_APACHE_KAFKA)
    with running_worker(apache_kafka) as worker:
        yield worker


@pytest.fixture(scope="session")
def jmx_agent_jar() -> str:
    """The Prometheus JMX exporter java agent, resolved by ``make kafka``."""
    try:
        return agent_jar(offline=True)
    except KraftError as error:
        missing_tool(f"no JMX exporter agent: {error}", REQUIRE_APACHE_KAFKA)


@pytest.fixture(scope="session")
def kafka_tools() -> str:
    """Apache Kafka's admin tools (``ConfigCommand``), resolved by ``make kafka``."""
    try:
        return tools_classpath(offline=True)
    except KraftError as error:
        missing_tool(f"no Apache Kafka tools: {error}", REQUIRE_APACHE_KAFKA)


@pytest.fixture(scope="session")
def schema_registry() -> Iterator[SchemaRegistry]:
    """Apicurio Registry on a free 127.0.0.1 port, schemas in memory; built by ``make
    apicurio`` and stopped by pid."""
    try:
        java_binary()
        runner_jar(offline=True)
    except KraftError as error:
        missing_tool(f"no Apicurio Registry: {error}", "KCR_REQUIRE_APICURIO")
    with running_registry() as registry:
        yield registry
