"""The embedded stack: a Kafka broker, a Kubernetes API, the operator and the MCP server.

Nothing but kcr and its ``embedded`` extra is needed. The broker is tansu (memory
storage) and the Kubernetes API the kmock emulator, both on free 127.0.0.1 ports; the
operator and the MCP server run as the real ``kcr operator`` and ``kcr mcp --transport
http`` processes, configured exactly as in a cluster (a kubeconfig, a KafkaCluster
resource, an access file of bearer tokens), so what the demo shows is what ships.

:meth:`Stack.close` stops everything by process id, newest first, and removes the
working directory unless the caller chose it.
"""

import logging
import secrets
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from kcr.embedded.kube_users import PeopleKube
from kcr.embedded.narration import Narrator
from kcr.embedded.processes import Child, Children, ProcessError, kcr_command
from kcr.embedded.signals import signals_held
from kcr.embedded.tansu import TansuBroker, start_tansu, stop_tansu
from kcr.mcp.gate.access_file import token_digest
from kcr.model import (
    ClusterPolicy,
    ConsumerProgressGate,
    HealthGates,
    KafkaCluster,
    KafkaClusterSpec,
    Ownership,
)
from kcr.model.cluster import ClusterMeta

READY_TIMEOUT_SECONDS = 45.0
POLL_SECONDS = 0.1
OPERATOR_GRACE_SECONDS = 15.0
SERVER_GRACE_SECONDS = 5.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StackOptions:
    namespace: str = "kcr-demo"
    cluster: str = "demo"
    assistant: str = "assistant"
    """The MCP principal whose bearer token the assistant presents."""
    assistant_tenant: str = ""
    topic_prefixes: tuple[str, ...] = ("*",)
    group_prefixes: tuple[str, ...] = ("*",)
    reviewers: tuple[str, ...] = ("bob",)
    """People with a kubeconfig of their own (``kubectl kcr approve`` knows them by name)."""
    ownership: tuple[Ownership, ...] = ()
    progress_gate: ConsumerProgressGate | None = None
    """The cluster's default consumer progress gate."""
    sample_interval: float = 1.0
    """Seconds between the MCP server's consumer group samples (its sense of trends)."""
    workdir: Path | None = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Stack:
    options: StackOptions
    workdir: Path
    children: Children
    own_workdir: bool
    broker: TansuBroker | None = None
    kube: PeopleKube | None = None
    operator: Child | None = None
    mcp: Child | None = None
    mcp_port: int = 0
    operator_health_port: int = 0
    operator_metrics_port: int = 0
    mcp_metrics_port: int = 0
    assistant_token: str = ""
    kubeconfigs: dict[str, Path] = field(default_factory=dict)
    service_kubeconfig: Path | None = None

    @classmethod
    def prepare(cls, options: StackOptions) -> "Stack":
        own = options.workdir is None
        workdir = Path(tempfile.mkdtemp(prefix="kcr-embedded-")) if own else options.workdir
        assert workdir is not None
        (workdir / "logs").mkdir(parents=True, exist_ok=True)
        return cls(options, workdir, Children(workdir / "logs"), own_workdir=own)

    @property
    def bootstrap(self) -> str:
        assert self.broker is not None
        return self.broker.bootstrap

    @property
    def kube_url(self) -> str:
        assert self.kube is not None
        return self.kube.url

    @property
    def mcp_url(self) -> str:
        return f"http://127.0.0.1:{self.mcp_port}/mcp"

    @property
    def audit_log(self) -> Path:
        return self.workdir / "mcp-audit.jsonl"

    @property
    def started_pids(self) -> dict[str, int]:
        """Every process this stack ever started, by name, running or stopped."""
        found = {"kafka-broker": self.broker.pid} if self.broker is not None else {}
        return found | {c.name: c.pid for c in self.children.launched}

    # --- starting ----------------------------------------------------------------------------

    def start_base(self, narrator: Narrator) -> None:
        """The broker, the Kubernetes API, the KafkaCluster resource and the access file.

        Then ``launch_operator``, ``launch_mcp`` (after any Kafka set-up the MCP server's
        first samples should see) and ``await_services``.
        """
        self._start_broker(narrator)
        self._start_kube(narrator)
        self._apply_cluster(narrator)
        self._write_access()

    def _start_broker(self, narrator: Narrator) -> None:
        with narrator.waiting("starting the Kafka broker (tansu, memory storage)", 30) as wait:
            wait.show()
            self.broker = start_tansu(log_path=self.children.log_dir / "kafka-broker.log")
        narrator.done(f"Kafka broker (tansu) on {self.bootstrap}, pid {self.broker.pid}")

    def _start_kube(self, narrator: Narrator) -> None:
        namespace = self.options.namespace
        with narrator.waiting("starting the Kubernetes API (kmock emulator)", 30) as wait:
            wait.show()
            self.kube = PeopleKube(namespaces=(namespace,)).start()
        self.service_kubeconfig = self.kube.write_kubeconfig(
            self.workdir / "kcr-services.kubeconfig", "system:serviceaccount:kcr-system:kcr"
        )
        for person in self.options.reviewers:
            self.kubeconfigs[person] = self.kube.write_kubeconfig(
                self.workdir / f"{person}.kubeconfig", person
            )
        narrator.done(
            f"Kubernetes API (kmock emulator with the kcr CRDs) on {self.kube_url}, "
            f"namespace {namespace}"
        )

    def cluster_resource(self) -> dict[str, Any]:
        gates = HealthGates(consumer_progress=self.options.progress_gate)
        cluster = KafkaCluster(
            metadata=ClusterMeta(name=self.options.cluster, namespace=self.options.namespace),
            spec=KafkaClusterSpec(
                bootstrap_servers=self.bootstrap,
                ownership=list(self.options.ownership),
                policy=ClusterPolicy(default_gates=gates),
            ),
        )
        return cluster.model_dump(mode="json", by_alias=True, exclude_none=True)

    def _apply_cluster(self, narrator: Narrator) -> None:
        body = self.cluster_resource()
        url = f"{self.kube_url}/apis/kcr.dev/v1alpha1/namespaces/{self.options.namespace}"
        response = httpx.post(f"{url}/kafkaclusters", json=body, timeout=10)
        response.raise_for_status()
        gate = self.options.progress_gate
        watched = f", and always {', '.join(gate.groups)}" if gate and gate.groups else ""
        narrator.done(
            f"KafkaCluster {self.options.namespace}/{self.options.cluster} → {self.bootstrap}"
            + (
                f"; its default health gates include consumer progress: each affected group"
                f"{watched} keeps reading at {gate.min_percent}% of its rate measured "
                f"{gate.baseline_seconds}s before the change"
                if gate
                else ""
            )
        )

    def _write_access(self) -> None:
        """The MCP server keeps only the token's sha256; the token itself stays with us."""
        self.assistant_token = secrets.token_urlsafe(24)
        document = {
            "tokens": [
                {
                    "tokenSha256": token_digest(self.assistant_token),
                    "principal": self.options.assistant,
                    "kubernetesUser": self.options.assistant,
                    "roles": ["viewer", "drafter"],
                    "tenant": self.options.assistant_tenant,
                    "topicPrefixes": list(self.options.topic_prefixes),
                    "groupPrefixes": list(self.options.group_prefixes),
                }
            ]
        }
        path = self.workdir / "mcp-access.yaml"
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(yaml.safe_dump(document, sort_keys=False))

    def await_services(self, narrator: Narrator) -> None:
        """Wait until the operator answers its health probe and the MCP server listens."""
        pending = {
            name: check
            for name, child, check in (
                ("operator", self.operator, self._operator_ready),
                ("MCP server", self.mcp, self._mcp_ready),
            )
            if child is not None
        }
        with narrator.waiting("starting kcr operator and kcr mcp", READY_TIMEOUT_SECONDS) as wait:
            while pending:
                self.check_running()
                pending = {name: check for name, check in pending.items() if not check()}
                wait.show(f"waiting for {' and '.join(pending)}" if pending else "ready")
                if pending:
                    wait.check()
                    time.sleep(POLL_SECONDS)
        if self.operator is not None:
            narrator.done(
                f"kcr operator, pid {self.operator.pid}: watches namespace "
                f"{self.options.namespace}, metrics on :{self.operator_metrics_port}/metrics"
            )
        if self.mcp is not None:
            narrator.done(
                f"kcr mcp --transport http, pid {self.mcp.pid}: {self.mcp_url}, bearer tokens "
                f"from an access file (principal {self.options.assistant!r})"
            )

    def _operator_ready(self) -> bool:
        return _healthy(f"http://127.0.0.1:{self.operator_health_port}/healthz")

    def _mcp_ready(self) -> bool:
        return _listening(self.mcp_port)

    def launch_operator(self) -> Child:
        assert self.service_kubeconfig is not None
        self.operator_health_port, self.operator_metrics_port = free_port(), free_port()
        argv = kcr_command(
            "operator",
            f"--kubeconfig={self.service_kubeconfig}",
            f"--namespace={self.options.namespace}",
            "--standalone",
            "--no-cluster-scan",
            "--listen-address=127.0.0.1",
            f"--health-port={self.operator_health_port}",
            f"--metrics-port={self.operator_metrics_port}",
            "--log-format=json",
        )
        self.operator = self.children.launch("kcr-operator", argv, grace=OPERATOR_GRACE_SECONDS)
        return self.operator

    def launch_mcp(self) -> Child:
        assert self.service_kubeconfig is not None
        self.mcp_port, self.mcp_metrics_port = free_port(), free_port()
        argv = kcr_command(
            "mcp",
            "--transport=http",
            "--host=127.0.0.1",
            f"--port={self.mcp_port}",
            f"--metrics-port={self.mcp_metrics_port}",
            f"--kubeconfig={self.service_kubeconfig}",
            f"--namespace={self.options.namespace}",
            f"--cluster={self.options.cluster}",
            "--drafts=kube",
            f"--token-file={self.workdir / 'mcp-access.yaml'}",
            f"--audit-log={self.audit_log}",
            f"--sample-interval={self.options.sample_interval}",
        )
        self.mcp = self.children.launch("kcr-mcp", argv, grace=SERVER_GRACE_SECONDS)
        return self.mcp

    def check_running(self) -> None:
        """Raise when a child died: the stack is no use without any of them."""
        for child in self.children.started:
            if not child.running:
                raise child.exited()
        if self.broker is not None and self.broker.process.poll() is not None:
            raise ProcessError(
                f"the Kafka broker (pid {self.broker.pid}) exited: {self.broker.log_tail()}"
            )

    # --- stopping ----------------------------------------------------------------------------

    def close(self) -> list[tuple[str, int]]:
        """Stop everything by pid, newest first, then the emulator.

        Returns every process the stack ever started, as (name, pid), all of them reaped.
        Ctrl-C and SIGTERM are ignored meanwhile, so a second Ctrl-C cannot cut it short.
        """
        with signals_held():
            try:
                self.children.stop_all()
            finally:
                if self.broker is not None:
                    stop_tansu(self.broker)
                if self.kube is not None:
                    self.kube.stop()
                if self.own_workdir:
                    _remove(self.workdir)
        running = [c.name for c in self.children.launched if c.process.poll() is None]
        if self.broker is not None and self.broker.process.poll() is None:
            running.append("kafka-broker")
        if running:
            raise ProcessError(f"still running after being stopped: {', '.join(running)}")
        return list(self.started_pids.items())


def _remove(directory: Path) -> None:
    try:
        shutil.rmtree(directory)
    except OSError as error:
        log.warning("could not remove %s: %s", directory, error)
