"""Least privilege, computed from the RBAC objects in manifests/ the way the API server would.

Only the operator writes status; the MCP server creates and reads requests but never
changes one; nobody gets a wildcard; Secrets and Deployment scaling are namespaced grants.
"""

from dataclasses import dataclass

import pytest

from .kube_manifests import Document, source_documents

DOCUMENTS = source_documents()
OPERATOR = ("kcr-system", "kcr-operator")
MCP = ("kcr-system", "kcr-mcp")
APPROVERS_GROUP = "kcr-approvers"


@dataclass(frozen=True)
class Subject:
    kind: str
    name: str
    namespace: str = ""


def service_account(namespace: str, name: str) -> Subject:
    return Subject("ServiceAccount", name, namespace)


def _roles() -> dict[tuple[str, str, str], list[Document]]:
    """(kind, namespace, name) → rules."""
    return {
        (d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]): d.get("rules", [])
        for d in DOCUMENTS
        if d["kind"] in {"ClusterRole", "Role"}
    }


def _bound_rules(subject: Subject, namespace: str) -> list[Document]:
    """Rules that apply to ``subject`` for a request in ``namespace`` ('' = cluster scope)."""
    roles = _roles()
    rules: list[Document] = []
    for binding in DOCUMENTS:
        if binding["kind"] not in {"ClusterRoleBinding", "RoleBinding"}:
            continue
        if binding["kind"] == "RoleBinding" and binding["metadata"]["namespace"] != namespace:
            continue
        subjects = {
            Subject(s["kind"], s["name"], s.get("namespace", "")) for s in binding["subjects"]
        }
        if subject not in subjects:
            continue
        ref = binding["roleRef"]
        role_namespace = "" if ref["kind"] == "ClusterRole" else binding["metadata"]["namespace"]
        rules += roles[(ref["kind"], role_namespace, ref["name"])]
    return rules


def can(
    subject: Subject,
    verb: str,
    resource: str,
    group: str,
    namespace: str = "",
    name: str | None = None,
) -> bool:
    """As the API server decides: a rule with resourceNames covers only the objects it
    names, so it never allows a request for any object (``name`` None)."""
    return any(
        verb in rule["verbs"]
        and resource in rule["resources"]
        and group in rule["apiGroups"]
        and ("resourceNames" not in rule or name in rule["resourceNames"])
        for rule in _bound_rules(subject, namespace)
    )


NAMESPACES = ["kcr-system", "team-a", ""]
REQUESTS = ("kafkachangerequests", "kcr.dev")
STATUS = ("kafkachangerequests/status", "kcr.dev")


def test_no_rule_uses_a_wildcard() -> None:
    for rules in _roles().values():
        for rule in rules:
            for field in ("verbs", "resources", "apiGroups"):
                assert "*" not in rule[field], rule


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_mcp_server_creates_and_reads_but_never_changes_requests(namespace: str) -> None:
    mcp = service_account(*MCP)
    for verb in ("update", "patch", "delete", "deletecollection"):
        assert not can(mcp, verb, *REQUESTS, namespace), verb
    for verb in ("update", "patch"):
        assert not can(mcp, verb, *STATUS, namespace)
    in_home = namespace == "kcr-system"
    for verb in ("create", "get", "list", "watch"):
        assert can(mcp, verb, *REQUESTS, namespace) is in_home, (verb, namespace)


def test_only_the_operator_writes_status() -> None:
    subjects = {
        Subject(s["kind"], s["name"], s.get("namespace", ""))
        for d in DOCUMENTS
        if d["kind"] in {"ClusterRoleBinding", "RoleBinding"}
        for s in d["subjects"]
    }
    writers = {
        subject
        for subject in subjects
        for verb in ("patch", "update")
        for namespace in NAMESPACES
        if can(subject, verb, *STATUS, namespace)
    }
    assert writers == {service_account(*OPERATOR)}


def test_operator_reads_everywhere_and_never_drafts() -> None:
    operator = service_account(*OPERATOR)
    for verb in ("get", "list", "watch"):
        assert can(operator, verb, *REQUESTS)
    assert can(operator, "get", "kafkaclusters", "kcr.dev")
    assert can(operator, "create", "events", "")
    assert not can(operator, "create", *REQUESTS, "kcr-system")
    assert not can(operator, "delete", *REQUESTS, "kcr-system")


KAFKA_SECRET = "kcr-mcp-kafka"


@pytest.mark.parametrize("account", [OPERATOR, MCP], ids=["operator", "mcp"])
def test_secrets_are_read_only_where_kafka_credentials_live(account: tuple[str, str]) -> None:
    subject = service_account(*account)
    assert can(subject, "get", "secrets", "", "kcr-system", KAFKA_SECRET)
    assert not can(subject, "get", "secrets", "", "team-a", KAFKA_SECRET)
    assert not can(subject, "get", "secrets", "", "", KAFKA_SECRET)
    for verb in ("list", "watch", "create", "patch", "update", "delete"):
        assert not can(subject, verb, "secrets", "", "kcr-system", KAFKA_SECRET), verb


@pytest.mark.parametrize(
    ("name", "readable"),
    [
        pytest.param("kcr-kafka-ca", True, id="ca-bundle"),
        pytest.param(KAFKA_SECRET, True, id="client-credentials"),
        pytest.param("kcr-operator-kafka", False, id="the-operators-credentials"),
        pytest.param("some-other-secret", False, id="any-other"),
        pytest.param(None, False, id="unnamed"),
    ],
)
def test_mcp_server_reads_only_the_secrets_it_names(name: str | None, readable: bool) -> None:
    assert can(service_account(*MCP), "get", "secrets", "", "kcr-system", name) is readable


