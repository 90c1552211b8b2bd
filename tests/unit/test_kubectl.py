"""`kubectl kcr` against a Kubernetes API over real HTTP (the kmock emulator, with
authentication, optimistic concurrency and the kcr-approvals admission policy)."""

import asyncio
import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import kmock
import pytest
import yaml
from click.testing import CliRunner, Result

from kcr import kinds
from kcr.cli.main import cli as kcr_cli
from kcr.kafka.connect import open_kafka
from kcr.kinds.create_topic import CreateTopic
from kcr.kubectl.diff import observed_diff
from kcr.kubectl.main import PATCH_ATTEMPTS, cli
from kcr.model import (
    ClusterPolicy,
    HistoryEntry,
    KafkaChangeRequest,
    KafkaChangeRequestStatus,
    ObservedState,
    Phase,
    Risk,
    RollbackReview,
    StepState,
)
from kcr.plan import review_spec, rollback_hash, spec_hash
from kcr.policy.signatures import (
    parse_allowed_signers,
    parse_signed_approvals,
    verify_signed_approvals,
)

from .admission_policy import PARAMS
from .kube_api import RunningApi, User, running_api

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = yaml.safe_load((ROOT / "manifests/examples/alter-topic-config.yaml").read_text())
NAME = EXAMPLE["metadata"]["name"]
APPROVERS = (PARAMS["data"]["approversGroup"], "system:authenticated")
BOB = User("bob", APPROVERS)
CAROL = User("carol", APPROVERS)  # the example's requester
DAVE = User("dave")
ERIN = User("erin", APPROVERS)
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
HASH = spec_hash(KafkaChangeRequest.model_validate(EXAMPLE).spec)


def request_with(phase: Phase, **annotations: str) -> dict[str, Any]:
    """The example request with the status the operator would have written in ``phase``."""
    document = copy.deepcopy(EXAMPLE)
    request = KafkaChangeRequest.model_validate(document)
    review = review_spec(request.spec, ClusterPolicy(), NOW)
    plan = review.plan.model_copy(deep=True)
    if phase in (Phase.EXECUTING, Phase.PAUSED, Phase.SUCCEEDED, Phase.AWAITING_ROLLBACK_APPROVAL):
        canary = plan.stages[0]
        for step in canary.steps:
            step.state = StepState.SUCCEEDED
            step.result = "applied"
        canary.gate_state = (
            StepState.RUNNING if phase in (Phase.EXECUTING, Phase.PAUSED) else StepState.SUCCEEDED
        )
        canary.gate_result = "offline partitions: ok (0)"
    status = KafkaChangeRequestStatus(
        phase=phase,
        risk=review.risk,
        blast_radius=review.blast_radius,
        spec_hash=review.spec_hash,
        plan=plan,
        rollback_plan=review.rollback,
        change_type=request.spec.change.type,
        target=request.spec.change.target(),
        history=[
            HistoryEntry(at=NOW - timedelta(minutes=5), phase=Phase.PENDING, reason="Created"),
            HistoryEntry(at=NOW, phase=phase, reason="Validated", message="risk assessed"),
        ],
        message=f"now {phase.value}",
    )
    if phase is Phase.AWAITING_ROLLBACK_APPROVAL:
        status.rollback_review = rollback_review(status, asker="erin")
    document["status"] = status.model_dump(mode="json", by_alias=True, exclude_none=True)
    if annotations:
        document["metadata"]["annotations"] = dict(annotations)
    return document


def rollback_review(status: KafkaChangeRequestStatus, asker: str) -> RollbackReview:
    """The review the operator writes when ``asker`` asks for a rollback after Succeeded."""
    assert status.rollback_plan is not None
    assert status.plan is not None
    done = {s.id for s in status.plan.stages[0].steps}
    steps = [s for s in status.rollback_plan.steps if s.undoes in done]
    return RollbackReview(
        requested_by=asker,
        requested_at=NOW,
        steps=[s.id for s in steps],
        risk=Risk.HIGH,
        risk_reasons=["restores a shorter retention"],
        required_approvals=2,
        hash=rollback_hash(steps, Risk.HIGH, asker, NOW),
    )


