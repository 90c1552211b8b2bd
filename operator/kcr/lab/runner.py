"""One scenario end to end: the incident, the assistant, the review, the operator, the read-back.

The runner knows no scenario by name: it runs what :func:`kcr.lab.scenario.discover`
found. Each run is bounded in time (the assistant, the review and the execution each have
a deadline), samples the watched group's lag and the request's phase for the report, and
cleans up the scenario's topics, groups and clients whatever happened.
"""

import asyncio
import json
import logging
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from kcr.embedded.narration import Narrator
from kcr.embedded.reviewer import run_plugin
from kcr.lab.assistant import builtin, external
from kcr.lab.context import LabContext, LabStack
from kcr.lab.scenario import Check, Scenario, Ticket
from kcr.lab.verdict import DraftSeen, EvidenceSeen, FindingSeen, Observation, Verdict, judge
from kcr.model import KafkaChangeRequestStatus, Phase

log = logging.getLogger(__name__)

REVIEWERS = ("bob", "carol")
SAMPLE_SECONDS = 0.5
REVIEW_TIMEOUT_SECONDS = 30.0
EXECUTION_TIMEOUT_SECONDS = 180.0
MAX_SAMPLES = 2000
FINISHED = {
    Phase.SUCCEEDED,
    Phase.ROLLED_BACK,
    Phase.ROLLBACK_FAILED,
    Phase.FAILED,
    Phase.STALE,
    Phase.INVALID,
    Phase.REJECTED,
    Phase.EXPIRED,
    Phase.PAUSED,
}


@dataclass
class Sample:
    seconds: float
    lag: int | None
    phase: str | None


@dataclass
class Result:
    name: str
    title: str
    verdict: Verdict
    observation: Observation
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    started_at: datetime | None = None
    left_behind: list[str] = field(default_factory=list)


@dataclass
class RunEnv:
    stack: LabStack
    narrator: Narrator
    prefix: str
    assistant_command: str | None = None


class Requests:
    """The KafkaChangeRequests in the lab's namespace, read from the Kubernetes API."""

    def __init__(self, stack: LabStack) -> None:
        namespace = stack.options.namespace
        self.path = (
            f"{stack.kube_url}/apis/kcr.dev/v1alpha1/namespaces/{namespace}/kafkachangerequests"
        )

    async def names(self) -> set[str]:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(self.path)
            response.raise_for_status()
            return {item["metadata"]["name"] for item in response.json().get("items", [])}

    async def read(self, name: str) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(f"{self.path}/{name}")
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

    async def status(self, name: str) -> KafkaChangeRequestStatus:
        return KafkaChangeRequestStatus.model_validate((await self.read(name)).get("status") or {})

    async def until(
        self, name: str, phases: set[Phase], timeout: float
    ) -> KafkaChangeRequestStatus:
        deadline = time.monotonic() + timeout
        while True:
            status = await self.status(name)
            if status.phase in phases or time.monotonic() > deadline:
                return status
            await asyncio.sleep(SAMPLE_SECONDS)


async def run_scenario(scenario: Scenario, env: RunEnv, context: LabContext) -> Result:
    started = time.monotonic()
    result = Result(scenario.name, scenario.title, Verdict(scenario.name, []), Observation(), 0.0)
    result.started_at = datetime.now(UTC)
    seen = result.observation
    requests = Requests(env.stack)
    watched: dict[str, str] = {}
    sampler = asyncio.create_task(_sample(context, requests, watched, result, started))
    try:
        ticket = await scenario.build(context)
        watched["group"] = ticket.group or ""
        if scenario.settle_seconds:
            env.narrator.say(f"letting kcr's sampler see it for {scenario.settle_seconds:.0f}s")
            await asyncio.sleep(scenario.settle_seconds)
        before = await requests.names()
        await _assistant(scenario, env, ticket, seen)
        drafted = sorted((await requests.names()) - before)
        name = drafted[0] if drafted else None
        if name is not None:
            watched["request"] = name
            await _review_and_execute(
                scenario=scenario,
                env=env,
                context=context,
                requests=requests,
                name=name,
                seen=seen,
            )
            result.status = (await requests.read(name)).get("status") or {}
        seen.read_back.extend(scenario.diagnosis_checks(seen.findings))
        for check in (await scenario.read_back(context, name is not None)).checks:
            seen.read_back.append(check)
    except Exception as error:  # noqa: BLE001 (a scenario's failure is its verdict, not the run's)
        seen.error = f"{type(error).__name__}: {error}"
        env.narrator.failed(f"{scenario.name}: {seen.error}")
    finally:
        sampler.cancel()
        await scenario.cleanup(context)
        result.left_behind = await context.cleanup()
    _count_calls(env.stack, result)
    result.seconds = round(time.monotonic() - started, 1)
    result.verdict = judge(scenario.name, scenario.expectation, seen)
    return result


