"""The Argo CD example: valid objects, a project that admits only change requests, and a
health check (Lua, run here with a real Lua interpreter) that maps every phase."""

from typing import Any

import lupa
import pytest
import yaml

from kcr.engine.signals import ABORT, CONTINUE, ROLLBACK
from kcr.model import Phase
from kcr.policy.authority import TERMINAL_PHASES

from .kube_manifests import MANIFESTS, Document, load_documents, schema_errors

GITOPS = MANIFESTS / "gitops"
ARGO = load_documents(GITOPS / "application.yaml")
PROJECT = next(d for d in ARGO if d["kind"] == "AppProject")
APPLICATION = next(d for d in ARGO if d["kind"] == "Application")
HEALTH = yaml.safe_load((GITOPS / "argocd-health.yaml").read_text())
PARAMS = yaml.safe_load((MANIFESTS / "admission" / "params.yaml").read_text())["data"]


@pytest.mark.parametrize(
    "document", [*ARGO, HEALTH], ids=lambda d: f"{d['kind']}/{d['metadata']['name']}"
)
def test_argo_objects_are_valid(document: Document) -> None:
    assert schema_errors(document) == []


def test_project_admits_only_change_requests_from_one_repository() -> None:
    spec = PROJECT["spec"]
    assert spec["namespaceResourceWhitelist"] == [
        {"group": "kcr.dev", "kind": "KafkaChangeRequest"}
    ]
    assert spec["clusterResourceWhitelist"] == []
    assert len(spec["sourceRepos"]) == 1
    assert "*" not in spec["sourceRepos"][0]
    app = APPLICATION["spec"]
    assert app["project"] == PROJECT["metadata"]["name"]
    assert app["source"]["repoURL"] in spec["sourceRepos"]
    assert app["destination"] in spec["destinations"]


def test_application_never_prunes_and_ignores_run_time_decisions() -> None:
    app = APPLICATION["spec"]
    assert app["syncPolicy"]["automated"]["prune"] is False
    pointers = app["ignoreDifferences"][0]["jsonPointers"]
    ignored = {
        p.removeprefix("/metadata/annotations/").replace("~1", "/").replace("~0", "~")
        for p in pointers
        if p.startswith("/metadata/annotations/")
    }
    assert ignored == {CONTINUE, ABORT, ROLLBACK}


def test_the_applier_the_policy_trusts_is_argo_cds_controller() -> None:
    namespace = APPLICATION["metadata"]["namespace"]
    assert PARAMS["gitopsApplier"] == (
        f"system:serviceaccount:{namespace}:argocd-application-controller"
    )


def health(status: dict[str, Any] | None) -> tuple[str, str]:
    """Run the health script as Argo CD does: ``obj`` is the resource, it returns a table."""
    runtime = lupa.LuaRuntime(unpack_returned_tuples=True)
    script = HEALTH["data"]["resource.customizations.health.kcr.dev_KafkaChangeRequest"]
    check = runtime.eval(f"function(obj) {script} end")
    resource: dict[str, Any] = {"metadata": {"name": "orders-retention"}}
    if status is not None:
        resource["status"] = status
    result = check(runtime.table_from(resource, recursive=True))
    return result["status"], result["message"]


EXPECTED_HEALTH = {
    Phase.PENDING: "Progressing",
    Phase.AWAITING_APPROVAL: "Suspended",
    Phase.APPROVED: "Progressing",
    Phase.EXECUTING: "Progressing",
    Phase.PAUSED: "Suspended",
    Phase.AWAITING_ROLLBACK_APPROVAL: "Suspended",
    Phase.SUCCEEDED: "Healthy",
    Phase.INVALID: "Degraded",
    Phase.REJECTED: "Degraded",
    Phase.EXPIRED: "Degraded",
    Phase.STALE: "Degraded",
    Phase.FAILED: "Degraded",
    Phase.ROLLING_BACK: "Progressing",
    Phase.ROLLED_BACK: "Degraded",
    Phase.ROLLBACK_FAILED: "Degraded",
}


def test_every_phase_has_a_health() -> None:
    assert set(EXPECTED_HEALTH) == set(Phase)


def test_degraded_are_the_phases_the_operator_no_longer_acts_on() -> None:
    degraded = {phase for phase, health in EXPECTED_HEALTH.items() if health == "Degraded"}
    assert degraded == TERMINAL_PHASES


@pytest.mark.parametrize(("phase", "status"), EXPECTED_HEALTH.items(), ids=str)
def test_health_follows_the_phase(phase: Phase, status: str) -> None:
    assert health({"phase": phase.value, "message": "because"}) == (
        status,
        f"{phase.value}: because",
    )


def test_health_before_the_operator_sees_the_request() -> None:
    assert health(None) == ("Progressing", "Waiting for the kcr operator to validate the request")
    assert health({"phase": "Succeeded"}) == ("Healthy", "Succeeded")
