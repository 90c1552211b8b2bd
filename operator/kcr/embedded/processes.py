"""The child processes of the embedded stack, each known by its process id.

Every child starts in a session of its own, so a Ctrl-C at the terminal reaches only
``kcr demo`` / ``kcr dev``, which then stops its children in order, newest first: SIGTERM,
a grace period, SIGKILL, and always a wait so no zombie is left.
"""

import contextlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

LOG_TAIL_BYTES = 3000
DEFAULT_GRACE_SECONDS = 10.0


class ProcessError(RuntimeError):
    """A child could not start, or exited before it was ready; the message has its log."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes] = field(repr=False)
    log_path: Path
    grace: float = DEFAULT_GRACE_SECONDS

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self) -> str:
        try:
            data = self.log_path.read_bytes()[-LOG_TAIL_BYTES:]
        except OSError:
            return ""
        return data.decode(errors="replace").strip()

    def exited(self) -> ProcessError:
        return ProcessError(
            f"{self.name} (pid {self.pid}) exited with code {self.process.returncode}; "
            f"its log {self.log_path} ends with:\n{self.log_tail() or '(nothing)'}"
        )


def stop_child(child: Child) -> None:
    """SIGTERM by pid, SIGKILL after the child's grace period; always reaps it."""
    if child.process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(child.pid, signal.SIGTERM)
    try:
        child.process.wait(timeout=child.grace)
    except subprocess.TimeoutExpired:
        log.warning(
            "%s (pid %d) ignored SIGTERM for %.0fs; killing it", child.name, child.pid, child.grace
        )
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGKILL)
        child.process.wait(timeout=DEFAULT_GRACE_SECONDS)


@dataclass
class Children:
    """The processes one run started; ``stop_all`` ends them newest first."""

    log_dir: Path
    started: list[Child] = field(default_factory=list)
    """Running (or not yet stopped) children, oldest first."""
    launched: list[Child] = field(default_factory=list)
    """Every child ever launched, stopped or not: the record of what ran."""

    def launch(
        self,
        name: str,
        argv: Sequence[str],
        *,
        grace: float = DEFAULT_GRACE_SECONDS,
    ) -> Child:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as output:
            try:
                process = subprocess.Popen(
                    list(argv),
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as error:
                raise ProcessError(f"cannot start {name} ({argv[0]}): {error}") from error
        child = Child(name=name, process=process, log_path=log_path, grace=grace)
        self.started.append(child)
        self.launched.append(child)
        log.info("started %s (pid %d): %s", name, child.pid, " ".join(argv))
        return child

    def stop(self, child: Child) -> None:
        stop_child(child)
        if child in self.started:
            self.started.remove(child)

    def stop_all(self) -> list[Child]:
        """Stop every child still known, newest first; returns them, all reaped."""
        stopped = list(reversed(self.started))
        for child in stopped:
            stop_child(child)
        self.started.clear()
        return stopped


def kcr_command(*arguments: str) -> list[str]:
    """``kcr ...`` of the installation running now, so the children run the same kcr."""
    beside = Path(sys.executable).with_name("kcr")
    if beside.exists():
        return [str(beside), *arguments]
    return [sys.executable, "-c", "from kcr.cli.main import cli; cli()", *arguments]


def console_script(name: str) -> str:
    """A console script installed next to this interpreter (``kubectl-kcr``)."""
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return str(beside)
    raise ProcessError(f"{name} is not installed next to {sys.executable}")
