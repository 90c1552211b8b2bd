"""The operator test harness: kubectl-like calls over the emulator's HTTP API, and the real
operator started in-process with the Kafka fake."""

import asyncio
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import kopf

from kcr.embedded.kube_emulator import EmbeddedKube
from kcr.engine import EngineSettings
from kcr.kafka.fake import FakeKafka
from kcr.model import KafkaChangeRequestSpec
from kcr.operator.app import build_runtime, run_operator
from kcr.operator.runtime import Runtime
from kcr.operator.settings import LogFormat, OperatorConfig

NAMESPACE = "team-a"
KCR_PATH = f"/apis/kcr.dev/v1alpha1/namespaces/{NAMESPACE}/kafkachangerequests"
CLUSTER_PATH = f"/apis/kcr.dev/v1alpha1/namespaces/{NAMESPACE}/kafkaclusters"
DEPLOYMENTS = "/apis/apps/v1/namespaces/{namespace}/deployments"
MERGE = {"Content-Type": "application/merge-patch+json"}
WAIT_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fast_config(**overrides: Any) -> OperatorConfig:
    """Short intervals, so each test runs in seconds; no listening ports unless asked."""
    defaults: dict[str, Any] = {
        "namespaces": (NAMESPACE,),
        "listen_address": "127.0.0.1",
        "metrics_port": None,
        "health_port": None,
        "poll_seconds": 0.5,
        "scan_cluster": False,
        "cancellation_seconds": 1.0,
        "error_backoff_seconds": 1.0,
        "log_format": LogFormat.TEXT,
        "engine": EngineSettings(
            step_timeout=timedelta(seconds=3),
            retry_delay=timedelta(milliseconds=200),
            cluster_retry=timedelta(milliseconds=300),
        ),
    }
    return OperatorConfig(**(defaults | overrides))


@dataclass
class Kubectl:
    """What a person does with kubectl, over the emulator's HTTP API."""

    client: httpx.AsyncClient

    async def apply_cluster(self, name: str = "prod", **spec: Any) -> None:
        body = {
            "apiVersion": "kcr.dev/v1alpha1",
            "kind": "KafkaCluster",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"bootstrapServers": "kafka:9092", **spec},
        }
        response = await self.client.post(CLUSTER_PATH, json=body)
        response.raise_for_status()

    async def create(self, name: str, spec: KafkaChangeRequestSpec | dict[str, Any]) -> None:
        raw = spec if isinstance(spec, dict) else spec.model_dump(mode="json", exclude_none=True)
        body = {
            "apiVersion": "kcr.dev/v1alpha1",
            "kind": "KafkaChangeRequest",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": raw,
        }
        response = await self.client.post(KCR_PATH, json=body)
        response.raise_for_status()

    async def get(self, name: str) -> dict[str, Any]:
        response = await self.client.get(f"{KCR_PATH}/{name}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def status(self, name: str) -> dict[str, Any]:
        return dict((await self.get(name)).get("status") or {})

    async def annotate(self, name: str, **annotations: str | None) -> None:
        patch = {"metadata": {"annotations": annotations}}
        response = await self.client.patch(f"{KCR_PATH}/{name}", json=patch, headers=MERGE)
        response.raise_for_status()

    async def approve(self, name: str, *users: str) -> None:
        spec_hash = (await self.status(name))["specHash"]
        await self.annotate(
            name,
            **{"kcr.dev/approved-by": ",".join(users), "kcr.dev/approved-spec-hash": spec_hash},
        )

    async def ask_rollback(self, name: str, asker: str) -> dict[str, Any]:
        """Ask for a rollback after Succeeded and wait for its review."""
        await self.annotate(
            name, **{"kcr.dev/rollback": "requested", "kcr.dev/rollback-requested-by": asker}
        )
        return await self.wait_for(
            name,
            lambda s: (
                s.get("phase") in ("AwaitingRollbackApproval", "Stale")
                or any(c["reason"] == "RollbackRefused" for c in s.get("conditions", []))
            ),
            "the rollback's review, refusal or staleness",
        )

    async def approve_rollback(self, name: str, *users: str) -> None:
        review = (await self.status(name))["rollbackReview"]
        await self.annotate(
            name,
            **{
                "kcr.dev/rollback-approved-by": ",".join(users),
                "kcr.dev/rollback-approved-hash": review["hash"],
            },
        )

    async def wait_for(
        self,
        name: str,
        check: Callable[[dict[str, Any]], bool],
        what: str,
        timeout: float = WAIT_SECONDS,
    ) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        status: dict[str, Any] = {}
        while asyncio.get_running_loop().time() < deadline:
            status = await self.status(name)
            if check(status):
                return status
            await asyncio.sleep(0.05)
        raise AssertionError(f"{name}: {what} not reached in {timeout}s; status: {status}")

    async def wait_phase(
        self, name: str, *phases: str, timeout: float = WAIT_SECONDS
    ) -> dict[str, Any]:
        return await self.wait_for(
            name, lambda s: s.get("phase") in phases, f"phase {phases}", timeout
        )

    async def events(self, name: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"/api/v1/namespaces/{NAMESPACE}/events")
        response.raise_for_status()
        items = response.json().get("items", [])
        return [e for e in items if e.get("involvedObject", {}).get("name") == name]

    async def events_with(self, name: str, *reasons: str) -> list[dict[str, Any]]:
        """The request's Events once all ``reasons`` were posted (kopf posts in the background)."""
        events: list[dict[str, Any]] = []
        for _ in range(int(WAIT_SECONDS / 0.05)):
            events = await self.events(name)
            if set(reasons) <= {e["reason"] for e in events}:
                return events
            await asyncio.sleep(0.05)
        raise AssertionError(f"{name}: Events {reasons} not all posted; got {events}")

    async def create_deployment(
        self, namespace: str, name: str, replicas: int, labels: dict[str, str] | None = None
    ) -> None:
        body = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"replicas": replicas},
        }
        response = await self.client.post(DEPLOYMENTS.format(namespace=namespace), json=body)
        response.raise_for_status()

    async def deployment_replicas(self, namespace: str, name: str) -> int:
        response = await self.client.get(f"{DEPLOYMENTS.format(namespace=namespace)}/{name}")
        response.raise_for_status()
        return int(response.json()["spec"]["replicas"])


