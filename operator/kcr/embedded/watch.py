"""Following a KafkaChangeRequest through its phases, as ``kubectl get -w`` would.

Reads the request from the Kubernetes API every poll and shows where it is: the phase,
the step running or the baseline being measured, the bake with its remaining time.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from kcr.embedded.narration import Narrator, Wait, shorten_hashes
from kcr.model import KafkaChangeRequestStatus, Phase, StepState

POLL_SECONDS = 0.25
HISTORY_CHARS = 150
Status = KafkaChangeRequestStatus
Detail = Callable[[Status], Awaitable[str]]


class RequestWatch:
    def __init__(self, kube_url: str, namespace: str) -> None:
        self.http = httpx.AsyncClient(base_url=kube_url, timeout=10)
        self.path = f"/apis/kcr.dev/v1alpha1/namespaces/{namespace}/kafkachangerequests"

    async def aclose(self) -> None:
        await self.http.aclose()

    async def read(self, name: str) -> dict[str, Any]:
        response = await self.http.get(f"{self.path}/{name}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def status(self, name: str) -> Status:
        return Status.model_validate((await self.read(name)).get("status") or {})

    async def until(
        self,
        name: str,
        done: Callable[[Status], bool],
        wait: Wait,
        detail: Detail | None = None,
    ) -> Status:
        """Poll until ``done``; every poll shows ``detail`` (by default the phase and the step
        running) on the wait's line."""
        while True:
            status = await self.status(name)
            if done(status):
                return status
            wait.show(await (detail or phase_and_step)(status))
            wait.check()
            await asyncio.sleep(POLL_SECONDS)


async def phase_and_step(status: Status) -> str:
    step = running_step(status) or measuring(status)
    return f"{status.phase.value}{' · ' + step if step else ''}"


def measuring(status: Status) -> str:
    """The operator's note while it measures the groups' reading rates before a write."""
    ready = next((c for c in status.conditions if c.type == "Ready"), None)
    return ready.message if ready and ready.reason == "MeasuringBaseline" else ""


def in_phase(*phases: Phase) -> Callable[[Status], bool]:
    return lambda status: status.phase in phases


def baking_stage(status: Status) -> tuple[str, datetime | None]:
    for stage in status.plan.stages if status.plan else []:
        if stage.gate_state is StepState.RUNNING:
            return stage.name, stage.bake_started_at
    return "", None


def seconds_since(moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    return max(0.0, (datetime.now(UTC) - moment).total_seconds())


def running_step(status: Status) -> str:
    for stage in status.plan.stages if status.plan else []:
        for step in stage.steps:
            if step.state is StepState.RUNNING:
                return f"stage {stage.name}: {step.description}"
    return ""


def narrate_history(narrator: Narrator, status: Status, since: int) -> int:
    """Print the history entries after the first ``since``, one line each; returns how many
    entries there are (``kubectl kcr describe`` shows them whole)."""
    for entry in status.history[since:]:
        message = shorten_hashes(entry.message)
        if len(message) > HISTORY_CHARS:
            message = message[: HISTORY_CHARS - 1] + "…"
        narrator.say(f"  {entry.phase.value:<12} {entry.reason}: {message}")
    return len(status.history)