@pytest.fixture
def api(tmp_path: Path) -> Iterator[RunningApi]:
    with running_api(tmp_path) as running:
        for user in (BOB, CAROL, DAVE, ERIN):
            running.add_user(user)
        yield running


def kubectl_kcr(api: RunningApi, user: User, *args: str) -> Result:
    config = str(api.kubeconfigs[user.name])
    return CliRunner().invoke(cli, ["--kubeconfig", config, *args], catch_exceptions=False)


def annotations(api: RunningApi) -> dict[str, str]:
    stored = api.server.stored("kafka-ops", NAME)
    assert stored is not None
    return dict(stored["metadata"].get("annotations") or {})


def test_list_shows_the_review_columns(api: RunningApi) -> None:
    api.put(request_with(Phase.AWAITING_APPROVAL, **{"kcr.dev/approved-by": "bob"}))
    result = kubectl_kcr(api, BOB, "list")
    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()[:2]
    assert header.split() == [
        "NAME",
        "PHASE",
        "RISK",
        "CHANGE",
        "TARGET",
        "REQUESTED-BY",
        "APPROVED-BY",
        "AGE",
    ]
    assert row.split()[:8] == [
        NAME,
        "AwaitingApproval",
        "HIGH",
        "AlterTopicConfig",
        "topic/search.clicks",
        "+2",
        "carol",
        "bob",
    ]


