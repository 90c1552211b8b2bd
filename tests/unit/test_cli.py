"""`kcr validate` and `kcr --version` as a person runs them."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kcr.cli.main import cli
from kcr.model import KINDS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "manifests" / "examples").glob("*.yaml"))
CLUSTER = ROOT / "manifests" / "examples" / "kafkacluster-prod.yaml"
REQUESTS = [p for p in EXAMPLES if p != CLUSTER]


def bad_request(tmp_path: Path, change: dict[str, object]) -> Path:
    document = yaml.safe_load((ROOT / "manifests/examples/create-topic.yaml").read_text())
    document["spec"]["change"] = change
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_every_change_kind_has_an_example() -> None:
    kinds = {yaml.safe_load(p.read_text())["spec"]["change"]["type"] for p in REQUESTS}
    assert kinds == set(KINDS.names(requestable_only=True))


@pytest.mark.parametrize("path", REQUESTS, ids=lambda p: p.stem)
def test_examples_validate_and_show_plan_and_rollback(path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(path), "--cluster", str(CLUSTER), "--json"])
    assert result.exit_code == 0, result.output
    review = json.loads(result.output)
    assert review["valid"] is True
    assert review["plan"]["stages"], "every example plans at least one stage"
    assert review["rollbackPlan"]["steps"] or review["irreversible"], (
        "rollback or its absence is explained"
    )
    assert review["risk"] in {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
    moved = review["dataMovement"]
    assert moved["bytes"] is not None, "every review says what moves"
    assert moved["bytes"] >= 0
    assert moved["summary"]


def test_a_partition_increase_says_nothing_moves_but_keys_map_elsewhere() -> None:
    path = ROOT / "manifests/examples/increase-partitions.yaml"
    result = CliRunner().invoke(cli, ["validate", str(path), "--cluster", str(CLUSTER)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "data moved" in text
    assert "no records move now, but from now on keys map to other partitions" in text


def test_a_cluster_storage_outside_the_three_is_refused_by_name(tmp_path: Path) -> None:
    cluster = yaml.safe_load(CLUSTER.read_text())
    cluster["spec"]["storage"] = "Cloud"
    bad = tmp_path / "cluster.yaml"
    bad.write_text(yaml.safe_dump(cluster))
    path = ROOT / "manifests/examples/create-topic.yaml"
    result = CliRunner().invoke(cli, ["validate", str(path), "--cluster", str(bad)])
    assert result.exit_code != 0
    assert "spec.storage" in result.output
    assert "Local" in result.output


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {
                "type": "CreateTopic",
                "createTopic": {
                    "topic": "ok",
                    "partitions": 1,
                    "replicationFactor": 3,
                    "configs": {"retention.ms": "-5"},
                },
            },
            "spec.change.createTopic.configs['retention.ms']: must be a whole number of "
            "milliseconds ≥ -1",
        ),
        (
            {
                "type": "CreateTopic",
                "createTopic": {"topic": "a/b", "partitions": 1, "replicationFactor": 3},
            },
            "spec.change.createTopic.topic: topic name 'a/b' may only use ASCII letters",
        ),
        (
            {
                "type": "CreateTopic",
                "createTopic": {"topic": "ok", "partitions": 0, "replicationFactor": 3},
            },
            "spec.change.createTopic.partitions: must be at least 1, got 0",
        ),
        (
            {
                "type": "CreateTopic",
                "createTopic": {"topic": "ok", "partitions": 1, "replicationFactor": 3},
                "deleteTopic": {"topic": "ok"},
            },
            "spec.change: type CreateTopic needs exactly the member 'createTopic' set and no other",
        ),
    ],
    ids=["retention", "topic-name", "partitions", "two-members"],
)
def test_invalid_requests_exit_non_zero_and_name_field_and_rule(
    tmp_path: Path, change: dict[str, object], expected: str
) -> None:
    result = CliRunner().invoke(cli, ["validate", str(bad_request(tmp_path, change))])
    assert result.exit_code == 1
    assert expected in result.output


def test_policy_violations_fail_validation(tmp_path: Path) -> None:
    change = {
        "type": "CreateTopic",
        "createTopic": {"topic": "big", "partitions": 900, "replicationFactor": 3},
    }
    result = CliRunner().invoke(
        cli, ["validate", str(bad_request(tmp_path, change)), "--cluster", str(CLUSTER)]
    )
    assert result.exit_code == 1
    assert "900 is above this cluster's limit of 256" in result.output


@pytest.mark.parametrize(
    ("resource_type", "resource_name"),
    [("Topic", "*"), ("Group", "*"), ("Topic", "a:b")],
    ids=["topic-wildcard", "group-wildcard", "colon"],
)
def test_acl_on_a_pattern_is_reviewed_not_a_crash(
    tmp_path: Path, resource_type: str, resource_name: str
) -> None:
    grant = {
        "resourceType": resource_type,
        "resourceName": resource_name,
        "principal": "User:etl",
        "operation": "Read",
    }
    change = {"type": "AlterAcls", "alterAcls": {"add": [grant]}}
    path = str(bad_request(tmp_path, change))
    result = CliRunner().invoke(cli, ["validate", path, "--json"])
    assert result.exit_code == 0, result.output
    review = json.loads(result.output)
    assert review["blastRadius"]["aclResources"] == [f"{resource_type}:Literal:{resource_name}"]
    assert review["blastRadius"]["topics"] == []
    shown = CliRunner().invoke(cli, ["validate", path])
    assert shown.exit_code == 0, shown.output
    assert f"{resource_type}:Literal:{resource_name}" in shown.output


def test_not_yaml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("spec: [unclosed")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert "not valid YAML" in result.output


def test_installed_command_prints_version_and_review() -> None:
    kcr = Path(sys.executable).with_name("kcr")
    version = subprocess.run([kcr, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("kcr, version ")
    shown = subprocess.run(
        [
            kcr,
            "validate",
            str(ROOT / "manifests/examples/delete-topic.yaml"),
            "--cluster",
            str(CLUSTER),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "CRITICAL" in shown.stdout
    assert (
        "cannot be undone: deleting topic legacy.clickstream destroys its 48 partitions"
        in shown.stdout
    )
