"""Prometheus metrics of the operator, with bounded labels only.

Labels are phases, change kinds, risks, reasons, operation types, gate checks, outcomes
and Kafka port calls: closed sets. Never a topic, group, user or request name.
"""

import inspect
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, cast

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kcr.kafka import KafkaPort
from kcr.model import KafkaChangeRequestStatus, Phase, Step, StepState
from kcr.plan import all_steps
from kcr.policy.authority import ROLLBACK_ENDED_PHASES

SECONDS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600)
WAITS = (60, 300, 900, 3600, 4 * 3600, 86_400, 7 * 86_400)
ENDED_STATES = (StepState.SUCCEEDED, StepState.FAILED)
"""The states a step or a stage's gate ends in."""


class RequestBook(Collector):
    """How many requests are in each phase, by kind and risk, and how long the oldest of
    each phase has been there: gauges computed on scrape.

    The age lets an alert find one request stuck in a phase while others pass through it;
    a request already in its phase when the operator started counts from the start.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._requests: dict[str, tuple[str, str, str]] = {}
        self._since: dict[str, float] = {}

    def record(self, uid: str, phase: str, kind: str, risk: str) -> None:
        before = self._requests.get(uid)
        if before is None or before[0] != phase:
            self._since[uid] = self._clock()
        self._requests[uid] = (phase, kind, risk)

    def forget(self, uid: str) -> None:
        self._requests.pop(uid, None)
        self._since.pop(uid, None)

    def __len__(self) -> int:
        return len(self._requests)

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "kcr_requests",
            "KafkaChangeRequests by phase, change kind and risk",
            labels=["phase", "kind", "risk"],
        )
        for (phase, kind, risk), count in sorted(Tally(self._requests.values()).items()):
            family.add_metric([phase, kind, risk], count)
        yield family
        oldest: dict[str, float] = {}
        now = self._clock()
        for uid, (phase, _kind, _risk) in self._requests.items():
            oldest[phase] = max(oldest.get(phase, 0.0), now - self._since[uid])
        ages = GaugeMetricFamily(
            "kcr_request_phase_age_seconds",
            "How long the request longest in each phase has been in it",
            labels=["phase"],
        )
        for phase, age in sorted(oldest.items()):
            ages.add_metric([phase], age)
        yield ages


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = RequestBook()
        self.registry.register(self.requests)
        self.transitions = Counter(
            "kcr_transitions",
            "Phase transitions of change requests",
            ["from_phase", "to_phase", "reason"],
            registry=self.registry,
        )
        self.step_duration = Histogram(
            "kcr_step_duration_seconds",
            "Time from a step's start to its end, retries included",
            ["operation", "direction", "outcome"],
            buckets=SECONDS,
            registry=self.registry,
        )
        self.gate_duration = Histogram(
            "kcr_gate_duration_seconds",
            "Time from a stage's end to its gate verdict: bake time plus checks",
            ["outcome"],
            buckets=SECONDS,
            registry=self.registry,
        )
        self.gate_failures = Counter(
            "kcr_gate_failures",
            "Failed health gate checks",
            ["check"],
            registry=self.registry,
        )
        self.rollbacks = Counter(
            "kcr_rollbacks",
            "Finished rollbacks",
            ["outcome", "trigger"],
            registry=self.registry,
        )
        self.approval_wait = Histogram(
            "kcr_approval_wait_seconds",
            "Time from review to approval",
            ["risk"],
            buckets=WAITS,
            registry=self.registry,
        )
        self.kafka_calls = Histogram(
            "kcr_kafka_call_duration_seconds",
            "Latency of Kafka port calls",
            ["call", "outcome"],
            buckets=SECONDS,
            registry=self.registry,
        )

    def observe(
        self,
        old: KafkaChangeRequestStatus,
        new: KafkaChangeRequestStatus,
        reason: str,
        now: datetime,
    ) -> None:
        """Everything one status change says: transition, step and gate times, outcomes."""
        if old.phase is not new.phase:
            self.transitions.labels(old.phase.value, new.phase.value, reason or "None").inc()
            self._phase_entered(new, now)
        self._steps(old, new)
        self._gates(old, new, now)

    def _phase_entered(self, new: KafkaChangeRequestStatus, now: datetime) -> None:
        if new.phase is Phase.APPROVED:
            since = _entered(new, Phase.AWAITING_APPROVAL)
            if since is not None:
                risk = new.risk.value if new.risk else "None"
                self.approval_wait.labels(risk).observe((now - since).total_seconds())
        if new.phase in ROLLBACK_ENDED_PHASES:
            start = next((h for h in reversed(new.history) if h.phase is Phase.ROLLING_BACK), None)
            manual = start is not None and start.reason in ("RollbackRequested", "RollbackApproved")
            self.rollbacks.labels(new.phase.value, "manual" if manual else "automatic").inc()

    def _steps(self, old: KafkaChangeRequestStatus, new: KafkaChangeRequestStatus) -> None:
        for direction, before, after in (
            ("forward", _forward(old), _forward(new)),
            ("rollback", _undo(old), _undo(new)),
        ):
            states = {s.id: s.state for s in before}
            for step in after:
                changed = step.state in ENDED_STATES and states.get(step.id) is not step.state
                if changed and step.started_at and step.finished_at:
                    self.step_duration.labels(
                        step.operation.type, direction, step.state.value
                    ).observe((step.finished_at - step.started_at).total_seconds())

    def _gates(
        self, old: KafkaChangeRequestStatus, new: KafkaChangeRequestStatus, now: datetime
    ) -> None:
        before = {s.name: s.gate_state for s in (old.plan.stages if old.plan else [])}
        for stage in new.plan.stages if new.plan else []:
            if stage.gate_state in ENDED_STATES and before.get(stage.name) is StepState.RUNNING:
                started = stage.bake_started_at or now
                self.gate_duration.labels(stage.gate_state.value).observe(
                    (now - started).total_seconds()
                )

    def timed_kafka(self, port: KafkaPort) -> KafkaPort:
        return cast(KafkaPort, TimedKafka(port, self.kafka_calls.labels))


def _entered(status: KafkaChangeRequestStatus, phase: Phase) -> datetime | None:
    return next((h.at for h in reversed(status.history) if h.phase is phase), None)


def _forward(status: KafkaChangeRequestStatus) -> list[Step]:
    return all_steps(status.plan) if status.plan else []


def _undo(status: KafkaChangeRequestStatus) -> list[Step]:
    return list(status.rollback_plan.steps) if status.rollback_plan else []


class TimedKafka:
    """The Kafka port with every call's latency observed, labelled by call name."""

    def __init__(self, port: KafkaPort, labels: Callable[..., Any]) -> None:
        self._port = port
        self._labels = labels

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._port, name)
        if not inspect.iscoroutinefunction(target):
            return target

        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            outcome = "error"
            try:
                result = await target(*args, **kwargs)
                outcome = "ok"
                return result
            finally:
                self._labels(name, outcome).observe(time.perf_counter() - start)

        return timed
