"""Every CEL rule of the CRDs, enforced by the API server on the objects the unit tests use.

tests/unit/test_crd_cel.py evaluates the same cases with cel-python; here the API server
must admit each valid object and refuse each counter-example with that rule's own message,
so the unit suite's stand-in cannot drift from what Kubernetes does.
"""

import copy
from typing import Any

import httpx
import pytest

from tests.unit.test_crd_cel import CASES, Case

from .cluster import ALICE, NAMESPACE, OPERATOR_ACCOUNT, Cluster
from .kube import Kube, refusal


def placed(obj: dict[str, Any], name: str) -> dict[str, Any]:
    """The case's object in the test namespace under a fresh name, requested by alice."""
    placed = copy.deepcopy(obj)
    placed["metadata"] = {"name": name, "namespace": NAMESPACE}
    if placed["kind"] == "KafkaChangeRequest":
        placed["spec"]["requestedBy"]["principal"] = ALICE.name
    return placed


def submit(cluster: Cluster, case: Case, obj: dict[str, Any], name: str) -> httpx.Response:
    """Send ``obj`` the way the rule's object reaches the API server.

    Status rules are met by the operator writing status; transition rules by an update
    after a create; the rest by a create (dry run: nothing is stored).
    """
    document = placed(obj, name)
    author: Kube = cluster.admin if case.kind == "KafkaCluster" else cluster.as_person(ALICE)
    if case.old is not None:
        created = author.create(placed(case.old, name))
        assert created.status_code == 201, created.text[:500]
        return author.http.patch(
            author.request_path(NAMESPACE, name),
            json={"spec": document["spec"]},
            headers={"Content-Type": "application/merge-patch+json"},
        )
    status = document.pop("status", None)
    if status is None:
        return author.create(document, dry_run=True)
    created = author.create(document)
    assert created.status_code == 201, created.text[:500]
    operator = cluster.as_account(OPERATOR_ACCOUNT)
    return operator.patch_status(NAMESPACE, name, status)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_api_server_admits_the_valid_object(cluster: Cluster, name: str, case: Case) -> None:
    answer = submit(cluster, case, case.valid, name)
    assert answer.is_success, answer.text[:1000]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_api_server_refuses_the_counter_example(
    cluster: Cluster, name: str, case: Case
) -> None:
    answer = submit(cluster, case, case.invalid, name)
    assert answer.status_code == 422
    assert f"{api_path(case.path)}: Invalid value: {case.message}" in refusal(answer)


def api_path(path: str) -> str:
    """``.status.plan.stages[].steps[]`` as the API server names the first such place."""
    return path.lstrip(".").replace("[]", "[0]")
