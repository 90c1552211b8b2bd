"""NetworkPolicies in manifests/: each kcr pod takes traffic only on the ports it serves,
and each port only from the namespaces meant to use it."""

import pytest

from .kube_manifests import Document, source_documents

DOCUMENTS = source_documents()
DEPLOYMENTS = [d for d in DOCUMENTS if d["kind"] == "Deployment"]
POLICIES = [d for d in DOCUMENTS if d["kind"] == "NetworkPolicy"]
CLIENTS = {"kcr.dev/mcp-clients": "true"}
SCRAPER = {"kcr.dev/metrics-scraper": "true"}


def pod_labels(deployment: Document) -> dict[str, str]:
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    return labels


def selecting(deployment: Document) -> list[Document]:
    labels = pod_labels(deployment).items()
    return [
        p
        for p in POLICIES
        if p["metadata"]["namespace"] == deployment["metadata"]["namespace"]
        and p["spec"]["podSelector"].get("matchLabels", {}).items() <= labels
        and "Ingress" in p["spec"]["policyTypes"]
    ]


def open_ports(deployment: Document) -> dict[str, list[dict[str, str]]]:
    """Named port → the namespace labels each peer allowed to reach it must carry."""
    opened: dict[str, list[dict[str, str]]] = {}
    for policy in selecting(deployment):
        for rule in policy["spec"].get("ingress", []):
            for port in rule["ports"]:
                opened.setdefault(port["port"], []).extend(
                    peer["namespaceSelector"]["matchLabels"] for peer in rule["from"]
                )
    return opened


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("kcr-mcp", {"http": [CLIENTS], "metrics": [SCRAPER]}, id="mcp"),
        pytest.param("kcr-operator", {"metrics": [SCRAPER]}, id="operator"),
    ],
)
def test_each_port_is_open_only_to_the_namespaces_meant_to_use_it(
    name: str, expected: dict[str, list[dict[str, str]]]
) -> None:
    deployment = next(d for d in DEPLOYMENTS if d["metadata"]["name"] == name)
    assert selecting(deployment), f"no NetworkPolicy isolates {name}'s pods"
    assert open_ports(deployment) == expected
    served = {
        p["name"] for c in deployment["spec"]["template"]["spec"]["containers"] for p in c["ports"]
    }
    assert set(expected) <= served


def test_every_deployment_is_isolated() -> None:
    assert all(selecting(d) for d in DEPLOYMENTS)


@pytest.mark.parametrize("policy", POLICIES, ids=[p["metadata"]["name"] for p in POLICIES])
def test_no_rule_opens_a_port_to_everyone(policy: Document) -> None:
    """An ingress rule without ``from`` or ``ports``, or with an empty selector, allows all."""
    for rule in policy["spec"]["ingress"]:
        assert rule.get("from"), rule
        assert rule.get("ports"), rule
        for peer in rule["from"]:
            assert set(peer) == {"namespaceSelector"}, peer
            assert peer["namespaceSelector"].get("matchLabels"), peer


def test_prometheus_may_scrape_what_the_service_monitor_names() -> None:
    monitor = next(d for d in DOCUMENTS if d["kind"] == "ServiceMonitor")
    scraped = {e["port"] for e in monitor["spec"]["endpoints"]}
    for deployment in DEPLOYMENTS:
        opened = open_ports(deployment)
        for port in scraped:
            assert SCRAPER in opened.get(port, []), (deployment["metadata"]["name"], port)
