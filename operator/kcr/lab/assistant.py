"""The assistant's side of a scenario: the built-in fixed policy, or the user's own client.

Both reach kcr only through the MCP server over streamable HTTP with a bearer token, and
both leave the same two things behind: an answer file (the cause they name and the
evidence they cite) and the KafkaChangeRequest they drafted, if any.

The contract for ``kcr lab --assistant CMD`` (CMD is split like a shell line and run once
per scenario, with a timeout): environment variables

- ``KCR_MCP_URL``, ``KCR_MCP_TOKEN``: the server and the bearer token to present;
- ``KCR_LAB_SCENARIO``, ``KCR_LAB_TICKET`` (the person's words) and ``KCR_LAB_TICKET_JSON``
  (the same with ``topic``, ``group``, ``principal``, ``operation``, ``requested``,
  ``schema``), ``KCR_LAB_BAKE_SECONDS`` (the pacing to draft with);
- ``KCR_LAB_ANSWER``: a path where the client writes JSON ``{"findings": [{"kind",
  "subject", "summary", "evidence": [{"source", "query", "timeWindow": {"start", "end"}}],
  "runbook": {"runbook", "section"}}]}``, most likely cause first (a client that writes
  nothing names no cause; where the fix is not a Kafka change, the verdict wants the runbook
  section).

The lab reads the draft from Kubernetes: the KafkaChangeRequests created during the run.
"""

import asyncio
import json
import os
import re
import shlex
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kcr.embedded.assistant import Assistant, connect
from kcr.embedded.narration import Narrator
from kcr.lab.scenario import Ticket
from kcr.lab.verdict import about_a_broker

EXTERNAL_TIMEOUT_SECONDS = 300.0


def draft_tool(change: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``{type: AlterTopicConfig, alterTopicConfig: {...}}`` → the draft tool and its
    arguments (top-level keys in snake_case, as the tools name them)."""
    kind = str(change["type"])
    member = change[kind[0].lower() + kind[1:]]
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()
    arguments = {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): v for k, v in member.items()}
    return f"draft_{snake}", arguments


async def builtin(
    *,
    url: str,
    token: str,
    principal: str,
    ticket: Ticket,
    bake_seconds: int,
    answer: Path,
    narrator: Narrator,
) -> None:
    """Diagnose, then draft what the top finding proposes (or what was asked).

    One ``explain_current_state`` call: it reads the topic's or group's metadata, configs,
    lag, metrics, the named client's access and the producer's schema itself, and keeps
    what it showed for the draft to cite; asking the narrower tools again would only read
    the same facts twice."""
    async with connect(url, token, principal, narrator) as bot:
        subject: dict[str, Any] = (
            {"topic": ticket.topic} if ticket.topic else {"group": ticket.group}
        )
        if ticket.principal:
            subject |= {"principal": ticket.principal}
            if ticket.operation:
                subject |= {"operation": ticket.operation}
        if ticket.schema and ticket.topic:
            subject |= {"schema": ticket.schema}
        diagnosis = await bot.call("explain_current_state", subject)
        findings = diagnosis.get("findings", [])
        answer.write_text(json.dumps({"findings": findings}))
        await _draft(bot, ticket, findings, bake_seconds)


async def _draft(
    bot: Assistant, ticket: Ticket, findings: list[dict[str, Any]], bake_seconds: int
) -> None:
    pacing = {"rollout": {"bakeSeconds": bake_seconds, "canary": 1, "batchSize": 1}}
    if ticket.requested is not None:
        arguments = dict(ticket.requested["arguments"]) | {"reason": ticket.text} | pacing
        await bot.call(str(ticket.requested["tool"]), arguments)
        return
    asked = [f for f in findings if not about_a_broker(str(f.get("subject", "")))]
    proposal = asked[0].get("proposal") if asked else None
    if not proposal:
        return
    tool, arguments = draft_tool(proposal["change"])
    await bot.call(tool, arguments | {"reason": proposal["reason"]} | pacing)


async def external(
    *,
    command: str,
    url: str,
    token: str,
    scenario: str,
    ticket: Ticket,
    bake_seconds: int,
    answer: Path,
) -> str:
    """Run the user's client with the contract's environment; its output, for the log."""
    env = os.environ | {
        "KCR_MCP_URL": url,
        "KCR_MCP_TOKEN": token,
        "KCR_LAB_SCENARIO": scenario,
        "KCR_LAB_TICKET": ticket.text,
        "KCR_LAB_TICKET_JSON": json.dumps(asdict(ticket)),
        "KCR_LAB_BAKE_SECONDS": str(bake_seconds),
        "KCR_LAB_ANSWER": str(answer),
    }
    process = await asyncio.create_subprocess_exec(
        *shlex.split(command),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    started = time.monotonic()
    try:
        output, _ = await asyncio.wait_for(process.communicate(), EXTERNAL_TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        return (
            f"the assistant (pid {process.pid}) did not finish in {EXTERNAL_TIMEOUT_SECONDS:.0f}s"
        )
    text = output.decode(errors="replace")[-2000:]
    return f"exit {process.returncode} after {time.monotonic() - started:.1f}s: {text}"
