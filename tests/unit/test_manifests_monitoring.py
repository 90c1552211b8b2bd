"""The alerts fire when they should (promtool's rule tests) and every query names real metrics.

promtool ships with Debian's `prometheus` package (installed by .ci/run); the metric
names come from the operator's and the MCP server's own registries, so a renamed metric
breaks this test rather than a dashboard in production.
"""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from kcr.mcp.gate.metrics import ToolMetrics
from kcr.operator.metrics import Metrics

from .kube_manifests import MANIFESTS

RULE = yaml.safe_load((MANIFESTS / "monitoring" / "prometheusrule.yaml").read_text())
DASHBOARD = json.loads((MANIFESTS / "monitoring" / "grafana-dashboard.json").read_text())
RULES = {rule["alert"]: rule for group in RULE["spec"]["groups"] for rule in group["rules"]}
# Grafana's range variables, as a concrete duration for checking the PromQL.
GRAFANA_RANGES = {"$__rate_interval": "5m", "$__range": "1h", "$__interval": "1m"}


def sample_names(registry: CollectorRegistry) -> set[str]:
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    return {
        family.name + suffix
        for family in registry.collect()
        for suffix in suffixes.get(family.type, ("",))
    }


def exported_metrics() -> set[str]:
    return sample_names(Metrics().registry) | sample_names(ToolMetrics(["t"]).registry)


def metric_names(expression: str) -> set[str]:
    return set(re.findall(r"\b(kcr_[a-z_]+)", expression))


def dashboard_queries() -> list[str]:
    return [target["expr"] for panel in DASHBOARD["panels"] for target in panel.get("targets", [])]


def test_alerts_and_dashboard_use_only_exported_metrics() -> None:
    exported = exported_metrics()
    used = {
        name
        for expression in [rule["expr"] for rule in RULES.values()] + dashboard_queries()
        for name in metric_names(expression)
    }
    assert used, "the queries name kcr metrics"
    assert used - exported == set()


def test_dashboard_is_well_formed() -> None:
    panels = DASHBOARD["panels"]
    assert DASHBOARD["uid"] == "kcr"
    assert len({p["id"] for p in panels}) == len(panels)
    assert [v["name"] for v in DASHBOARD["templating"]["list"]] == ["datasource"]
    occupied: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}"
            assert panel["targets"], panel["title"]
            assert panel["description"], panel["title"]


