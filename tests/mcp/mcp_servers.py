"""What the MCP tests share about the servers they start: the command, tokens, handles.

Test modules import these from here, never from ``conftest``: another suite's conftest
module of the same name would shadow it when suites run in one pytest call.
"""

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kcr.embedded.kube_emulator import EmbeddedKube

KCR = [str(Path(sys.executable).with_name("kcr"))]

TOKENS = {
    "alice": "alice-drafts-team-a-0123456789",
    "victor": "victor-views-everything-0123456789",
    "burst": "burst-calls-too-often-0123456789",
}
REVIEWED_USER = "system:serviceaccount:assistants:kafka-assistant"
REVIEWED_TOKEN = "token-the-api-server-knows-0123"
# Valid tokens that must not open the server: issued for the API server itself, and one
# from an authenticator that ignores audiences (it names none back).
API_SERVER_TOKEN = "token-for-the-api-server-0123"
UNAWARE_TOKEN = "token-from-an-unaware-authn-0123"


@dataclass
class Emulated:
    kube: EmbeddedKube
    kubeconfig: Path


@dataclass
class HttpServer:
    url: str
    audit_log: Path
    metrics_port: int
    process: subprocess.Popen[bytes]
    log: Path
