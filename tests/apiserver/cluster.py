"""The installed cluster: kcr's CRDs and manifests on the real API server, and its people.

People are static-token users with groups, as an OIDC provider would name them: alice
requests (and is in the approvers group too, so only the requester rule can stop her
approving her own change), bob and carol approve, dave holds the approver role through a
binding of his own but is outside the approvers group. The MCP server and the operator are
the real ServiceAccounts from manifests/rbac, with tokens from the TokenRequest API.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kcr.kinds.create_topic import CreateTopic
from kcr.model import Change, KafkaChangeRequestSpec, RequestedBy

from .kube import Kube, documents, wait_until
from .server import ApiServer, Person

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "team-a"
SYSTEM_NAMESPACE = "kcr-system"
APPROVERS_GROUP = "kcr-approvers"
MCP_AUDIENCE = "kcr-mcp"
POLICY = "ValidatingAdmissionPolicy 'kcr-approvals'"

ADMIN = Person("kcr-admin", ("system:masters",))
ALICE = Person("alice", (APPROVERS_GROUP,))
BOB = Person("bob", (APPROVERS_GROUP,))
CAROL = Person("carol", (APPROVERS_GROUP,))
DAVE = Person("dave", ("developers",))
PEOPLE = [ALICE, BOB, CAROL, DAVE]
MCP_ACCOUNT = (SYSTEM_NAMESPACE, "kcr-mcp")
OPERATOR_ACCOUNT = (SYSTEM_NAMESPACE, "kcr-operator")


def account_user(account: tuple[str, str]) -> str:
    return f"system:serviceaccount:{account[0]}:{account[1]}"


def kcr_manifests() -> list[dict[str, Any]]:
    """Namespace, CRDs, admission policy and RBAC, in an order the API server accepts."""
    manifests = ROOT / "manifests"
    return documents(
        [
            manifests / "namespace.yaml",
            *sorted((ROOT / "crds").glob("*.yaml")),
            *sorted((manifests / "rbac").glob("*.yaml")),
            manifests / "admission" / "params.yaml",
            manifests / "admission" / "policy.yaml",
            manifests / "admission" / "binding.yaml",
        ]
    )


def site_bindings() -> list[dict[str, Any]]:
    """What a site adds: the team's namespace, alice drafting in it, dave's own binding."""
    rbac = "rbac.authorization.k8s.io"
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "kcr-requesters", "namespace": NAMESPACE},
            "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": "kcr-requester"},
            "subjects": [{"apiGroup": rbac, "kind": "User", "name": ALICE.name}],
        },
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "kcr-approver-dave"},
            "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": "kcr-approver"},
            "subjects": [{"apiGroup": rbac, "kind": "User", "name": DAVE.name}],
        },
    ]


def change_request(
    name: str,
    principal: str,
    *,
    channel: str = "kubectl",
    namespace: str = NAMESPACE,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    spec = KafkaChangeRequestSpec(
        cluster="prod",
        change=Change.of(CreateTopic(topic=f"orders.{name}", partitions=3, replication_factor=1)),
        requested_by=RequestedBy(principal=principal, channel=channel, correlation_id=name),
        reason="a topic for the new orders service",
    )
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "kcr.dev/v1alpha1",
        "kind": "KafkaChangeRequest",
        "metadata": metadata,
        "spec": spec.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


@dataclass
class Cluster:
    server: ApiServer
    sessions: dict[tuple[str, ...], Kube] = field(default_factory=dict, repr=False)
    tokens: dict[tuple[str, str, str | None], str] = field(default_factory=dict, repr=False)

    def _session(self, token: str, headers: list[tuple[str, str]]) -> Kube:
        key = (token, *(f"{name}={value}" for name, value in headers))
        if key not in self.sessions:
            self.sessions[key] = Kube(self.server.client(token, headers))
        return self.sessions[key]

    def as_token(self, token: str) -> Kube:
        return self._session(token, [])

    def impersonating(self, user: str, groups: list[str]) -> Kube:
        """The administrator acting as ``user`` in ``groups``, as ``kubectl --as`` does."""
        headers = [("Impersonate-User", user), *(("Impersonate-Group", g) for g in groups)]
        return self._session(ADMIN.token, headers)

    def as_person(self, person: Person) -> Kube:
        return self.as_token(person.token)

    @property
    def admin(self) -> Kube:
        return self.as_person(ADMIN)

    def account_token(self, account: tuple[str, str], audience: str | None = None) -> str:
        """A ServiceAccount token from the TokenRequest API (``None``: the API server's)."""
        key = (*account, audience)
        if key not in self.tokens:
            self.tokens[key] = self.admin.service_account_token(*account, audience)
        return self.tokens[key]

    def as_account(self, account: tuple[str, str]) -> Kube:
        return self.as_token(self.account_token(account))

    def kubeconfig(self, name: str, token: str, namespace: str = NAMESPACE) -> Path:
        """A kubeconfig for ``token``, as a person's own would be."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "kcr-test",
                    "cluster": {
                        "server": self.server.url,
                        "certificate-authority": str(self.server.ca_file),
                    },
                }
            ],
            "users": [{"name": name, "user": {"token": token}}],
            "contexts": [
                {
                    "name": name,
                    "context": {"cluster": "kcr-test", "user": name, "namespace": namespace},
                }
            ],
            "current-context": name,
        }
        path = self.server.directory / f"{name}.kubeconfig"
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        return path

    def close(self) -> None:
        for session in self.sessions.values():
            session.http.close()
        self.sessions.clear()


def install(cluster: Cluster) -> None:
    """kcr's manifests and the site's bindings, then wait until the API server enforces them."""
    admin = cluster.admin
    admin.apply_all(kcr_manifests())
    admin.apply_all(site_bindings())
    alice = cluster.as_person(ALICE)
    carrying = change_request(
        "readiness-probe", ALICE.name, annotations={"kcr.dev/approved-by": BOB.name}
    )

    def policy_enforced() -> str | None:
        answer = alice.create(carrying, dry_run=True)
        return None if POLICY in answer.text else f"{answer.status_code}: {answer.text[:300]}"

    wait_until(policy_enforced, "the kcr-approvals policy refusing a draft with approvals")
    for user, verb, namespace in [
        (DAVE.name, "patch", NAMESPACE),
        (account_user(MCP_ACCOUNT), "create", SYSTEM_NAMESPACE),
        (account_user(OPERATOR_ACCOUNT), "list", NAMESPACE),
    ]:
        wait_until(
            lambda u=user, v=verb, n=namespace: (
                None if admin.can(u, v, "kafkachangerequests", n) else "not allowed yet"
            ),
            f"RBAC letting {user} {verb} requests in {namespace}",
        )