async def _assistant(scenario: Scenario, env: RunEnv, ticket: Ticket, seen: Observation) -> None:
    stack = env.stack
    with tempfile.TemporaryDirectory(prefix="kcr-lab-") as directory:
        answer = Path(directory) / "answer.json"
        if env.assistant_command:
            output = await external(
                command=env.assistant_command,
                url=stack.mcp_url,
                token=stack.assistant_token,
                scenario=scenario.name,
                ticket=ticket,
                bake_seconds=scenario.bake_seconds,
                answer=answer,
            )
            env.narrator.say(f"assistant: {output.strip()[:300]}")
        else:
            await builtin(
                url=stack.mcp_url,
                token=stack.assistant_token,
                principal=stack.options.assistant,
                ticket=ticket,
                bake_seconds=scenario.bake_seconds,
                answer=answer,
                narrator=env.narrator,
            )
        seen.findings = read_answer(answer)


def read_answer(path: Path) -> list[FindingSeen]:
    """The findings an assistant wrote, most likely first; none when it wrote nothing."""
    try:
        body = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    found = []
    for item in body.get("findings", []) if isinstance(body, dict) else []:
        evidence = tuple(
            EvidenceSeen(
                source=str(e.get("source", "")),
                query=str(e.get("query", "")),
                window=_window(e.get("timeWindow")),
            )
            for e in item.get("evidence", [])
        )
        proposal = item.get("proposal")
        found.append(
            FindingSeen(
                kind=str(item.get("kind", "")),
                summary=str(item.get("summary", "")),
                evidence=evidence,
                proposal=proposal["change"]["type"] if proposal else None,
                runbook=_runbook(item.get("runbook")),
                subject=str(item.get("subject", "")),
            )
        )
    return found


def _runbook(runbook: Any) -> str:
    if not isinstance(runbook, dict) or not runbook.get("runbook"):
        return ""
    section = runbook.get("section")
    return f"{runbook['runbook']}#{section}" if section else str(runbook["runbook"])


def _window(window: Any) -> str:
    if not isinstance(window, dict) or not window.get("start") or not window.get("end"):
        return ""
    return f"{window['start']}/{window['end']}"


async def _review_and_execute(
    *,
    scenario: Scenario,
    env: RunEnv,
    context: LabContext,
    requests: Requests,
    name: str,
    seen: Observation,
) -> None:
    narrator = env.narrator
    waiting = {Phase.AWAITING_APPROVAL, *FINISHED}
    status = await requests.until(name, waiting, REVIEW_TIMEOUT_SECONDS)
    body = await requests.read(name)
    seen.draft = _draft_seen(name, body, status)
    seen.phase = status.phase.value
    narrator.done(
        f"{name}: {body['spec']['change']['type']}, risk {status.risk}, "
        f"{'irreversible' if status.irreversible else 'reversible'}, phase {status.phase.value}"
    )
    if status.phase is not Phase.AWAITING_APPROVAL:
        return
    if not scenario.expectation.approve:
        await _plugin(env, "bob", ["reject", name])
        status = await requests.until(name, FINISHED, REVIEW_TIMEOUT_SECONDS)
        seen.phase = status.phase.value
        await scenario.after_review(context, name)
        return
    for person in REVIEWERS[: max(1, status_required(body))]:
        await _plugin(env, person, ["approve", name])
    drill = asyncio.create_task(scenario.during_execution(context, name))
    status = await requests.until(name, FINISHED, EXECUTION_TIMEOUT_SECONDS)
    await drill
    seen.phase = status.phase.value
    narrator.done(f"{name} ended {status.phase.value}: {status.message[:200]}")
    await scenario.after_review(context, name)


