"""One request's loop, run as a kopf daemon: read, decide, write status, do one effect.

The status this process wrote is the truth for the next decision (the watch stream lags
behind our own writes); annotations and spec come from kopf's live body. A step's write
happens only after the status saying it is Running was written, and its result is
written before anything else happens, so a restart resumes at the first unfinished step.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, assert_never

import kopf
from pydantic import ValidationError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from kcr.engine import (
    Answer,
    Blocker,
    ChangeRequestView,
    CheckGate,
    DeploymentLabels,
    Finish,
    GateReport,
    Next,
    Observations,
    ProgressRead,
    ReadStrimzi,
    RunStep,
    SampleProgress,
    Snapshot,
    SnapshotFailed,
    StepOutcome,
    TakeSnapshot,
    Transition,
    Wait,
    claims,
    decide,
)
from kcr.kafka import KafkaPort, KafkaPortError
from kcr.kinds import StepRefusedError
from kcr.kube.errors import KubeError
from kcr.model import KafkaChangeRequestStatus, Phase, explain
from kcr.operator import actions
from kcr.operator.clusters import ClusterRead, read_cluster
from kcr.operator.logs import request_logger
from kcr.operator.runtime import Runtime
from kcr.operator.signers import SignersRead, read_allowed_signers
from kcr.operator.strimzi import read_strimzi

MAX_IDLE_DECISIONS = 20


async def retrying(call: Callable[[], Awaitable[object]]) -> None:
    """A write to the API server, retried briefly while its errors are retriable."""
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(lambda e: isinstance(e, KubeError) and e.retriable),
        stop=stop_after_attempt(5),
        wait=wait_exponential(multiplier=0.2, max=5),
        reraise=True,
    ):
        with attempt:
            await call()


class Reconciler:
    def __init__(
        self,
        runtime: Runtime,
        body: kopf.Body,
        wakeup: asyncio.Event,
        stopped: kopf.DaemonStopped,
        index: Any,
    ) -> None:
        self.runtime = runtime
        self.body = body
        self.wakeup = wakeup
        self.stopped = stopped
        self.index = index
        self.resource = ChangeRequestView.from_body(body)
        self.written: KafkaChangeRequestStatus | None = None
        self.removed: dict[str, str] = {}
        self.holds_claim_lock = False
        self.cluster: Any = None
        self.cluster_read: ClusterRead | None = None
        self.signers_read = SignersRead(None)
        self.log = request_logger(
            self.resource.namespace, self.resource.name, self.resource.correlation_id
        )

    async def run(self) -> None:
        try:
            await self._loop()
        finally:
            self._release_claim_lock()

    async def _loop(self) -> None:
        answer: Answer | None = None
        idle = 0
        while not self.stopped:
            self.wakeup.clear()
            self._refresh()
            observations = await self._observe(answer)
            before = self.resource.status
            transition = decide(self.resource, observations, self.runtime.clock())
            await self._apply(transition)
            self._release_claim_lock()
            answer = None
            effect = transition.effect
            unchanged = transition.status == before and isinstance(effect, Next)
            idle = idle + 1 if unchanged else 0
            if isinstance(effect, Finish):
                # Never return: kopf would not restart a daemon that ended by itself. It stops
                # this one when the written phase no longer matches the daemon's filter, and
                # starts it again if it matches again (kcr.dev/rollback=requested).
                effect = Wait()
            if idle > MAX_IDLE_DECISIONS:
                self.log.error("decisions change nothing; waiting", phase=self.phase.value)
                effect = Wait()
                idle = 0
            match effect:
                case Wait(until=until):
                    await self._sleep(until)
                    self.cluster_read = None
                case TakeSnapshot():
                    answer = await self._snapshot()
                case RunStep():
                    answer = await self._run_step(effect)
                case ReadStrimzi():  # for the review, and right before each write
                    answer = await read_strimzi(self.runtime.kube, self.cluster)
                case SampleProgress():
                    answer = await self._sample_progress(effect)
                case CheckGate():
                    answer = await self._check_gate(effect)
                case Next():
                    pass
                case _:
                    assert_never(effect)

    @property
    def phase(self) -> Phase:
        return self.resource.status.phase

    def _refresh(self) -> None:
        """Spec and annotations from the live body; status from our own last write."""
        fresh = ChangeRequestView.from_body(self.body)
        self.removed = {k: v for k, v in self.removed.items() if fresh.annotations.get(k) == v}
        annotations = {k: v for k, v in fresh.annotations.items() if self.removed.get(k) != v}
        status = self.written if self.written is not None else fresh.status
        self.resource = replace(fresh, annotations=annotations, status=status)

    async def _observe(self, answer: Answer | None) -> Observations:
        settings = self.runtime.config.engine
        spec = self.resource.spec
        if spec is None:
            return Observations(settings=settings, answer=answer)
        if self.cluster_read is None:  # once per burst of moves: re-read after each wait
            self.cluster_read = await read_cluster(
                self.runtime.kube, self.resource.namespace, spec.cluster
            )
            self.signers_read = read_allowed_signers(self.runtime.config.allowed_signers)
        read = self.cluster_read
        self.cluster = read.spec
        blockers: tuple[Blocker, ...] = ()
        if self.phase is Phase.APPROVED:
            blockers = self._blockers()
        elif (
            self.phase is Phase.SUCCEEDED and self.resource.signals.rollback_requested
        ) or self.phase is Phase.AWAITING_ROLLBACK_APPROVAL:
            # Checked and acted upon under the lock, like a start: see _snapshot.
            await self._acquire_claim_lock()
            blockers = self._blockers()
        scaled, scaled_problem = None, ""
        if self.phase is Phase.PENDING:
            scaled, scaled_problem = await self._scaled_deployment()
        return Observations(
            cluster=read.spec,
            cluster_problem=read.problem,
            allowed_signers=self.signers_read.signers,
            allowed_signers_problem=self.signers_read.problem,
            blockers=blockers,
            settings=settings,
            scaled_deployment=scaled,
            scaled_deployment_problem=scaled_problem,
            answer=answer,
        )

    async def _scaled_deployment(self) -> tuple[DeploymentLabels | None, str]:
        """For the review: which group the Deployment an offset reset scales consumes."""
        spec = self.resource.spec
        ref = spec.change.kind.deployment(spec.change.member) if spec else None
        if ref is None:
            return None, ""
        try:
            labels = await self.runtime.kube.deployment_labels(ref.namespace, ref.name)
        except KubeError as error:
            return None, f"Deployment {ref.namespace}/{ref.name} could not be read: {error}"
        return DeploymentLabels(labels), ""

    async def _apply(self, transition: Transition) -> None:
        old = self.resource.status
        new = transition.status
        if new != old:
            await self._write_status(new)
            self.written = new
            self.resource = self.resource.with_status(new)
        if transition.consumed:
            await self._consume(transition.consumed)
        for event in transition.events:
            kopf.event(self.body, type=event.type.value, reason=event.reason, message=event.message)
            self.log.info(
                event.message,
                reason=event.reason,
                phase=new.phase.value,
                event_type=event.type.value,
            )
        self._account(old, new, transition.reason)

    async def _write_status(self, status: KafkaChangeRequestStatus) -> None:
        payload = status.model_dump(mode="json", by_alias=True)
        try:
            await retrying(
                lambda: self.runtime.kube.patch_status(
                    self.resource.namespace, self.resource.name, payload
                )
            )
        except KubeError as error:
            delay = self.runtime.config.engine.retry_delay.total_seconds()
            raise kopf.TemporaryError(
                f"status could not be written: {error}", delay=delay
            ) from error

    async def _consume(self, keys: tuple[str, ...]) -> None:
        """Acted-upon annotations go away, and are ignored here until they do."""
        self.removed.update({k: self.resource.annotations[k] for k in keys})
        self.resource = self.resource.without_annotations(keys)
        try:
            await retrying(
                lambda: self.runtime.kube.remove_annotations(
                    self.resource.namespace, self.resource.name, list(keys)
                )
            )
        except KubeError as error:
            # This process ignores them from now on; a restarted one would read them again.
            self.log.error(
                "annotations acted upon could not be removed; remove them by hand",
                annotations=list(keys),
                error=str(error),
            )

    def _account(
        self, old: KafkaChangeRequestStatus, new: KafkaChangeRequestStatus, reason: str
    ) -> None:
        metrics = self.runtime.metrics
        metrics.observe(old, new, reason, self.runtime.clock())
        spec = self.resource.spec
        uid = str(self.body.metadata.uid or self.resource.key)
        metrics.requests.record(
            uid,
            new.phase.value,
            str(spec.change.type) if spec else "Unknown",
            new.risk.value if new.risk else "None",
        )
        if spec is not None:
            self.runtime.claims.record(
                self.resource.key, new.phase, claims(self.resource.namespace, spec)
            )

    async def _sleep(self, until: datetime | None) -> None:
        seconds = self.runtime.config.poll_seconds
        if until is not None:
            left = (until - self.runtime.clock()).total_seconds()
            seconds = min(seconds, max(0.0, left))
        wake = asyncio.ensure_future(self.wakeup.wait())
        stop = asyncio.ensure_future(self.stopped.wait())
        try:
            await asyncio.wait({wake, stop}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (wake, stop):
                task.cancel()

    async def _kafka(self) -> KafkaPort:
        spec = self.resource.spec
        if spec is None or self.cluster is None:
            raise KubeError("the KafkaCluster is not available")
        return await self.runtime.kafka.port(self.resource.namespace, spec.cluster, self.cluster)

    def _blockers(self) -> tuple[Blocker, ...]:
        spec = self.resource.spec
        assert spec is not None
        return self.runtime.claims.blockers(
            self.resource.key, claims(self.resource.namespace, spec), self.index
        )

    async def _acquire_claim_lock(self) -> None:
        """Held until the next status write: no other request may start on these resources
        between the check for blockers and the write that claims them."""
        if not self.holds_claim_lock:
            await self.runtime.claims.lock.acquire()
            self.holds_claim_lock = True

    async def _snapshot(self) -> Snapshot | SnapshotFailed | None:
        """Under the claim lock: no other request may start on these resources meanwhile.

        None when another request now blocks this one, or the cluster is not known: the
        next decision says so and waits.
        """
        await self._acquire_claim_lock()
        spec = self.resource.spec
        assert spec is not None
        if self._blockers() or self.cluster is None:
            return None
        try:
            kafka = await self._kafka()
            return await actions.take_snapshot(kafka, self.runtime.kube, spec, self.runtime.clock)
        except (KafkaPortError, KubeError, StepRefusedError) as error:
            return SnapshotFailed(f"the live state could not be read: {error}")
        except ValidationError as error:
            # The cluster holds something kcr's model cannot record: say what, and wait.
            return SnapshotFailed(
                "the live state could not be recorded: " + "; ".join(explain(error))
            )

    def _release_claim_lock(self) -> None:
        if self.holds_claim_lock:
            self.holds_claim_lock = False
            self.runtime.claims.lock.release()

    async def _run_step(self, effect: RunStep) -> StepOutcome:
        self.log.info(
            "running step", step=effect.step.id, rollback=effect.rollback, phase=self.phase.value
        )
        try:
            kafka = await self._kafka()
        except (KafkaPortError, KubeError) as error:
            return actions.not_run(effect, self.runtime.clock, f"no Kafka client: {error}")
        return await actions.run_step(
            effect, kafka, self.runtime.kube, self.resource.status, self.runtime.clock
        )

    async def _sample_progress(self, effect: SampleProgress) -> ProgressRead | None:
        try:
            kafka = await self._kafka()
            return await actions.sample_progress(kafka, effect)
        except (KafkaPortError, KubeError) as error:
            await self._retry_later("consumer positions could not be read", error)
            return None

    async def _check_gate(self, effect: CheckGate) -> GateReport | None:
        try:
            kafka = await self._kafka()
        except (KafkaPortError, KubeError) as error:
            await self._retry_later("the health gate could not be checked", error)
            return None
        return await actions.check_gate(
            effect, kafka, self.runtime.prometheus, self.runtime.metrics
        )

    async def _retry_later(self, what: str, error: Exception) -> None:
        """A pause with no answer: then the engine asks for the same effect again."""
        self.log.warning(f"{what}; retrying", error=str(error), phase=self.phase.value)
        await self._sleep(self.runtime.clock() + self.runtime.config.engine.retry_delay)
