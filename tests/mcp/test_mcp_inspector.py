"""An MCP client kcr did not write: the MCP Inspector's CLI, over streamable HTTP with a
bearer token, against the project's HTTP server (the access file, drafts into the emulator)
and against ``kcr dev`` as a newcomer starts it.

The Inspector is pinned in tests/inspector/package-lock.json and installed by
``make inspector`` (``npm ci``), which ``make test`` runs first. Without it the test skips,
saying why; with ``KCR_REQUIRE_INSPECTOR=1`` (CI) it fails instead.
"""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from mcp_servers import TOKENS, Emulated, HttpServer
from mcp_support import NAMESPACE, Incident
from oidc_issuer import Issuer
from tests.conftest import missing_tool
from tests.demo.test_demo import STOP_TIMEOUT, field_of, running

from kcr.mcp.kube_client import open_kube

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]

INSPECTOR_DIR = Path(__file__).resolve().parents[1] / "inspector"
INSPECTOR = INSPECTOR_DIR / "node_modules" / ".bin" / "mcp-inspector"
REQUIRE = "KCR_REQUIRE_INSPECTOR"
RUN_SECONDS = 120


@pytest.fixture(scope="module")
def inspector() -> Path:
    missing = None
    if shutil.which("node") is None:
        missing = "node is not on PATH"
    elif not INSPECTOR.exists():
        missing = f"{INSPECTOR} is not installed: run make inspector (npm ci)"
    if missing is not None:
        missing_tool(f"no MCP Inspector: {missing}", REQUIRE)
    return INSPECTOR


def inspect(
    inspector: Path, server: HttpServer | str, token: str | None, *arguments: str
) -> subprocess.CompletedProcess[str]:
    """The Inspector's CLI against a server (or its URL), as a user would run it."""
    url = server if isinstance(server, str) else server.url
    headers = ["--header", f"Authorization: Bearer {token}"] if token else []
    return subprocess.run(
        [str(inspector), "--cli", url, "--transport", "http", *headers, *arguments],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
        cwd=INSPECTOR_DIR,
    )


def answer(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    return json.loads(done.stdout)


def structured(result: dict[str, Any]) -> dict[str, Any]:
    assert not result.get("isError"), result
    content: dict[str, Any] = result["structuredContent"]
    return content


async def test_the_inspector_lists_reads_and_drafts_with_a_bearer_token(
    inspector: Path, http_server: HttpServer, incident: Incident, emulator: Emulated
) -> None:
    token = TOKENS["alice"]
    listed = answer(inspect(inspector, http_server, token, "--method", "tools/list"))
    names = {tool["name"] for tool in listed["tools"]}
    assert {"consumer_lag", "explain_current_state", "draft_create_topic"} <= names
    assert not any("execute" in name for name in names)
    lag = structured(
        answer(
            inspect(
                inspector,
                http_server,
                token,
                *("--method", "tools/call", "--tool-name", "consumer_lag"),
                *("--tool-arg", f"group={incident.orders_group}"),
            )
        )
    )
    partitions = lag["groups"][0]["topics"][0]["partitions"]
    assert {p["partition"]: p["lag"] for p in partitions} == incident.orders_log_end
    topic = incident.orders.rsplit(".", 1)[0] + ".inspected"
    draft = structured(
        answer(
            inspect(
                inspector,
                http_server,
                token,
                *("--method", "tools/call", "--tool-name", "draft_create_topic"),
                *("--tool-arg", f"topic={topic}", "partitions=3", "replication_factor=1"),
                *("--tool-arg", "reason=an inspected stream of its own"),
            )
        )
    )
    kube = open_kube(str(emulator.kubeconfig), namespace=NAMESPACE)
    try:
        stored = await kube.get_change_request(draft["name"])
    finally:
        await kube.close()
    assert stored is not None
    assert stored["spec"]["change"]["createTopic"]["topic"] == topic
    assert stored["spec"]["requestedBy"]["principal"] == "oidc:alice"


async def test_the_inspector_without_a_token_is_refused(
    inspector: Path, http_server: HttpServer
) -> None:
    """Without a token the server answers 401, and the Inspector asks for authorization."""
    done = inspect(inspector, http_server, None, "--method", "tools/list")
    assert done.returncode != 0
    assert json.loads(done.stderr)["error"]["code"] == "auth_required"


async def test_the_inspector_reads_with_a_jwt_access_token(
    inspector: Path, oidc_server: HttpServer, issuer: Issuer, incident: Incident
) -> None:
    token = issuer.token("alice", scope="kcr:read")
    listed = answer(inspect(inspector, oidc_server, token, "--method", "tools/list"))
    names = {tool["name"] for tool in listed["tools"]}
    assert "describe_topic" in names
    assert not any(name.startswith("draft_") for name in names)
    topic = structured(
        answer(
            inspect(
                inspector,
                oidc_server,
                token,
                *("--method", "tools/call", "--tool-name", "describe_topic"),
                *("--tool-arg", f"topic={incident.orders}"),
            )
        )
    )
    assert topic["name"] == incident.orders


async def test_the_inspector_drives_kcr_dev(inspector: Path, tmp_path: Path) -> None:
    """``kcr dev`` as a newcomer starts it: the Inspector lists, reads and drafts with the
    URL and token it prints, and the draft waits for approval in the emulator."""
    with running(tmp_path, "dev", f"--workdir={tmp_path / 'dev'}") as run:
        text = run.wait_for("stops everything.")
        url, token = field_of(text, "MCP URL"), field_of(text, "MCP token")
        listed = answer(inspect(inspector, url, token, "--method", "tools/list"))
        lag = structured(
            answer(
                inspect(
                    inspector,
                    url,
                    token,
                    *("--method", "tools/call", "--tool-name", "consumer_lag"),
                    *("--tool-arg", "group=shop.fulfilment"),
                )
            )
        )
        draft = structured(
            answer(
                inspect(
                    inspector,
                    url,
                    token,
                    *("--method", "tools/call", "--tool-name", "draft_create_topic"),
                    *("--tool-arg", "topic=shop.inspected", "partitions=3"),
                    *("--tool-arg", "replication_factor=1", "reason=a stream of its own"),
                )
            )
        )
        run.process.terminate()
        code = run.finish(STOP_TIMEOUT)

    assert {"consumer_lag", "draft_create_topic"} <= {tool["name"] for tool in listed["tools"]}
    assert lag["totalLag"] >= 5000
    assert draft["name"]
    assert draft["requestedBy"]["principal"] == "assistant"
    assert code == 0, run.text()[-2000:]
