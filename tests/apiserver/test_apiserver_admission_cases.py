"""Every case of the unit suite's admission table, judged by the real API server.

tests/unit/test_admission.py evaluates these requests with cel-python and a re-implementation
of cel-go's string functions; here the API server runs the installed kcr-approvals policy on
the same users, groups and annotations, so the stand-in cannot drift from Kubernetes.

The administrator impersonates each case's user and groups, as ``kubectl --as --as-group``
does; in this namespace every authenticated user may create and annotate requests, so the
policy alone decides. An update case's earlier annotations are put in place first the only
way the policy allows: each approver (or rejecter) adds their own name, then an approver who
is not the requester sets the rest.
"""

from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from tests.unit.test_admission import ALLOWED, DENIED, GITOPS, MCP, Admission

from .cluster import APPROVERS_GROUP, POLICY, Cluster, change_request
from .kube import MERGE_PATCH, Kube, refusal, wait_until

NAMESPACE = "kafka-ops"
OTHER_NAMESPACE = "team-b"
"""A namespace the admission parameters do not list for the GitOps applier."""
SETUP_APPROVER = "kcr-case-setup"
APPROVED_BY = "kcr.dev/approved-by"
APPROVED_SPEC_HASH = "kcr.dev/approved-spec-hash"
NAMED = (APPROVED_BY, "kcr.dev/rejected-by")
ROLLBACK = "kcr.dev/rollback"
ROLLBACK_ASKER = "kcr.dev/rollback-requested-by"
ROLLBACK_APPROVED_BY = "kcr.dev/rollback-approved-by"
ROLLBACK_APPROVED_HASH = "kcr.dev/rollback-approved-hash"


@pytest.fixture(scope="module")
def open_namespace(cluster: Cluster) -> None:
    """kafka-ops, where every authenticated user may draft and annotate requests."""
    rbac = "rbac.authorization.k8s.io"
    cluster.admin.apply_all(
        [
            *(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
                for namespace in (NAMESPACE, OTHER_NAMESPACE)
            ),
            *(
                {
                    "apiVersion": f"{rbac}/v1",
                    "kind": "RoleBinding",
                    "metadata": {"name": role, "namespace": namespace},
                    "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": role},
                    "subjects": [
                        {"apiGroup": rbac, "kind": "Group", "name": "system:authenticated"}
                    ],
                }
                for role in ("kcr-requester", "kcr-approver")
                for namespace in (NAMESPACE, OTHER_NAMESPACE)
            ),
        ]
    )
    someone = cluster.impersonating("erin", [])
    draft = change_request("rbac-probe", "erin", namespace=NAMESPACE)

    def allowed() -> str | None:
        answer = someone.create(draft, dry_run=True)
        return None if answer.status_code == 201 else answer.text[:300]

    wait_until(allowed, f"RBAC letting every authenticated user draft in {NAMESPACE}")


def creator(admission: Admission) -> str:
    """Who may create the request the case starts from."""
    if admission.channel == "mcp":
        return MCP
    if admission.channel == "gitops":
        return GITOPS
    return admission.principal.removeprefix("User:")


def document(name: str, admission: Admission, annotations: dict[str, str]) -> dict[str, Any]:
    return change_request(
        name,
        admission.principal,
        channel=admission.channel,
        namespace=admission.namespace or NAMESPACE,
        annotations=annotations,
    )


def patch(session: Kube, name: str, annotations: Mapping[str, str | None]) -> httpx.Response:
    return session.http.patch(
        session.request_path(NAMESPACE, name),
        json={"metadata": {"annotations": annotations}},
        headers=MERGE_PATCH,
    )


def prepare(cluster: Cluster, name: str, admission: Admission) -> None:
    """The stored request an update case starts from, with its earlier annotations."""
    created = cluster.impersonating(creator(admission), []).create(document(name, admission, {}))
    assert created.status_code == 201, created.text[:500]
    old = dict(admission.old_annotations or {})
    spec_hash = old.pop(APPROVED_SPEC_HASH, None)
    for key in NAMED:
        value = old.pop(key, "")
        names = [n.strip() for n in value.split(",") if n.strip()]
        for count, person in enumerate(names, start=1):
            step = {key: value if count == len(names) else ",".join(names[:count])}
            if key == APPROVED_BY and spec_hash is not None:
                step[APPROVED_SPEC_HASH] = spec_hash
            answer = patch(cluster.impersonating(person, [APPROVERS_GROUP]), name, step)
            assert answer.status_code == 200, answer.text[:500]
    _prepare_rollback(cluster, name, old)
    if old:
        answer = patch(cluster.impersonating(SETUP_APPROVER, [APPROVERS_GROUP]), name, old)
        assert answer.status_code == 200, answer.text[:500]


def _prepare_rollback(cluster: Cluster, name: str, old: dict[str, str]) -> None:
    """A rollback asked for by its asker, then approved by each approver in turn."""
    asker = old.pop(ROLLBACK_ASKER, None)
    if asker is None:
        return
    asked = {ROLLBACK_ASKER: asker} | ({ROLLBACK: old.pop(ROLLBACK)} if ROLLBACK in old else {})
    answer = patch(cluster.impersonating(asker, [APPROVERS_GROUP]), name, asked)
    assert answer.status_code == 200, answer.text[:500]
    approvers = [n.strip() for n in old.pop(ROLLBACK_APPROVED_BY, "").split(",") if n.strip()]
    rollback_hash = old.pop(ROLLBACK_APPROVED_HASH, None)
    for count, person in enumerate(approvers, start=1):
        step = {ROLLBACK_APPROVED_BY: ",".join(approvers[:count])}
        if rollback_hash is not None:
            step[ROLLBACK_APPROVED_HASH] = rollback_hash
        answer = patch(cluster.impersonating(person, [APPROVERS_GROUP]), name, step)
        assert answer.status_code == 200, answer.text[:500]


def submit(cluster: Cluster, name: str, admission: Admission) -> httpx.Response:
    session = cluster.impersonating(admission.user, admission.groups)
    if admission.operation == "CREATE":
        return session.create(document(name, admission, admission.annotations), dry_run=True)
    prepare(cluster, name, admission)
    removed: dict[str, str | None] = dict.fromkeys(admission.old_annotations or {})
    return patch(session, name, {**removed, **admission.annotations})


DENIED_WORDS = [(admission, words) for admission, _, words in DENIED.values()]


@pytest.mark.usefixtures("open_namespace")
@pytest.mark.parametrize("admission", ALLOWED.values(), ids=ALLOWED.keys())
def test_the_api_server_allows(cluster: Cluster, name: str, admission: Admission) -> None:
    answer = submit(cluster, name, admission)
    assert answer.is_success, answer.text[:1000]


@pytest.mark.usefixtures("open_namespace")
@pytest.mark.parametrize(("admission", "words"), DENIED_WORDS, ids=DENIED.keys())
def test_the_api_server_denies(
    cluster: Cluster, name: str, admission: Admission, words: str
) -> None:
    answer = submit(cluster, name, admission)
    assert answer.status_code == 403
    message = refusal(answer)
    assert POLICY in message
    assert words in message