class RunningOperator:
    """The operator in its own thread and event loop, as a separate process would be.

    kopf counts every task created in its loop after start as its own and cancels the
    stragglers on exit, so the test's tasks must live in another loop.
    """

    def __init__(self, make_runtime: Callable[[], Runtime]) -> None:
        self._make_runtime = make_runtime
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kcr-operator", daemon=True)
        self.runtime: Runtime | None = None
        self.error: BaseException | None = None

    def _run(self) -> None:
        async def main() -> None:
            self.runtime = self._make_runtime()
            await run_operator(self.runtime, stop_flag=self._stop, ready_flag=self._ready)

        try:
            asyncio.run(main())
        except BaseException as error:  # noqa: BLE001 (reported to the test by stop())
            self.error = error
            self._ready.set()

    async def start(self) -> "RunningOperator":
        self._thread.start()
        ready = await asyncio.to_thread(self._ready.wait, WAIT_SECONDS)
        if not ready or self.error is not None:
            raise AssertionError(f"the operator did not start: {self.error!r}")
        return self

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.to_thread(self._thread.join, WAIT_SECONDS)
        if self._thread.is_alive():
            raise AssertionError(f"the operator did not stop in {WAIT_SECONDS}s")
        if self.error is not None:
            raise AssertionError(f"the operator failed: {self.error!r}") from self.error

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


@dataclass
class Harness:
    kube: EmbeddedKube
    kafka: FakeKafka
    kubectl: Kubectl
    running: list[RunningOperator] = field(default_factory=list)

    def runtime(self, config: OperatorConfig | None = None, **ports: Any) -> Runtime:
        ports.setdefault("kafka_factory", lambda _spec, _credentials: self.kafka)
        return build_runtime(
            config or fast_config(),
            login=lambda: kopf.ConnectionInfo(server=self.kube.url, insecure=True),
            **ports,
        )

    async def start(self, config: OperatorConfig | None = None, **ports: Any) -> RunningOperator:
        operator = RunningOperator(lambda: self.runtime(config, **ports))
        self.running.append(operator)
        return await operator.start()

    async def stop_all(self) -> None:
        for operator in self.running:
            if operator.alive:
                await operator.stop()


class KeptOpenKafka(FakeKafka):
    """The fake survives an operator restart: closing the port does not close the cluster."""

    async def close(self) -> None:
        return None


class ShiftedClock:
    """The operator's clock, moved forward by tests that need time to pass (TTL, windows)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def shift(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


class CountingClock:
    """The operator's clock, counting its readings: every decision the operator makes reads
    it, so a test can wait for the operator to have decided again instead of sleeping."""

    def __init__(self) -> None:
        self.readings = 0

    def __call__(self) -> datetime:
        self.readings += 1
        return datetime.now(UTC)
