"""``kcr demo``: the embedded stack, a lag incident, and the two stories, in under two minutes.

The stack and every process in it are stopped by pid in ``finally``, on success, on
failure and on Ctrl-C; the report (``--report``) lists each process with its pid, so a
test can check that none is left.
"""

import asyncio
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kcr.embedded.assistant import ToolCallError, connect
from kcr.embedded.follow import StoryError
from kcr.embedded.incident import Incident, build_incident
from kcr.embedded.kube_users import EmulatorError
from kcr.embedded.narration import Narrator, WaitTimeoutError
from kcr.embedded.processes import ProcessError
from kcr.embedded.reviewer import PluginError, review_table
from kcr.embedded.signals import interrupt_on_stop_signals, interruptible
from kcr.embedded.stack import Stack, StackOptions
from kcr.embedded.stories import (
    Cast,
    Outcome,
    investigate,
    story_dead_letter,
    story_retention,
)
from kcr.embedded.tansu import TansuError
from kcr.embedded.watch import RequestWatch
from kcr.kafka import ClientSettings, KafkaPortError, open_kafka
from kcr.model import ConsumerProgressGate

REVIEWER = "bob"
BASELINE_SECONDS = 8
SAMPLES_BEFORE_DIAGNOSIS = 3
KAFKA_TIMEOUT_SECONDS = 10.0
BUDGET_SECONDS = 120.0
INTERRUPTED = 130
EXPECTED_FAILURES = (
    EmulatorError,
    StoryError,
    ProcessError,
    TansuError,
    WaitTimeoutError,
    ToolCallError,
    PluginError,
    KafkaPortError,
)
"""Failures the demo explains in a sentence; anything else is a bug and shows its traceback."""


@dataclass
class Report:
    """What happened, for people (printed) and for tests (``--report``, JSON)."""

    outcomes: list[Outcome] = field(default_factory=list)
    processes: dict[str, int] = field(default_factory=dict)
    stopped: list[tuple[str, int]] = field(default_factory=list)
    elapsed_seconds: float = 0.0
    error: str = ""

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


def progress_gate(incident: Incident) -> ConsumerProgressGate:
    """Each group keeps half its reading rate; invoicing, which subscribes by pattern, is
    watched on every change, even one whose blast radius does not name it."""
    return ConsumerProgressGate(
        baseline_seconds=BASELINE_SECONDS, min_percent=50, groups=[incident.invoicing]
    )


def demo_options(incident: Incident) -> StackOptions:
    return StackOptions(
        assistant="assistant",
        assistant_tenant="checkout",
        topic_prefixes=("shop.",),
        group_prefixes=("shop.",),
        reviewers=(REVIEWER,),
        ownership=(incident.owner,),
        progress_gate=progress_gate(incident),
        sample_interval=1.0,
    )


def main(report_path: Path | None) -> int:
    """Run the demo; the exit code is 0, 1 (it failed, and says why) or 130 (interrupted)."""
    narrator = Narrator()
    report = Report()
    code = 0
    try:
        with interrupt_on_stop_signals():
            run_demo(narrator, report)
    except KeyboardInterrupt:
        report.error = "interrupted"
        narrator.warn("interrupted: everything started was stopped")
        code = INTERRUPTED
    except EXPECTED_FAILURES as error:
        report.error = str(error)
        narrator.failed(f"the demo failed: {error}")
        code = 1
    finally:
        print_stopped(narrator, report.stopped)
        if report_path is not None:
            report.write(report_path)
    if code == 0:
        text = f"kcr demo finished in {report.elapsed_seconds:.1f}s"
        if report.elapsed_seconds >= BUDGET_SECONDS:
            narrator.warn(f"{text}, over its budget of {BUDGET_SECONDS:.0f}s")
        else:
            narrator.done(f"{text} (budget {BUDGET_SECONDS:.0f}s)")
    return code


def print_stopped(narrator: Narrator, stopped: list[tuple[str, int]]) -> None:
    if stopped:
        listed = ", ".join(f"{name} {pid}" for name, pid in stopped)
        narrator.done(f"all {len(stopped)} processes started are stopped (by pid: {listed})")


def run_demo(narrator: Narrator, report: Report) -> None:
    """Everything, synchronously; the stack is closed in ``finally`` whatever happens."""
    incident = Incident()
    stack = Stack.prepare(demo_options(incident))
    try:
        narrator.title("kcr demo: an assistant drafts, people approve, the operator executes")
        narrator.chapter("1. A Kafka broker and a Kubernetes API, on this machine")
        stack.start_base(narrator)
        asyncio.run(interruptible(_tell(stack, incident, narrator, report)))
    finally:
        report.processes.update(stack.started_pids)
        report.stopped = stack.close()
        report.elapsed_seconds = round(narrator.elapsed, 1)


async def _tell(stack: Stack, incident: Incident, narrator: Narrator, report: Report) -> None:
    options = stack.options
    kafka = open_kafka(
        stack.bootstrap,
        settings=ClientSettings(request_timeout=KAFKA_TIMEOUT_SECONDS, client_id="kcr-demo"),
    )
    watch = RequestWatch(stack.kube_url, options.namespace)
    try:
        narrator.chapter("2. The incident")
        stack.launch_operator()
        await build_incident(incident, kafka, stack.children, stack.bootstrap, narrator)
        narrator.chapter("3. kcr: the operator and the MCP server")
        stack.launch_mcp()
        stack.await_services(narrator)
        await _let_samples_accumulate(stack, narrator)
        async with connect(
            stack.mcp_url, stack.assistant_token, options.assistant, narrator
        ) as bot:
            cast = Cast(
                narrator=narrator,
                assistant=bot,
                reviewer=REVIEWER,
                reviewer_kubeconfig=stack.kubeconfigs[REVIEWER],
                namespace=options.namespace,
                kafka=kafka,
                watch=watch,
                incident=incident,
                children=stack.children,
                bootstrap=stack.bootstrap,
                gate=progress_gate(incident),
            )
            await _stories(cast, report)
        narrator.chapter(f"7. The review table, as {REVIEWER} sees it")
        table = await review_table(cast.reviewer_kubeconfig, REVIEWER, cast.namespace, narrator)
        narrator.verbatim(table)
    finally:
        await watch.aclose()
        await kafka.close()


async def _let_samples_accumulate(stack: Stack, narrator: Narrator) -> None:
    """The retention risk is lag ÷ production rate: the server needs a few samples of it."""
    seconds = stack.options.sample_interval * SAMPLES_BEFORE_DIAGNOSIS
    label = "the MCP server samples consumer groups to measure production rates"
    with narrator.waiting(label, seconds + 1, total=seconds) as wait:
        while wait.elapsed < seconds:
            wait.show(completed=wait.elapsed)
            stack.check_running()
            await asyncio.sleep(0.1)


async def _stories(cast: Cast, report: Report) -> None:
    narrator = cast.narrator
    narrator.chapter(f"4. The assistant investigates (MCP, as {cast.assistant.principal!r})")
    await investigate(cast)
    narrator.chapter("5. Story one: keep the unread orders, through the evening peak")
    report.outcomes.append(await story_retention(cast))
    narrator.chapter("6. Story two: a change that stops a consumer (→ automatic rollback)")
    report.outcomes.append(await story_dead_letter(cast))
