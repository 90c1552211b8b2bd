"""``kcr dev``: the demo's stack, kept running for a person to explore until Ctrl-C.

It prints what an MCP client and ``kubectl`` need (URL, bearer token, kubeconfig) and
then only watches its children: if one dies, it says which and stops the rest.
"""

import asyncio
import getpass
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from kcr.embedded.demo import EXPECTED_FAILURES, print_stopped, progress_gate
from kcr.embedded.incident import Incident, build_incident
from kcr.embedded.narration import Narrator
from kcr.embedded.signals import interrupt_on_stop_signals, interruptible
from kcr.embedded.stack import Stack, StackOptions
from kcr.kafka import ClientSettings, open_kafka

LIVENESS_POLL_SECONDS = 1.0


def main(workdir: Path | None, incident: bool) -> int:
    """Run until Ctrl-C or SIGTERM (exit 0), or until a child dies (exit 1)."""
    narrator = Narrator()
    person = getpass.getuser()
    story = Incident()
    options = StackOptions(
        reviewers=(person,),
        ownership=(story.owner,),
        progress_gate=progress_gate(story),
        workdir=workdir,
    )
    stack = Stack.prepare(options)
    code = 0
    try:
        with interrupt_on_stop_signals():
            narrator.title("kcr dev: the embedded stack, until Ctrl-C")
            stack.start_base(narrator)
            stack.launch_operator()
            if incident:
                asyncio.run(interruptible(_build(stack, story, narrator)))
            stack.launch_mcp()
            stack.await_services(narrator)
            print_access(narrator.console, stack, person)
            while True:
                time.sleep(LIVENESS_POLL_SECONDS)
                stack.check_running()
    except KeyboardInterrupt:
        narrator.warn("stopping")
    except EXPECTED_FAILURES as error:
        narrator.failed(str(error))
        code = 1
    finally:
        print_stopped(narrator, stack.close())
    return code


async def _build(stack: Stack, incident: Incident, narrator: Narrator) -> None:
    kafka = open_kafka(stack.bootstrap, settings=ClientSettings(client_id="kcr-dev"))
    try:
        await build_incident(incident, kafka, stack.children, stack.bootstrap, narrator)
    finally:
        await kafka.close()


def print_access(console: Console, stack: Stack, person: str) -> None:
    kubeconfig = stack.kubeconfigs[person]
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("MCP URL", stack.mcp_url)
    table.add_row("MCP token", f"{stack.assistant_token}  (header Authorization: Bearer <token>)")
    table.add_row("MCP principal", f"{stack.options.assistant} (viewer, drafter)")
    table.add_row("kubeconfig", f"{kubeconfig}  (kubectl kcr knows you as {person!r})")
    table.add_row("Kafka", stack.bootstrap)
    table.add_row("namespace", stack.options.namespace)
    table.add_row("operator metrics", f"http://127.0.0.1:{stack.operator_metrics_port}/metrics")
    table.add_row("MCP metrics", f"http://127.0.0.1:{stack.mcp_metrics_port}/metrics")
    table.add_row("MCP audit log", str(stack.audit_log))
    table.add_row("logs", str(stack.children.log_dir))
    console.print()
    console.print(table)
    console.print()
    console.print(f"  export KUBECONFIG={kubeconfig}")
    console.print("  kubectl kcr list          # the review table")
    console.print("  kubectl get kcr           # the resources, with their printer columns")
    console.print("  kubectl kcr approve NAME  # approve a draft as yourself")
    console.print()
    console.print("[bold]Ctrl-C[/] stops everything.")
