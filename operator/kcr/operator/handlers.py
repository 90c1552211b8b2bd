"""kopf registrations: thin, each a few lines that hand over to the engine's loop.

One daemon per request that still needs the operator (a terminal request has none; a
Succeeded one gets one again when ``kcr.dev/rollback=requested`` appears). Every watch
event wakes the request's daemon, so it reacts to an annotation at once; status changes
never fire ``on.update``, which is why the loop is a daemon and not update handlers.
"""

import asyncio
from collections.abc import Mapping
from typing import Any

import kopf

from kcr.engine import StatusUnreadableError, claims, needs_operator, read_signals
from kcr.kube.resources import CHANGE_REQUESTS, GROUP, VERSION
from kcr.model import KINDS, KafkaChangeRequestSpec, Phase, Risk
from kcr.operator.reconciler import Reconciler
from kcr.operator.runtime import Runtime
from kcr.policy.authority import ACTIVE_PHASES

KCR = (GROUP, VERSION, CHANGE_REQUESTS.plural)
CLAIMS_INDEX = "kcr_claims"
CANCELLATION_TIMEOUT = 10.0
"""After the grace period, how long a cancelled loop may take to unwind."""


def phase_of(body: Any) -> Phase:
    try:
        return Phase(body.get("status", {}).get("phase") or Phase.PENDING)
    except ValueError:
        return Phase.PENDING


def kind_and_risk(body: Any) -> tuple[str, str]:
    """Metric labels from a body people wrote: only known values, never free text."""
    change = (body.get("spec") or {}).get("change")
    kind = change.get("type") if isinstance(change, Mapping) else None
    risk = (body.get("status") or {}).get("risk")
    return (
        kind if kind in KINDS.names(requestable_only=True) else "Unknown",
        risk if risk in {r.value for r in Risk} else "None",
    )


def needs_attention(body: Any, **_: Any) -> bool:
    rollback = read_signals(body.get("metadata", {}).get("annotations") or {}).rollback_requested
    return needs_operator(phase_of(body), rollback)


def wakeup_of(memo: Any) -> asyncio.Event:
    event: asyncio.Event = memo.setdefault("kcr_wakeup", asyncio.Event())
    return event


def build_registry(runtime: Runtime) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return runtime.login()

    @kopf.on.probe(id="requests", registry=registry)
    def requests_probe(**_: Any) -> int:
        return len(runtime.metrics.requests)

    @kopf.index(*KCR, id=CLAIMS_INDEX, registry=registry)
    def claims_index(
        body: kopf.Body, namespace: str | None, name: str, **_: Any
    ) -> dict[str, tuple[str, str]]:
        phase = phase_of(body)
        if phase not in ACTIVE_PHASES:
            return {}
        try:
            spec = KafkaChangeRequestSpec.model_validate(body.get("spec") or {})
        except ValueError:
            return {}
        where = namespace or ""
        return {key: (f"{where}/{name}", phase.value) for key in claims(where, spec)}

    @kopf.on.event(*KCR, registry=registry)
    async def noticed(
        body: kopf.Body, memo: kopf.Memo, type: str | None, uid: str, **_: Any
    ) -> None:
        wakeup_of(memo).set()
        if type == "DELETED":
            runtime.metrics.requests.forget(uid)
            runtime.claims.forget(f"{body.metadata.namespace}/{body.metadata.name}")
            return
        runtime.metrics.requests.record(uid, phase_of(body).value, *kind_and_risk(body))

    @kopf.daemon(
        *KCR,
        id="reconcile",
        registry=registry,
        when=needs_attention,
        cancellation_backoff=runtime.config.cancellation_seconds,
        cancellation_timeout=CANCELLATION_TIMEOUT,
        backoff=runtime.config.error_backoff_seconds,
    )
    async def reconcile(
        body: kopf.Body, memo: kopf.Memo, stopped: kopf.DaemonStopped, **kwargs: Any
    ) -> None:
        index = kwargs[CLAIMS_INDEX]
        try:
            await Reconciler(runtime, body, wakeup_of(memo), stopped, index).run()
        except StatusUnreadableError as error:
            # Guessing the progress from a broken status could repeat a write: wait for a fix.
            delay = runtime.config.error_backoff_seconds * 4
            raise kopf.TemporaryError(f"status cannot be read: {error}", delay=delay) from error

    return registry
