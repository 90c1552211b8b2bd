"""The end-to-end suite's view of the cluster: people, kubectl as them, Kafka from the host.

People are ServiceAccounts (tests/e2e/overlay/identities.yaml) so that the API server
itself authenticates them: alice requests, bob and carol approve, dave holds the approver
role but is outside the approvers group.
"""

import asyncio
import json
import subprocess
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from click.testing import CliRunner, Result

from kcr.kafka.connect import open_kafka
from kcr.kafka.port import KafkaPort
from kcr.kubectl.main import cli as kubectl_kcr_cli

NAMESPACE = "kcr-e2e"
CLUSTER = "e2e"
POLL_SECONDS = 2.0
PHASE_TIMEOUT_SECONDS = 300.0

T = TypeVar("T")


@dataclass(frozen=True)
class Person:
    namespace: str
    account: str

    @property
    def username(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.account}"


ALICE = Person(NAMESPACE, "alice")
DAVE = Person(NAMESPACE, "dave")
BOB = Person("kcr-e2e-approvers", "bob")
CAROL = Person("kcr-e2e-approvers", "carol")
MCP = Person("kcr-system", "kcr-mcp")
OPERATOR = Person("kcr-system", "kcr-operator")


@dataclass
class Cluster:
    """kubectl as the administrator or as one of the people, with their own token."""

    admin_kubeconfig: str
    directory: Path
    kubeconfigs: dict[Person, Path] = field(default_factory=dict)

    def kubectl(
        self, *args: str, person: Person | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        config = self.admin_kubeconfig if person is None else str(self.kubeconfig(person))
        return subprocess.run(
            ["kubectl", "--kubeconfig", config, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def kubeconfig(self, person: Person) -> Path:
        if person not in self.kubeconfigs:
            self.kubeconfigs[person] = self._write_kubeconfig(person)
        return self.kubeconfigs[person]

    def _write_kubeconfig(self, person: Person) -> Path:
        token = self.kubectl(
            "create", "token", person.account, "-n", person.namespace, "--duration=2h"
        )
        assert token.returncode == 0, token.stderr
        view = self.kubectl("config", "view", "--raw", "--minify", "-o", "json")
        cluster = json.loads(view.stdout)["clusters"][0]
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [cluster],
            "users": [{"name": person.account, "user": {"token": token.stdout.strip()}}],
            "contexts": [
                {
                    "name": person.account,
                    "context": {
                        "cluster": cluster["name"],
                        "user": person.account,
                        "namespace": NAMESPACE,
                    },
                }
            ],
            "current-context": person.account,
        }
        path = self.directory / f"{person.namespace}-{person.account}.kubeconfig"
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        return path

    def create(self, document: dict[str, Any], person: Person) -> subprocess.CompletedProcess[str]:
        return self.kubectl("create", "-f", "-", person=person, stdin=json.dumps(document))

    def request(self, name: str) -> dict[str, Any]:
        got = self.kubectl("get", "kafkachangerequest", name, "-n", NAMESPACE, "-o", "json")
        assert got.returncode == 0, got.stderr
        document: dict[str, Any] = json.loads(got.stdout)
        return document

    def wait_phase(
        self, name: str, *phases: str, timeout: float = PHASE_TIMEOUT_SECONDS
    ) -> dict[str, Any]:
        """Poll until the request reaches one of ``phases``; bounded in time."""
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            status = self.request(name).get("status") or {}
            if status.get("phase") in phases:
                return status
            time.sleep(POLL_SECONDS)
        raise AssertionError(
            f"{name} did not reach {' or '.join(phases)} in {timeout:.0f}s; last status: "
            f"{json.dumps(status)[:2000]}"
        )

    def can(
        self,
        person: Person,
        verb: str,
        resource: str,
        namespace: str = NAMESPACE,
        subresource: str = "",
    ) -> bool:
        """``kubectl auth can-i``; a subresource needs its own flag (``resource/x`` would
        ask about an object named x)."""
        extra = [f"--subresource={subresource}"] if subresource else []
        answer = self.kubectl(
            "auth", "can-i", verb, resource, *extra, "-n", namespace, "--as", person.username
        )
        return answer.stdout.strip() == "yes"

    def kubectl_kcr(self, person: Person, *args: str) -> Result:
        """The kubectl plugin, as ``person`` (in process, over the real API)."""
        config = str(self.kubeconfig(person))
        return CliRunner().invoke(kubectl_kcr_cli, ["--kubeconfig", config, "-n", NAMESPACE, *args])

    def delete(self, name: str) -> None:
        self.kubectl(
            "delete",
            "kafkachangerequest",
            name,
            "-n",
            NAMESPACE,
            "--ignore-not-found",
            "--wait=false",
        )


@dataclass
class Kafka:
    """The Strimzi cluster as the tests see it from the host, through kcr's Kafka port."""

    bootstrap: str

    def run(self, call: "Coroutine[Any, Any, T]") -> T:
        return asyncio.run(call)

    def port(self) -> KafkaPort:
        return open_kafka(self.bootstrap)