def test_every_query_is_valid_promql(tmp_path: Path, promtool_path: str) -> None:
    """promtool parses each dashboard query as a recording rule, and the alert rules."""
    queries = []
    for query in dashboard_queries():
        concrete = query
        for variable, value in GRAFANA_RANGES.items():
            concrete = concrete.replace(variable, value)
        queries.append(concrete)
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"kcr:dashboard:{i}", "expr": q} for i, q in enumerate(queries)
                ],
            },
            *RULE["spec"]["groups"],
        ]
    }
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rules))
    checked = subprocess.run(
        [promtool_path, "check", "rules", str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{name}{{{inner}}}", "values": values}


def expected(alert: str, value: str, **labels: str) -> dict[str, Any]:
    """The alert with its labels and its annotations rendered as Prometheus would."""
    rule = RULES[alert]

    def render(template: str) -> str:
        text = re.sub(r"\{\{ \$value \| humanize(Duration)? \}\}", value, template)
        text = text.replace("{{ $value }}", value)
        return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)

    return {
        "exp_labels": {**labels, **rule["labels"]},
        "exp_annotations": {k: render(v) for k, v in rule["annotations"].items()},
    }


CASES: dict[str, tuple[list[dict[str, str]], str, str, list[dict[str, Any]]]] = {
    "one request executing for hours while others finish": (
        [
            series("kcr_request_phase_age_seconds", {"phase": "Executing"}, "0+60x300"),
            series(
                "kcr_transitions_total",
                {"from_phase": "Executing", "to_phase": "Succeeded", "reason": "Succeeded"},
                "0+1x300",
            ),
        ],
        "KcrRequestStuck",
        "150m",
        [expected("KcrRequestStuck", "2h 30m 0s", phase="Executing")],
    ),
    "executing requests that each move on within the window": (
        [series("kcr_request_phase_age_seconds", {"phase": "Executing"}, "600x300")],
        "KcrRequestStuck",
        "150m",
        [],
    ),
    "pending for half an hour": (
        [series("kcr_request_phase_age_seconds", {"phase": "Pending"}, "0+60x60")],
        "KcrRequestStuck",
        "35m",
        [expected("KcrRequestStuck", "35m 0s", phase="Pending")],
    ),
    "awaiting approval is people's time": (
        [series("kcr_request_phase_age_seconds", {"phase": "AwaitingApproval"}, "0+60x900")],
        "KcrRequestStuck",
        "14h",
        [],
    ),
    "a rollback failed": (
        [
            series(
                "kcr_transitions_total",
                {
                    "from_phase": "RollingBack",
                    "to_phase": "RollbackFailed",
                    "reason": "RollbackFailed",
                },
                "0 0 1x20",
            )
        ],
        "KcrRollbackFailed",
        "10m",
        [expected("KcrRollbackFailed", "", reason="RollbackFailed")],
    ),
    "a rollback that worked": (
        [
            series(
                "kcr_transitions_total",
                {"from_phase": "RollingBack", "to_phase": "RolledBack", "reason": "RolledBack"},
                "0 0 1x20",
            )
        ],
        "KcrRollbackFailed",
        "10m",
        [],
    ),
    "a gate failed": (
        [series("kcr_gate_failures_total", {"check": "UnderReplicated"}, "0 0 1x30")],
        "KcrHealthGateFailed",
        "10m",
        [expected("KcrHealthGateFailed", "1", check="UnderReplicated")],
    ),
    "gates fail again and again": (
        [series("kcr_gate_failures_total", {"check": "ConsumerProgress"}, "0 1 2 3x60")],
        "KcrHealthGatesFailingOften",
        "30m",
        [expected("KcrHealthGatesFailingOften", "3")],
    ),
    "a change failed": (
        [
            series(
                "kcr_transitions_total",
                {"from_phase": "Executing", "to_phase": "Failed", "reason": "StepFailed"},
                "0 0 1x20",
            )
        ],
        "KcrChangeFailed",
        "10m",
        [expected("KcrChangeFailed", "", reason="StepFailed")],
    ),
    "the MCP server is gone": (
        [],
        "KcrMcpServerDown",
        "10m",
        [expected("KcrMcpServerDown", "")],
    ),
    "the operator is not scraped": (
        [series("up", {"job": "kcr-operator", "instance": "10.0.0.1:9090"}, "1 1 0x20")],
        "KcrOperatorDown",
        "10m",
        [expected("KcrOperatorDown", "")],
    ),
    "the operator is up": (
        [series("up", {"job": "kcr-operator", "instance": "10.0.0.1:9090"}, "1x20")],
        "KcrOperatorDown",
        "10m",
        [],
    ),
    "an MCP tool mostly errs": (
        [
            series(
                "kcr_mcp_tool_calls_total", {"tool": "list_topics", "outcome": "error"}, "0+6x40"
            ),
            series("kcr_mcp_tool_calls_total", {"tool": "list_topics", "outcome": "ok"}, "0+2x40"),
        ],
        "KcrMcpToolErrors",
        "30m",
        [expected("KcrMcpToolErrors", "", tool="list_topics")],
    ),
}


@pytest.mark.parametrize(("inputs", "alert", "at", "alerts"), CASES.values(), ids=list(CASES))
def test_alert_fires_exactly_when_it_should(
    tmp_path: Path,
    promtool_path: str,
    inputs: list[dict[str, str]],
    alert: str,
    at: str,
    alerts: list[dict[str, Any]],
) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(RULE["spec"]))
    test = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": inputs,
                "alert_rule_test": [{"eval_time": at, "alertname": alert, "exp_alerts": alerts}],
            }
        ],
    }
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test))
    result = subprocess.run(
        [promtool_path, "test", "rules", "test.yaml"],
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested() -> None:
    assert {alert for _, alert, _, fired in CASES.values() if fired} == set(RULES)
