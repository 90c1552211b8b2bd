"""The I/O behind each effect the engine asks for: snapshot, step, lag sample, gate.

Each returns an observation for the next decision and never raises for a Kafka,
Kubernetes or Prometheus failure: a failure is an observation too (a failed or retriable
step, a failed check), so the engine decides what it means.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime

from kcr import kinds
from kcr.engine import (
    CheckGate,
    CheckResult,
    GateCheck,
    GateReport,
    ProgressCheck,
    ProgressRead,
    RunStep,
    SampleProgress,
    Snapshot,
    StepOutcome,
    progress,
)
from kcr.kafka import GroupNotEmptyError, KafkaPort, KafkaPortError, ProbeVerdict
from kcr.kinds import StepPorts, StepRefusedError
from kcr.kube.errors import KubeError
from kcr.model import (
    GroupProgress,
    HealthBaseline,
    KafkaChangeRequestSpec,
    KafkaChangeRequestStatus,
)
from kcr.operator.kube import KubernetesPort
from kcr.operator.metrics import Metrics
from kcr.operator.prometheus import PrometheusError, PrometheusPort

Clock = Callable[[], datetime]
URP = "underReplicatedPartitions"


async def take_snapshot(
    kafka: KafkaPort, kube: KubernetesPort, spec: KafkaChangeRequestSpec, clock: Clock
) -> Snapshot:
    """The live state the rollback restores (its kind says which), and the URP baseline.

    Raises the ports' errors: without a snapshot nothing may be written.
    """
    state = await kinds.take_snapshot(StepPorts(kafka, kube), spec.change, clock())
    urp = await kafka.probe_under_replicated(None)
    baseline = HealthBaseline(captured_at=clock(), under_replicated_partitions=urp.value(URP))
    return Snapshot(state=state, baseline=baseline)


async def run_step(
    effect: RunStep,
    kafka: KafkaPort,
    kube: KubernetesPort,
    status: KafkaChangeRequestStatus,
    clock: Clock,
) -> StepOutcome:
    try:
        ports = StepPorts(kafka, kube)
        applied = await kinds.apply(ports, effect.step.operation, snapshot=status.snapshot)
        details = "; ".join(applied.details)
        result = f"{applied.outcome}: {details}" if details else str(applied.outcome)
    except GroupNotEmptyError as error:
        return _outcome(effect, clock, False, f"waiting for an empty group: {error.message}", True)
    except KafkaPortError as error:
        return _outcome(effect, clock, False, error.message, error.retriable)
    except KubeError as error:
        return _outcome(effect, clock, False, str(error), error.retriable)
    except StepRefusedError as error:
        return _outcome(effect, clock, False, str(error), False)
    return _outcome(effect, clock, True, result, False)


def not_run(effect: RunStep, clock: Clock, reason: str) -> StepOutcome:
    """The step could not even be attempted; it is retried until the step timeout."""
    return _outcome(effect, clock, False, reason, True)


def _outcome(
    effect: RunStep, clock: Clock, succeeded: bool, result: str, retriable: bool
) -> StepOutcome:
    return StepOutcome(
        step_id=effect.step.id,
        rollback=effect.rollback,
        succeeded=succeeded,
        result=result,
        finished_at=clock(),
        retriable=retriable,
    )


async def sample_progress(kafka: KafkaPort, effect: SampleProgress) -> ProgressRead:
    return ProgressRead(effect.stage, await kafka.consumer_positions(list(effect.groups)))


async def check_gate(
    effect: CheckGate,
    kafka: KafkaPort,
    prometheus: Callable[[str], PrometheusPort],
    metrics: Metrics,
) -> GateReport:
    gates = effect.gates
    checks: list[CheckResult] = []
    if gates.no_offline_partitions:
        checks.append(await _probe(GateCheck.OFFLINE_PARTITIONS, kafka.probe_offline_partitions()))
    if gates.under_replicated_not_above_baseline:
        probe = kafka.probe_under_replicated(None, baseline=effect.under_replicated_baseline)
        checks.append(await _probe(GateCheck.UNDER_REPLICATED, probe))
    if gates.isr_at_least_min_insync and effect.topics:
        probe = kafka.probe_min_insync(list(effect.topics))
        checks.append(await _probe(GateCheck.MIN_INSYNC, probe))
    verdicts: list[GroupProgress] = []
    if effect.progress is not None:
        check, verdicts = await _progress(kafka, effect.progress)
        checks.append(check)
    for gate in gates.promql:
        checks.append(await _promql(prometheus, effect.prometheus_url, gate.name, gate.query))
    for check in checks:
        if not check.passed:
            metrics.gate_failures.labels(check.check.value).inc()
    return GateReport(effect.stage, tuple(checks), tuple(verdicts))


async def _progress(
    kafka: KafkaPort, check: ProgressCheck
) -> tuple[CheckResult, list[GroupProgress]]:
    """Where the groups are now, judged by the engine's rule against the baseline."""
    try:
        now = await kafka.consumer_positions(list(check.groups))
    except KafkaPortError as error:
        failed = CheckResult(
            GateCheck.CONSUMER_PROGRESS,
            False,
            f"could not be checked: {error.message}",
            not error.retriable,
        )
        return failed, []
    return progress.judge(check, now)


async def _probe(check: GateCheck, probe: Awaitable[ProbeVerdict]) -> CheckResult:
    try:
        verdict = await probe
    except KafkaPortError as error:
        return CheckResult(
            check, False, f"could not be checked: {error.message}", not error.retriable
        )
    return CheckResult(check, verdict.passed, verdict.message)


async def _promql(
    prometheus: Callable[[str], PrometheusPort], url: str | None, name: str, query: str
) -> CheckResult:
    if url is None:
        return CheckResult(
            GateCheck.PROMQL, False, f"{name}: the KafkaCluster has no prometheusUrl"
        )
    try:
        samples = await prometheus(url).query(query)
    except PrometheusError as error:
        return CheckResult(GateCheck.PROMQL, False, f"{name}: {error}", not error.retriable)
    if not samples:
        return CheckResult(GateCheck.PROMQL, True, f"{name}: no unhealthy series")
    shown = ", ".join(s.describe() for s in samples[:3])
    more = f" and {len(samples) - 3} more" if len(samples) > 3 else ""
    return CheckResult(
        GateCheck.PROMQL, False, f"{name}: {len(samples)} unhealthy series: {shown}{more}"
    )