def status_required(body: dict[str, Any]) -> int:
    """Approvals the operator asks for (HIGH and CRITICAL need two by default)."""
    risk = (body.get("status") or {}).get("risk")
    return 2 if risk in ("HIGH", "CRITICAL") else 1


async def _plugin(env: RunEnv, person: str, arguments: list[str]) -> None:
    stack = env.stack
    run = await run_plugin(
        stack.kubeconfigs[person],
        [*arguments, "-n", stack.options.namespace],
        env.narrator,
        f"{person}: kubectl kcr {' '.join(arguments)}",
    )
    env.narrator.person(person, f"$ kubectl kcr {' '.join(arguments)} → {run.output.strip()[:160]}")
    if run.code != 0:
        raise RuntimeError(f"kubectl kcr {arguments[0]} as {person} failed: {run.output.strip()}")


def _draft_seen(name: str, body: dict[str, Any], status: KafkaChangeRequestStatus) -> DraftSeen:
    rollback = status.rollback_plan
    return DraftSeen(
        name=name,
        kind=str(body["spec"]["change"]["type"]),
        risk=status.risk.value if status.risk else None,
        irreversible=status.irreversible,
        rollback_steps=len(rollback.steps) if rollback else 0,
        irreversible_reasons=tuple(rollback.irreversible_reasons) if rollback else (),
    )


async def _sample(
    context: LabContext,
    requests: Requests,
    watched: dict[str, str],
    result: Result,
    started: float,
) -> None:
    """The watched group's lag and the request's phase, twice a second, bounded in count."""
    while len(result.samples) < MAX_SAMPLES:
        lag = phase = None
        group, name = watched.get("group"), watched.get("request")
        try:
            if group:
                report = await context.admin.lag_report([group], describe_groups=False)
                row = report.group(group)
                lag = row.total_lag if row is not None else None
            if name:
                phase = (await requests.status(name)).phase.value
        except Exception as error:  # noqa: BLE001 (a missed sample is a gap in the chart)
            log.debug("lab sample missed: %s", error)
        result.samples.append(Sample(round(time.monotonic() - started, 2), lag, phase))
        await asyncio.sleep(SAMPLE_SECONDS)


def _count_calls(stack: LabStack, result: Result) -> None:
    """Tool calls and the time to the diagnosis, from the MCP server's own audit log."""
    seen = result.observation
    if result.started_at is None or not stack.audit_log.exists():
        return
    principal = stack.options.assistant
    calls = []
    for line in stack.audit_log.read_text().splitlines():
        try:
            record = json.loads(line)
            at = datetime.fromisoformat(record["time"])
        except (ValueError, KeyError):
            continue
        if record.get("principal") == principal and at >= result.started_at:
            calls.append((at, record.get("tool", "")))
    seen.tool_calls = len(calls)
    diagnosis = [at for at, tool in calls if tool == "explain_current_state"]
    if diagnosis and calls:
        seen.seconds_to_diagnosis = round((diagnosis[0] - calls[0][0]).total_seconds(), 2)


def results_passed(results: list[Result]) -> bool:
    return all(r.verdict.passed or r.verdict.skipped for r in results)


def skipped(scenario: Scenario, why: str) -> Result:
    return Result(
        scenario.name,
        scenario.title,
        Verdict(scenario.name, [Check("needs", False, why)], skipped=why),
        Observation(),
        0.0,
    )
