"""Small pure parts of the operator: claims, metric labels, status parsing, Prometheus."""

import pytest

from kcr.engine import ChangeRequestView, StatusUnreadableError
from kcr.model import Phase
from kcr.operator.claims import ClaimBook
from kcr.operator.handlers import kind_and_risk, needs_attention
from kcr.operator.metrics import RequestBook
from kcr.operator.prometheus import PrometheusError, parse_result

ORDERS = "team-a/prod/topic/orders"


def test_blockers_come_from_the_index_and_this_process() -> None:
    book = ClaimBook()
    index = {ORDERS: [("team-a/old", "Executing")]}
    assert [b.request for b in book.blockers("team-a/new", frozenset({ORDERS}), index)] == [
        "team-a/old"
    ]
    book.record("team-a/old", Phase.SUCCEEDED, frozenset({ORDERS}))  # newer than the index
    assert book.blockers("team-a/new", frozenset({ORDERS}), index) == ()
    book.record("team-a/other", Phase.PAUSED, frozenset({ORDERS, "team-a/prod/group/g"}))
    (blocker,) = book.blockers("team-a/new", frozenset({ORDERS}), index)
    assert (blocker.request, blocker.phase, blocker.resources) == (
        "team-a/other",
        Phase.PAUSED,
        (ORDERS,),
    )
    assert book.blockers("team-a/other", frozenset({ORDERS}), index) == ()


@pytest.mark.parametrize(
    ("body", "labels"),
    [
        (
            {"spec": {"change": {"type": "CreateTopic"}}, "status": {"risk": "LOW"}},
            ("CreateTopic", "LOW"),
        ),
        (
            {"spec": {"change": {"type": "Whatever; DROP"}}, "status": {"risk": "huge"}},
            ("Unknown", "None"),
        ),
        ({"spec": {"change": "not an object"}}, ("Unknown", "None")),
        ({}, ("Unknown", "None")),
    ],
    ids=["known", "free-text", "malformed", "empty"],
)
def test_metric_labels_are_bounded(body: dict[str, object], labels: tuple[str, str]) -> None:
    assert kind_and_risk(body) == labels


@pytest.mark.parametrize(
    ("phase", "annotations", "needed"),
    [
        ("Executing", {}, True),
        ("Succeeded", {}, False),
        ("Succeeded", {"kcr.dev/rollback": "requested"}, True),
        ("RolledBack", {"kcr.dev/rollback": "requested"}, False),
        ("NotAPhase", {}, True),
    ],
)
def test_a_daemon_runs_only_while_there_is_work(
    phase: str, annotations: dict[str, str], needed: bool
) -> None:
    body = {"metadata": {"annotations": annotations}, "status": {"phase": phase}}
    assert needs_attention(body) is needed


def test_a_broken_status_is_refused_not_guessed() -> None:
    body = {"metadata": {"name": "x", "namespace": "a"}, "status": {"phase": "Sideways"}}
    with pytest.raises(StatusUnreadableError, match=r"status\.phase: must be one of"):
        ChangeRequestView.from_body(body)


def test_status_fields_of_others_are_ignored() -> None:
    body = {"metadata": {"name": "x"}, "status": {"phase": "Approved", "kopf": {"progress": {}}}}
    assert ChangeRequestView.from_body(body).status.phase is Phase.APPROVED


def test_prometheus_answers_are_parsed() -> None:
    data = {
        "resultType": "vector",
        "result": [{"metric": {"__name__": "up", "job": "kafka"}, "value": [1.0, "0"]}],
    }
    (sample,) = parse_result(data)
    assert sample.describe() == 'up{job="kafka"} = 0'
    with pytest.raises(
        PrometheusError, match="expected an instant vector, got resultType 'matrix'"
    ):
        parse_result({"resultType": "matrix", "result": []})


def phase_ages(book: RequestBook) -> dict[str, float]:
    return {
        s.labels["phase"]: s.value
        for family in book.collect()
        if family.name == "kcr_request_phase_age_seconds"
        for s in family.samples
    }


def test_phase_age_is_the_longest_any_request_has_been_in_its_phase() -> None:
    now = [0.0]
    book = RequestBook(clock=lambda: now[0])
    book.record("a", "Pending", "CreateTopic", "LOW")
    now[0] = 10.0
    book.record("a", "Executing", "CreateTopic", "LOW")
    now[0] = 50.0
    book.record("b", "Executing", "DeleteTopic", "CRITICAL")
    book.record("c", "Pending", "DeleteTopic", "CRITICAL")
    now[0] = 70.0
    book.record("a", "Executing", "CreateTopic", "MEDIUM")  # same phase: the age goes on
    now[0] = 100.0
    ages = phase_ages(book)
    assert ages == {"Executing": 90.0, "Pending": 50.0}
    book.forget("a")
    ages = phase_ages(book)
    assert ages == {"Executing": 50.0, "Pending": 50.0}