def test_list_keeps_rows_whole_on_a_narrow_terminal(
    api: RunningApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    api.put(request_with(Phase.AWAITING_APPROVAL, **{"kcr.dev/approved-by": "bob"}))
    result = kubectl_kcr(api, BOB, "list")
    header, row = result.output.splitlines()[:2]
    assert header.split()[-2:] == ["APPROVED-BY", "AGE"], "like kubectl get: no column is cut"
    assert row.split()[0] == NAME


def test_list_filters_and_spans_namespaces(api: RunningApi) -> None:
    api.put(request_with(Phase.SUCCEEDED))
    other = request_with(Phase.AWAITING_APPROVAL)
    other["metadata"].update(name="elsewhere", namespace="team-b")
    api.put(other)
    mine = kubectl_kcr(api, BOB, "list", "-o", "name")
    assert mine.output.split() == [f"kafkachangerequest.kcr.dev/{NAME}"]
    everywhere = kubectl_kcr(api, BOB, "list", "-A", "--phase", "AwaitingApproval")
    lines = everywhere.output.splitlines()
    assert lines[0].split()[0] == "NAMESPACE"
    assert [line.split()[:2] for line in lines[1:]] == [["team-b", "elsewhere"]]
    there = kubectl_kcr(api, BOB, "list", "-o", "name", "-n", "team-b")
    assert there.output.split() == ["kafkachangerequest.kcr.dev/elsewhere"]
    empty = kubectl_kcr(api, BOB, "list", "--phase", "Failed")
    assert empty.exit_code == 0
    assert "No KafkaChangeRequests found in namespace kafka-ops" in empty.output


def test_describe_shows_plan_gates_rollback_evidence_and_history(api: RunningApi) -> None:
    api.put(request_with(Phase.EXECUTING))
    result = kubectl_kcr(api, BOB, "describe", NAME)
    assert result.exit_code == 0, result.output
    text = result.output
    for heading in ("Plan", "Gates", "Rollback", "Evidence", "History"):
        assert heading in text, heading
    assert "Executing" in text
    assert "HIGH" in text
    assert "carol via gitops (tenant search, correlation SRCH-88)" in text
    assert HASH in text
    assert "Succeeded" in text
    assert "Running" in text
    assert "offline partitions: ok (0)" in text
    assert "max(kafka_log_dir_used_ratio)" in text
    assert "risk assessed" in text
    assert "none yet" in text


def test_describe_of_a_missing_request_names_it(api: RunningApi) -> None:
    result = kubectl_kcr(api, BOB, "describe", "nope")
    assert result.exit_code == 1
    assert "reading KafkaChangeRequest kafka-ops/nope" in result.output
    assert "HTTP 404" in result.output


def test_approve_as_yourself_binds_the_spec_hash(api: RunningApi) -> None:
    api.put(request_with(Phase.AWAITING_APPROVAL))
    first = kubectl_kcr(api, BOB, "approve", NAME)
    assert first.exit_code == 0, first.output
    assert annotations(api) == {
        "kcr.dev/approved-by": "bob",
        "kcr.dev/approved-spec-hash": HASH,
    }
    second = kubectl_kcr(api, ERIN, "approve", NAME)
    assert second.exit_code == 0, second.output
    assert annotations(api)["kcr.dev/approved-by"] == "bob,erin"
    assert "approvers now: bob, erin" in second.output
    again = kubectl_kcr(api, ERIN, "approve", NAME)
    assert again.exit_code == 1
    assert "erin has already approved" in again.output


def test_the_requester_cannot_approve(api: RunningApi) -> None:
    api.put(request_with(Phase.AWAITING_APPROVAL))
    result = kubectl_kcr(api, CAROL, "approve", NAME)
    assert result.exit_code == 1
    assert f"carol requested {NAME} and may not approve it" in result.output
    assert annotations(api) == {}


def test_the_api_server_refuses_an_approver_outside_the_group(api: RunningApi) -> None:
    api.put(request_with(Phase.AWAITING_APPROVAL))
    result = kubectl_kcr(api, DAVE, "approve", NAME)
    assert result.exit_code == 1
    assert "ValidatingAdmissionPolicy 'kcr-approvals'" in result.output
    assert "dave is not in the approvers group kcr-approvers" in result.output
    assert annotations(api) == {}


def test_approve_only_while_awaiting_approval(api: RunningApi) -> None:
    api.put(request_with(Phase.EXECUTING))
    result = kubectl_kcr(api, BOB, "approve", NAME)
    assert result.exit_code == 1
    assert f"{NAME} is Executing: it can be approved only when AwaitingApproval, Pending" in (
        result.output
    )


def test_approvals_for_another_hash_block_a_new_one(api: RunningApi) -> None:
    api.put(
        request_with(
            Phase.AWAITING_APPROVAL,
            **{"kcr.dev/approved-by": "bob", "kcr.dev/approved-spec-hash": "0" * 64},
        )
    )
    result = kubectl_kcr(api, ERIN, "approve", NAME)
    assert result.exit_code == 1
    assert "bob approved spec hash 000000000000" in result.output


def test_a_concurrent_approval_is_kept(api: RunningApi) -> None:
    """bob reads, erin approves before bob writes: bob's stale write is refused, re-read,
    and both approvals stand."""
    api.put(request_with(Phase.AWAITING_APPROVAL))

    def erin_approves_first() -> None:
        stored = api.server.stored("kafka-ops", NAME)
        assert stored is not None
        stored["metadata"]["annotations"] = {
            "kcr.dev/approved-by": "erin",
            "kcr.dev/approved-spec-hash": HASH,
        }
        stored["metadata"]["resourceVersion"] = "1000"
        api.put(stored)

    api.server.before_patch.append(erin_approves_first)
    result = kubectl_kcr(api, BOB, "approve", NAME)
    assert result.exit_code == 0, result.output
    assert annotations(api)["kcr.dev/approved-by"] == "erin,bob"


class EveryPatch(list[Callable[[], None]]):
    """Hooks that stay for every later patch (the server clears its list after each)."""

    def clear(self) -> None:
        return None


def test_a_request_that_keeps_changing_is_given_up_after_a_few_reads(api: RunningApi) -> None:
    api.put(request_with(Phase.AWAITING_APPROVAL))
    writes: list[str] = []

    def someone_writes_first() -> None:
        stored = api.server.stored("kafka-ops", NAME)
        assert stored is not None
        writes.append(str(2000 + len(writes)))
        stored["metadata"]["resourceVersion"] = writes[-1]
        api.put(stored)

    api.server.before_patch = EveryPatch([someone_writes_first])
    result = kubectl_kcr(api, BOB, "approve", NAME)
    assert result.exit_code == 1
    assert f"{NAME} kept changing while being annotated ({PATCH_ATTEMPTS} attempts)" in (
        result.output
    )
    assert len(writes) == PATCH_ATTEMPTS, "each attempt read the request again and patched once"
    assert "kcr.dev/approved-by" not in annotations(api)


def test_without_self_review_the_user_name_is_given(api: RunningApi) -> None:
    api.server.self_review = False
    api.put(request_with(Phase.AWAITING_APPROVAL))
    asked = kubectl_kcr(api, BOB, "approve", NAME)
    assert asked.exit_code == 1
    assert "cannot tell who you are" in asked.output
    assert "--username" in asked.output
    given = kubectl_kcr(api, BOB, "approve", NAME, "--username", "bob")
    assert given.exit_code == 0, given.output
    assert annotations(api)["kcr.dev/approved-by"] == "bob"


def test_a_username_that_is_not_you_is_refused(api: RunningApi) -> None:
    api.put(request_with(Phase.AWAITING_APPROVAL))
    result = kubectl_kcr(api, DAVE, "approve", NAME, "--username", "bob")
    assert result.exit_code == 1
    assert "--username bob is not you: the API server knows you as dave" in result.output


@pytest.mark.parametrize(
    ("phase", "command", "annotation", "value"),
    [
        (Phase.AWAITING_APPROVAL, "reject", "kcr.dev/rejected-by", "bob"),
        (Phase.EXECUTING, "abort", "kcr.dev/abort", "true"),
        (Phase.PAUSED, "continue", "kcr.dev/continue", "canary"),
    ],
)
def test_decisions_become_annotations(
    api: RunningApi, phase: Phase, command: str, annotation: str, value: str
) -> None:
    document = request_with(phase)
    api.put(document)
    result = kubectl_kcr(api, BOB, command, NAME)
    assert result.exit_code == 0, result.output
    stage = document["status"]["plan"]["stages"][0]["name"]
    assert annotations(api) == {annotation: stage if command == "continue" else value}


@pytest.mark.parametrize(
    ("phase", "command", "words"),
    [
        (Phase.SUCCEEDED, "abort", "it can be aborted only when"),
        (Phase.AWAITING_APPROVAL, "rollback", "it can be rolled back only when"),
        (Phase.AWAITING_APPROVAL, "continue", "it can be continued only when"),
        (Phase.SUCCEEDED, "reject", "it can be rejected only when"),
        (Phase.FAILED, "rollback", "it can be rolled back only when"),
    ],
)
def test_decisions_out_of_place_are_refused(
    api: RunningApi, phase: Phase, command: str, words: str
) -> None:
    api.put(request_with(phase))
    result = kubectl_kcr(api, BOB, command, NAME)
    assert result.exit_code == 1
    assert f"{NAME} is {phase.value}: {words}" in result.output
    assert annotations(api) == {}


@pytest.mark.parametrize("phase", [Phase.SUCCEEDED, Phase.PAUSED], ids=str)
def test_a_rollback_is_asked_for_in_the_askers_name(api: RunningApi, phase: Phase) -> None:
    api.put(request_with(phase))
    result = kubectl_kcr(api, BOB, "rollback", NAME)
    assert result.exit_code == 0, result.output
    assert annotations(api) == {
        "kcr.dev/rollback": "requested",
        "kcr.dev/rollback-requested-by": "bob",
    }
    review = "someone else approves it with approve-rollback" in result.output
    assert review == (phase is Phase.SUCCEEDED)


def test_a_rollback_is_approved_by_someone_other_than_its_asker(api: RunningApi) -> None:
    document = request_with(
        Phase.AWAITING_ROLLBACK_APPROVAL, **{"kcr.dev/rollback-requested-by": "erin"}
    )
    api.put(document)
    asker = kubectl_kcr(api, ERIN, "approve-rollback", NAME)
    assert asker.exit_code == 1
    assert f"erin asked for the rollback of {NAME} and may not approve it" in asker.output
    given = kubectl_kcr(api, BOB, "approve-rollback", NAME)
    assert given.exit_code == 0, given.output
    review_hash = document["status"]["rollbackReview"]["hash"]
    assert annotations(api) == {
        "kcr.dev/rollback-requested-by": "erin",
        "kcr.dev/rollback-approved-by": "bob",
        "kcr.dev/rollback-approved-hash": review_hash,
    }
    # carol requested the change itself: approving someone else's rollback of it is allowed
    second = kubectl_kcr(api, CAROL, "approve-rollback", NAME)
    assert second.exit_code == 0, second.output
    assert annotations(api)["kcr.dev/rollback-approved-by"] == "bob,carol"


def test_a_rollback_review_edited_in_status_is_not_approved(api: RunningApi) -> None:
    document = request_with(Phase.AWAITING_ROLLBACK_APPROVAL)
    document["status"]["rollbackReview"]["risk"] = "LOW"
    api.put(document)
    result = kubectl_kcr(api, BOB, "approve-rollback", NAME)
    assert result.exit_code == 1
    assert "is not the hash of the steps it lists" in result.output
    assert annotations(api) == {}


def test_describe_shows_the_rollback_review(api: RunningApi) -> None:
    api.put(
        request_with(
            Phase.AWAITING_ROLLBACK_APPROVAL,
            **{"kcr.dev/rollback-requested-by": "erin", "kcr.dev/rollback-approved-by": "bob"},
        )
    )
    result = kubectl_kcr(api, BOB, "describe", NAME)
    assert result.exit_code == 0, result.output
    assert "Rollback review" in result.output
    assert "erin" in result.output
    assert "may not approve it" in result.output
    assert "bob (annotated); 2 required" in result.output
    assert "restores a shorter retention" in result.output


def test_the_requester_may_not_continue_past_a_gate(api: RunningApi) -> None:
    api.put(request_with(Phase.PAUSED))
    result = kubectl_kcr(api, CAROL, "continue", NAME)
    assert result.exit_code == 1
    assert f"carol requested {NAME} and may not continue it" in result.output
    assert annotations(api) == {}


def test_abort_reaches_a_rollback_in_progress(api: RunningApi) -> None:
    api.put(request_with(Phase.ROLLING_BACK))
    result = kubectl_kcr(api, BOB, "abort", NAME)
    assert result.exit_code == 0, result.output
    assert annotations(api) == {"kcr.dev/abort": "true"}


def test_approvals_in_git_only_for_a_gitops_request(
    tmp_path: Path, ssh_key: Callable[[str], Any]
) -> None:
    path = tmp_path / "change.yaml"
    original = (ROOT / "manifests/examples/create-topic.yaml").read_text()
    path.write_text(original)
    key = str(ssh_key("bob").private)
    refused = CliRunner().invoke(
        cli, ["approve", "--file", str(path), "--username", "bob", "--key", key]
    )
    assert refused.exit_code == 1
    assert "spec.requestedBy.channel is kubectl" in refused.output
    assert path.read_text() == original


def test_approve_a_file_for_a_pull_request_with_signatures(
    tmp_path: Path, ssh_key: Callable[[str], Any]
) -> None:
    """Each approver signs the spec hash; the operator's verifier accepts both signatures."""
    path = tmp_path / "change.yaml"
    path.write_text((ROOT / "manifests/examples/alter-topic-config.yaml").read_text())
    runner = CliRunner()
    bob, erin = ssh_key("bob"), ssh_key("erin")
    for user, key in (("bob", bob), ("erin", erin)):
        approved = runner.invoke(
            cli, ["approve", "--file", str(path), "--username", user, "--key", str(key.private)]
        )
        assert approved.exit_code == 0, approved.output
    assert "signed by: bob, erin" in approved.output
    annotations = yaml.safe_load(path.read_text())["metadata"]["annotations"]
    assert set(annotations) == {"kcr.dev/approval-signatures"}
    signed = parse_signed_approvals(annotations["kcr.dev/approval-signatures"])
    signers = parse_allowed_signers(f"bob {bob.public}\nerin {erin.public}\n")
    verdict = verify_signed_approvals(signed, HASH, signers)
    assert (verdict.verified, verdict.failed) == (["bob", "erin"], [])
    reviewed = runner.invoke(kcr_cli, ["validate", str(path), "--json"])
    assert json.loads(reviewed.output)["specHash"] == HASH
    again = runner.invoke(
        cli, ["approve", "--file", str(path), "--username", "bob", "--key", str(bob.private)]
    )
    assert again.exit_code == 1
    assert "bob has already signed an approval" in again.output
    requester = runner.invoke(
        cli, ["approve", "--file", str(path), "--username", "carol", "--key", str(bob.private)]
    )
    assert requester.exit_code == 1
    assert "carol requested" in requester.output
    nameless = runner.invoke(cli, ["approve", "--file", str(path), "--key", str(bob.private)])
    assert nameless.exit_code == 2
    assert "--file needs --username" in nameless.output
    keyless = runner.invoke(cli, ["approve", "--file", str(path), "--username", "bob"])
    assert keyless.exit_code == 2
    assert "--file needs --key" in keyless.output


def test_describe_shows_rollback_progress_once_it_runs(api: RunningApi) -> None:
    document = request_with(Phase.ROLLING_BACK)
    undo = document["status"]["rollbackPlan"]["steps"]
    undo[0].update(state="Succeeded", result="restored retention.ms")
    api.put(document)
    result = kubectl_kcr(api, BOB, "describe", NAME)
    assert "Rollback progress" in result.output
    assert "restored retention.ms" in result.output
    api.put(request_with(Phase.EXECUTING))
    assert "Rollback progress" not in kubectl_kcr(api, BOB, "describe", NAME).output


def test_describe_says_why_a_rollback_began(api: RunningApi) -> None:
    document = request_with(Phase.ROLLBACK_FAILED)
    document["status"]["rollbackCause"] = "health gate after stage canary failed"
    api.put(document)
    output = kubectl_kcr(api, BOB, "describe", NAME).output
    assert "Rollback cause" in output
    assert "health gate after stage canary failed" in output
    api.put(request_with(Phase.EXECUTING))
    assert "Rollback cause" not in kubectl_kcr(api, BOB, "describe", NAME).output


def observed_topic(name: str, retention: str, source: str) -> dict[str, Any]:
    return {
        "capturedAt": "2026-11-25T08:00:00Z",
        "topics": [
            {
                "name": name,
                "partitions": 1,
                "replicationFactor": 1,
                "configs": {"retention.ms": {"value": retention, "source": source}},
            }
        ],
    }


def test_observed_diff_shows_what_moved() -> None:
    drafted = ObservedState.model_validate(observed_topic("orders", "604800000", "TopicOverride"))
    same = drafted.model_copy(update={"captured_at": NOW})
    assert observed_diff(drafted, same) == []
    moved = ObservedState.model_validate(observed_topic("orders", "3600000", "TopicOverride"))
    lines = observed_diff(drafted, moved)
    assert lines[0].startswith("--- spec.observed (captured 2026-11-25T08:00:00+00:00)")
    assert "-      value: '604800000'" in lines
    assert "+      value: '3600000'" in lines
    assert not any("capturedAt" in line for line in lines)


@pytest.mark.kafka
@pytest.mark.parametrize("forwarded", [False, True], ids=["direct", "through-kafka-bootstrap"])
def test_diff_against_the_live_broker(
    api: RunningApi, kafka_bootstrap: str, unique: str, forwarded: bool
) -> None:
    """From outside the cluster its in-cluster address does not resolve; the flag (or
    KCR_KAFKA_BOOTSTRAP) says where Kafka is reachable from here."""
    topic = f"{unique}.orders"

    async def create() -> None:
        kafka = open_kafka(kafka_bootstrap)
        try:
            await kinds.apply(
                kafka,
                CreateTopic(
                    topic=topic,
                    partitions=1,
                    replication_factor=1,
                    configs={"retention.ms": "3600000"},
                ),
            )
        finally:
            await kafka.close()

    asyncio.run(create())
    cluster = {
        "apiVersion": "kcr.dev/v1alpha1",
        "kind": "KafkaCluster",
        "metadata": {"name": "prod", "namespace": "kafka-ops"},
        "spec": {
            "bootstrapServers": "kafka.kafka.svc.invalid:9092" if forwarded else kafka_bootstrap
        },
    }
    api.server.objects[kmock.resource("kcr.dev/v1alpha1/kafkaclusters"), "kafka-ops", "prod"] = (
        cluster
    )
    document = copy.deepcopy(EXAMPLE)
    document["spec"]["change"]["alterTopicConfig"] = {
        "topics": [topic],
        "set": {"retention.ms": "86400000"},
    }
    document["spec"]["observed"] = observed_topic(topic, "604800000", "TopicOverride")
    api.put(document)
    flags = ["--kafka-bootstrap", kafka_bootstrap] if forwarded else []
    result = kubectl_kcr(api, BOB, "diff", NAME, "--exit-code", *flags)
    assert result.exit_code == 1, result.output
    assert "-      value: '604800000'" in result.output
    assert "+      value: '3600000'" in result.output
