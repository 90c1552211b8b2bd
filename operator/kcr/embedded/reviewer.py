"""People at ``kubectl kcr``: the plugin run as its own process with a person's kubeconfig.

The approval goes through the same code a reviewer runs (``kubectl kcr approve`` asks the
API server who they are, refuses the requester, binds the approval to the spec hash), and
the review table is the plugin's own ``list`` view.
"""

import asyncio
import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from kcr.embedded.narration import Narrator
from kcr.embedded.processes import console_script

PLUGIN = "kubectl-kcr"
RUN_TIMEOUT_SECONDS = 30.0
TABLE_COLUMNS = 200
"""Wide enough for the list view's rows whole; the terminal wraps what it must."""


class PluginError(RuntimeError):
    """``kubectl kcr`` refused or failed; the message is what it printed."""


@dataclass(frozen=True)
class PluginRun:
    code: int
    output: str


async def run_plugin(
    kubeconfig: Path, arguments: list[str], narrator: Narrator, label: str
) -> PluginRun:
    """Run ``kubectl-kcr`` with ``kubeconfig``; killed by pid if it outlives the timeout."""
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "COLUMNS": str(TABLE_COLUMNS)}
    process = await asyncio.create_subprocess_exec(
        console_script(PLUGIN),
        *arguments,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    try:
        with narrator.waiting(label, RUN_TIMEOUT_SECONDS) as wait:
            wait.show(f"pid {process.pid}")
            output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT_SECONDS)
    except TimeoutError:
        raise PluginError(
            f"kubectl kcr {' '.join(arguments)} did not finish within {RUN_TIMEOUT_SECONDS:.0f}s"
        ) from None
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    if process.returncode is None:
        raise PluginError(f"kubectl kcr {' '.join(arguments)} left no exit code")
    return PluginRun(code=process.returncode, output=output.decode(errors="replace"))


async def approve(
    kubeconfig: Path, person: str, name: str, namespace: str, narrator: Narrator
) -> str:
    arguments = ["approve", name, "-n", namespace]
    narrator.person(person, f"$ kubectl kcr {' '.join(arguments)}")
    run = await run_plugin(kubeconfig, arguments, narrator, f"{person} approves {name}")
    if run.code != 0:
        raise PluginError(f"kubectl kcr approve as {person} failed: {run.output.strip()}")
    return run.output.strip()


async def review_table(kubeconfig: Path, person: str, namespace: str, narrator: Narrator) -> str:
    arguments = ["list", "-n", namespace]
    narrator.person(person, f"$ kubectl kcr {' '.join(arguments)}")
    run = await run_plugin(kubeconfig, arguments, narrator, "kubectl kcr list")
    if run.code != 0:
        raise PluginError(f"kubectl kcr list failed: {run.output.strip()}")
    return run.output.rstrip()
