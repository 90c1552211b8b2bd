"""``kcr demo`` and ``kcr dev`` as a person runs them: real processes, checked by their output,
their JSON report, the broker's own config and the process table.

Each run is a subprocess in a session of its own, bounded in time and stopped by pid.
"""

import asyncio
import contextlib
import getpass
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("tansu_path")]

BIN = Path(sys.executable).parent
KCR = str(BIN / "kcr")
PLUGIN = str(BIN / "kubectl-kcr")
DEMO_TIMEOUT = 240.0
START_TIMEOUT = 90.0
STOP_TIMEOUT = 60.0
PID = re.compile(r"\bpid (\d+)")


def command_line(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None


def children_of(parent: int) -> dict[int, str]:
    """The processes whose parent is ``parent`` right now, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            command = command_line(int(entry.name))
            if command:
                found[int(entry.name)] = command
    return found


@dataclass
class Run:
    """A ``kcr`` process, and every child of it seen while the test watched it."""

    process: subprocess.Popen[bytes]
    output: Path
    seen: dict[int, str] = field(default_factory=dict)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def look(self) -> None:
        self.seen |= children_of(self.process.pid)

    def wait_for(self, needle: str, timeout: float = START_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.look()
            text = self.text()
            if needle in text:
                return text
            if self.process.poll() is not None:
                pytest.fail(f"exited {self.process.returncode} before {needle!r}:\n{text[-4000:]}")
            time.sleep(0.2)
        pytest.fail(f"{needle!r} not printed within {timeout}s:\n{self.text()[-4000:]}")

    def finish(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                pytest.fail(f"still running after {timeout}s:\n{self.text()[-4000:]}")
            self.look()
            time.sleep(0.2)
        return self.process.returncode

    def left_behind(self) -> dict[int, str]:
        """Children seen during the run that still run the same command after it ended."""
        return {pid: cmd for pid, cmd in self.seen.items() if command_line(pid) == cmd}


@contextlib.contextmanager
def running(tmp_path: Path, *arguments: str) -> Iterator[Run]:
    """``kcr ARGUMENTS`` with its output in a file; killed by pid if the test ends first."""
    output = tmp_path / "output.txt"
    env = {**os.environ, "COLUMNS": "200"}
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [KCR, *arguments],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        yield Run(process, output)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT)


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs part of a stack (a reused pid runs something else)."""
    command = command_line(pid) or ""
    return any(word in command for word in ("kcr", "tansu"))


def report_of(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(path.read_text())
    return report


def test_demo_tells_both_stories_and_leaves_nothing_behind(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    with running(tmp_path, "demo", f"--report={report_path}") as run:
        code = run.finish(DEMO_TIMEOUT)
    text = run.text()
    assert run.left_behind() == {}
    assert code == 0, text[-4000:]
    report = report_of(report_path)
    first, second = report["outcomes"]

    assert (first["phase"], first["subject"]) == ("Succeeded", "retention.ms")
    assert (first["before"], first["on_broker"]) == ("600000", first["requested"])
    assert (second["phase"], second["subject"]) == ("RolledBack", "topic shop.orders.dlq")
    assert (second["before"], second["requested"], second["on_broker"]) == (
        "absent",
        "created",
        "absent",
    )
    assert "ConsumerProgress: FAILED (shop.invoicing read" in second["gate_result"]
    assert "below 50% of its baseline" in second["gate_result"]
    for outcome in (first, second):
        assert (outcome["requested_by"], outcome["approved_by"]) == ("assistant", "bob")

    assert "LagBeyondRetention" in text
    assert f"approved kcr-demo/{first['name']} as bob" in text
    # Story one bakes through the evening peak: lag grows, invoicing keeps reading, it stays.
    story_one = text.split("5. Story one", 1)[1].split("6. Story two", 1)[0]
    assert "the evening peak begins" in story_one
    assert "shop.fulfilment not judged: it read nothing in the 8s before the change" in story_one
    assert re.search(r"shop\.invoicing read [\d.]+/s over the 15s bake", story_one)
    assert f"{first['name']} Succeeded; the broker now has retention.ms=604800000" in text
    # Story two's change stops invoicing; the rollback removes the topic; invoicing reads again.
    assert "_AUTO_OFFSET_RESET" in text
    assert (
        f"{second['name']} RolledBack by the operator on its own: shop.orders.dlq is gone from "
        "the broker and shop.invoicing reads again"
    ) in text
    table = text.split("$ kubectl kcr list", 1)[1].splitlines()
    rows = {line.split()[0]: line.split()[1] for line in table if "topic/shop.orders" in line}
    assert rows == {first["name"]: "Succeeded", second["name"]: "RolledBack"}
    assert f"kcr demo finished in {report['elapsed_seconds']:.1f}s" in text

    started = report["processes"]
    assert {"kafka-broker", "kcr-operator", "kcr-mcp", "producer-checkout"} <= set(started)
    assert {"consumer-invoicing", "producer-evening-peak"} <= set(started)
    assert {int(p) for p in PID.findall(text)} <= set(started.values())
    assert {"kcr-operator", "kcr-mcp"} <= {name for name, pid in started.items() if pid in run.seen}
    assert sorted(pid for _, pid in report["stopped"]) == sorted(started.values())
    assert [name for name, pid in started.items() if alive(pid)] == []


def test_ctrl_c_stops_every_process(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    with running(tmp_path, "demo", f"--report={report_path}") as run:
        run.wait_for("4. The assistant investigates")
        running_then = dict(run.seen)
        os.kill(run.process.pid, signal.SIGINT)
        code = run.finish(STOP_TIMEOUT)
    report = report_of(report_path)
    started = report["processes"]

    assert code == 130, run.text()[-4000:]
    assert report["error"] == "interrupted"
    assert {"kafka-broker", "kcr-operator", "kcr-mcp", "producer-checkout"} <= set(started)
    assert set(started.values()) - {started["producer-shop.orders-0-burst"]} <= set(running_then)
    assert run.left_behind() == {}
    assert [name for name, pid in started.items() if alive(pid)] == []
    assert "interrupted: everything started was stopped" in run.text()


def field_of(text: str, label: str) -> str:
    found = re.search(rf"^{re.escape(label)}\s+(\S+)", text, re.MULTILINE)
    assert found is not None, f"{label} not printed:\n{text[-3000:]}"
    return found.group(1)


async def draft_through_mcp(url: str, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        lag = await client.call_tool("consumer_lag", {"group": "shop.fulfilment"})
        drafted = await client.call_tool(
            "draft_alter_topic_config",
            {
                "topics": ["shop.orders"],
                "set": {"retention.ms": "86400000"},
                "reason": "keep a day of orders while the consumer is fixed",
            },
        )
    assert not lag.is_error, lag.content
    assert not drafted.is_error, drafted.content
    assert lag.structured_content["totalLag"] >= 5000
    result: dict[str, Any] = drafted.structured_content
    return result


def plugin(kubeconfig: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": kubeconfig, "COLUMNS": "200"}
    return subprocess.run(
        [PLUGIN, *arguments], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def listed_once_reviewed(kubeconfig: str, name: str) -> str:
    """The request's row in ``kubectl kcr list`` once the operator has reviewed it."""
    row = ""
    for _ in range(20):
        listed = plugin(kubeconfig, "list")
        assert listed.returncode == 0, listed.stderr
        row = next((line for line in listed.stdout.splitlines() if name in line), "")
        if "Pending" not in row.split():
            return row
        time.sleep(0.5)
    pytest.fail(f"{name} still Pending in kubectl kcr list: {row}")


def test_dev_serves_mcp_and_kubectl_until_sigterm(tmp_path: Path) -> None:
    workdir = tmp_path / "dev"
    with running(tmp_path, "dev", f"--workdir={workdir}") as run:
        text = run.wait_for("stops everything.")
        url, token = field_of(text, "MCP URL"), field_of(text, "MCP token")
        kubeconfig = field_of(text, "kubeconfig")
        drafted = asyncio.run(draft_through_mcp(url, token))
        listed = listed_once_reviewed(kubeconfig, drafted["name"])
        approved = plugin(kubeconfig, "approve", drafted["name"])
        pids = {int(p) for p in PID.findall(run.text())}
        os.kill(run.process.pid, signal.SIGTERM)
        code = run.finish(STOP_TIMEOUT)
    text = " ".join(run.text().split())

    assert code == 0, text[-4000:]
    assert len(run.seen) >= 4
    assert run.left_behind() == {}
    assert drafted["requestedBy"]["principal"] == "assistant"
    assert listed.split()[1:3] == ["AwaitingApproval", "MEDIUM"]
    assert "assistant" in listed.split()
    assert approved.returncode == 0, approved.stderr
    assert f"as {getpass.getuser()} " in approved.stdout
    stopped = re.search(r"all (\d+) processes started are stopped \(by pid: ([^)]*)\)", text)
    assert stopped is not None, text[-3000:]
    listed_pids = {int(pid) for _, pid in re.findall(r"([\w.-]+) (\d+)", stopped.group(2))}
    assert len(listed_pids) == int(stopped.group(1))
    assert pids <= listed_pids
    assert [pid for pid in listed_pids if alive(pid)] == []
    assert (workdir / "mcp-audit.jsonl").exists()