def test_namespace_viewers_do_not_read_change_requests() -> None:
    """A request names other tenants' consumer groups: reading it is granted on purpose."""
    viewer = next(d for d in DOCUMENTS if d["metadata"]["name"] == "kcr-viewer")
    labels = viewer["metadata"].get("labels", {})
    assert "rbac.authorization.k8s.io/aggregate-to-view" not in labels
    assert labels.get("rbac.authorization.k8s.io/aggregate-to-edit") == "true"


def test_operator_scales_deployments_only_where_a_namespace_allows_it() -> None:
    operator = service_account(*OPERATOR)
    for namespace in NAMESPACES:
        assert not can(operator, "patch", "deployments/scale", "apps", namespace)
        assert not can(operator, "patch", "deployments", "apps", namespace)
    grant = next(d for d in DOCUMENTS if d["metadata"]["name"] == "kcr-scale-deployments")
    assert [(r["resources"], r["verbs"]) for r in grant["rules"]] == [
        (["deployments/scale"], ["get", "patch"]),
        (["deployments"], ["get"]),
    ]


def test_operator_holds_only_the_verbs_it_uses() -> None:
    """It GETs clusters, never writes them, and kopf POSTs core Events without patching."""
    operator = service_account(*OPERATOR)
    for verb in ("list", "watch", "patch", "update"):
        assert not can(operator, verb, "kafkaclusters", "kcr.dev"), verb
    assert not can(operator, "patch", "kafkaclusters/status", "kcr.dev")
    assert not can(operator, "patch", "events", "")
    assert not can(operator, "create", "events", "events.k8s.io")


def test_strimzis_resources_are_listed_and_never_written() -> None:
    """kcr reads KafkaTopics and KafkaUsers and drafts edits for people; a KafkaRebalance
    it drafts is applied and approved by a person, so no kcr role names one."""
    strimzi_rules = [
        rule
        for rules in _roles().values()
        for rule in rules
        if "kafka.strimzi.io" in rule["apiGroups"]
    ]
    assert strimzi_rules == [
        {
            "apiGroups": ["kafka.strimzi.io"],
            "resources": ["kafkatopics", "kafkausers"],
            "verbs": ["list"],
        }
    ]


def test_mcp_lists_workloads_but_reads_none_by_name() -> None:
    mcp = service_account(*MCP)
    for resource in ("deployments", "replicasets"):
        assert can(mcp, "list", resource, "apps")
        assert not can(mcp, "get", resource, "apps")


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_mcp_keeps_shared_rate_limits_in_its_own_leases(namespace: str) -> None:
    mcp = service_account(*MCP)
    in_home = namespace == "kcr-system"
    for verb in ("get", "create", "patch"):
        assert can(mcp, verb, "leases", "coordination.k8s.io", namespace) is in_home, verb
    for verb in ("update", "delete", "deletecollection", "list"):
        assert not can(mcp, verb, "leases", "coordination.k8s.io", namespace), verb


def test_approvers_patch_and_never_replace_a_request() -> None:
    approvers = Subject("Group", APPROVERS_GROUP)
    assert not can(approvers, "update", *REQUESTS)


def test_approvers_group_may_annotate_but_viewers_may_not() -> None:
    approvers = Subject("Group", APPROVERS_GROUP)
    assert can(approvers, "patch", *REQUESTS)
    assert not can(approvers, "patch", *STATUS)
    viewer = next(d for d in DOCUMENTS if d["metadata"]["name"] == "kcr-viewer")
    assert all(set(rule["verbs"]) <= {"get", "list", "watch"} for rule in viewer["rules"])
    requester = next(d for d in DOCUMENTS if d["metadata"]["name"] == "kcr-requester")
    assert {verb for rule in requester["rules"] for verb in rule["verbs"]} == {"create"}


def test_no_kcr_subject_may_change_the_lists_that_decide_approvals() -> None:
    """The allowed-signers list and the admission parameters are for platform admins only."""
    subjects = {
        Subject(s["kind"], s["name"], s.get("namespace", ""))
        for d in DOCUMENTS
        if d["kind"] in {"ClusterRoleBinding", "RoleBinding"}
        for s in d["subjects"]
    }
    assert service_account(*OPERATOR) in subjects
    for subject in subjects:
        for verb in ("create", "update", "patch", "delete", "deletecollection"):
            assert not can(subject, verb, "configmaps", "", "kcr-system"), (subject, verb)


def test_the_operator_mounts_the_allowed_signers_it_is_told_to_read() -> None:
    deployment = next(
        d
        for d in DOCUMENTS
        if d["kind"] == "Deployment" and d["metadata"]["name"] == "kcr-operator"
    )
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "allowed-signers")
    volume = next(v for v in pod["volumes"] if v["name"] == "allowed-signers")
    assert volume["configMap"]["name"] == "kcr-allowed-signers"
    signers = next(d for d in DOCUMENTS if d["metadata"]["name"] == "kcr-allowed-signers")
    (key,) = signers["data"]
    assert f"--allowed-signers={mount['mountPath']}/{key}" in container["args"]
