"""The API server (CRD schema plus CEL rules) and pydantic accept and reject the same changes.

Hypothesis draws ``spec.change`` objects, most of them broken in one way or another:
topic names, partition counts, union shapes, offset targets, ACL bindings, config keys.
Each is put into an otherwise valid KafkaChangeRequest and judged twice: by ``admit``
(what the API server does with the CRD) and by pydantic. The verdicts must agree.

Where the two disagree on purpose, generation stays out of the way, and here is why.

pydantic is stricter (the API server lets these through; the operator marks the request
Invalid with pydantic's message):

- topic configuration values and unknown keys: the per-key value rules
  (``kcr.model.topic_configs``) are a table of types and ranges that CEL would repeat
  badly; the API server checks key spelling, length and count, and value length.
- duplicate topics in ``alterTopicConfig.topics``: the list is ordered (the first topic is
  the canary), so it cannot be a list-type set, and a pairwise CEL rule would be charged
  for every step of every stage.
- ``resetConsumerGroupOffsets.to.offsets`` naming a partition twice or a topic outside
  ``topics``, and a binding both added and removed in ``alterAcls``: pairwise comparisons
  over lists of up to 10,000 items, beyond the API server's CEL cost budget.

The API server is stricter (pydantic reads more than the API server's JSON does):

- timestamps: the API server takes RFC 3339 with seconds and a zone only; pydantic also
  reads dates, times without seconds, a space instead of ``T`` and Unix seconds.
- integers beyond int64, and strings, floats and booleans that pydantic's lax mode turns
  into numbers (``"3"``, ``3.0``, ``true``).

And one gap of the test itself: ``admit`` checks patterns with Python's ``re``, whose
``\\s`` also matches non-ASCII spaces and ``\\v``; RE2 (the API server's) does not, so
principals are drawn from ASCII without ``\\v``.
"""

import json
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kcr.model import KafkaChangeRequestSpec

from .test_crd_apiserver import admit
from .test_crd_cel import MEMBERS, change_request

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


def mostly(valid: st.SearchStrategy[Any], broken: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid four times in five, so that one broken field usually decides the verdict."""
    return st.integers(0, 4).flatmap(lambda roll: broken if roll == 0 else valid)


# --- names --------------------------------------------------------------------------------

TOPIC_CHARS = string.ascii_letters + string.digits + "._-"
BAD_CHARS = "/ :,*é\n\t"
valid_topics = st.one_of(
    st.text(TOPIC_CHARS, min_size=1, max_size=12).filter(lambda t: t not in {".", ".."}),
    st.sampled_from(["...", "._", "t" * 249]),
)
topic_names = mostly(
    valid_topics,
    st.one_of(
        st.sampled_from([".", "..", "", "a/b", "orders ", "ørders", "orders\n", "t" * 250]),
        st.text(TOPIC_CHARS + BAD_CHARS, min_size=1, max_size=6),
    ),
)
group_ids = mostly(
    st.one_of(st.text(TOPIC_CHARS + ":", min_size=1, max_size=12), st.just("g" * 255)),
    st.sampled_from(["", "billing/eu", "g" * 256, "billing eu"]),
)
kube_names = mostly(
    st.sampled_from(["billing", "billing-v2", "a.b", "b" * 253]),
    st.sampled_from(["Billing", "-billing", "", "b" * 254, "a..b", "a_b"]),
)
principals = mostly(
    st.sampled_from(["User:alice", "User:*", "Group:ops", "User:CN=alice.example"]),
    st.one_of(
        st.sampled_from(["alice", "User:", "User:a b", "1:x", "User:a;b"]),
        st.text(string.ascii_letters + ":;$ \t", min_size=1, max_size=10),
    ),
)

# --- numbers ------------------------------------------------------------------------------


def counts(low: int, high: int) -> st.SearchStrategy[Any]:
    """Inside the bounds mostly; else just outside them, or of the wrong JSON type."""
    return mostly(
        st.one_of(st.integers(low, high), st.sampled_from([low, high])),
        st.one_of(
            st.sampled_from([low - 1, high + 1, -1, 2**40]),
            st.sampled_from([None, 2.5, "many", [3], {"n": 3}]),
        ),
    )


# --- topic configuration ------------------------------------------------------------------

KNOWN_VALUES = {
    "retention.ms": "86400000",
    "retention.bytes": "-1",
    "cleanup.policy": "compact,delete",
    "min.insync.replicas": "2",
    "segment.ms": "3600000",
    "max.message.bytes": "1048588",
}
BAD_KEYS = ["retention ms", "", "a/b", "k" * 256, "ключ"]


@st.composite
def configs(draw: st.DrawFn, allow_unknown: bool) -> dict[str, str]:
    """Known keys with legal values, badly spelled keys, and (when allowed) unknown keys."""
    chosen = dict(draw(st.lists(st.sampled_from(sorted(KNOWN_VALUES.items())), max_size=3)))
    if draw(st.integers(0, 5)) == 0:
        chosen[draw(st.sampled_from(BAD_KEYS))] = "1"
    if allow_unknown:
        many = draw(st.integers(0, 9)) == 0
        extra = draw(st.integers(60, 66)) if many else draw(st.integers(0, 3))
        chosen.update({f"custom.key.{i}": "x" for i in range(extra)})
        if draw(st.integers(0, 9)) == 0:
            chosen["custom.long"] = "v" * draw(st.sampled_from([4096, 4097]))
    return chosen


# --- members ------------------------------------------------------------------------------


def maybe_drop(draw: st.DrawFn, member: dict[str, Any], *required: str) -> dict[str, Any]:
    """Now and then leave out a required field, or add one the model does not have."""
    roll = draw(st.integers(0, 14))
    if roll == 0 and required:
        gone = draw(st.sampled_from(required))
        member = {k: v for k, v in member.items() if k != gone}
    elif roll == 1:
        member = {**member, "colour": "blue"}
    return member


@st.composite
def create_topic(draw: st.DrawFn) -> dict[str, Any]:
    allow = draw(st.booleans())
    member = {
        "topic": draw(topic_names),
        "partitions": draw(counts(1, 10_000)),
        "replicationFactor": draw(counts(1, 32)),
        "configs": draw(configs(allow)),
    }
    if allow or draw(st.booleans()):
        member["allowUnknownKeys"] = allow
    return maybe_drop(draw, member, "topic", "partitions", "replicationFactor")


@st.composite
def increase_partitions(draw: st.DrawFn) -> dict[str, Any]:
    member = {"topic": draw(topic_names), "partitions": draw(counts(2, 10_000))}
    return maybe_drop(draw, member, "topic", "partitions")


@st.composite
def alter_topic_config(draw: st.DrawFn) -> dict[str, Any]:
    allow = draw(st.booleans())
    topics = draw(st.lists(topic_names, min_size=1, max_size=4, unique=True))
    roll = draw(st.integers(0, 19))
    if roll == 0:
        topics = [f"t{i}" for i in range(draw(st.integers(99, 101)))]
    elif roll == 1:
        topics = []
    set_ = draw(configs(allow))
    delete_keys = sorted(KNOWN_VALUES) + (["custom.gone", "bad key"] if allow else [])
    delete = draw(st.lists(st.sampled_from(delete_keys), max_size=2, unique=True))
    member: dict[str, Any] = {"topics": topics, "set": set_, "delete": delete}
    if allow:
        member["allowUnknownKeys"] = True
    return maybe_drop(draw, member, "topics", "set")


TIMESTAMPS = mostly(
    st.sampled_from(["2026-11-25T08:00:00Z", "2026-11-25T08:00:00.5+01:00"]),
    st.sampled_from(["2026-11-25T08:00:00", "2026-11-25T25:00:00Z", "yesterday"]),
)


@st.composite
def offset_targets(draw: st.DrawFn, topics: list[str]) -> dict[str, Any]:
    """Any subset of the five targets; explicit offsets only on listed topics, once each."""
    offset = mostly(st.integers(0, 2**40), st.sampled_from([-1, None, "ten"]))
    partitions = st.lists(counts(0, 9_999), min_size=1, max_size=2, unique_by=repr)
    offsets = [
        {"topic": topic, "partition": partition, "offset": draw(offset)}
        for topic in topics[:2]
        for partition in draw(partitions)
    ]
    options = {
        "earliest": mostly(st.just(True), st.just(False)),
        "latest": mostly(st.just(True), st.just(False)),
        "timestamp": TIMESTAMPS,
        "offsets": st.just(offsets),
        "shiftBy": mostly(st.integers(-1000, 1000), st.just("ten")),
    }
    size = draw(st.sampled_from([1, 1, 1, 0, 2, 3]))
    names = draw(
        st.lists(st.sampled_from(sorted(options)), min_size=size, max_size=size, unique=True)
    )
    return {name: draw(options[name]) for name in names}


@st.composite
def reset_offsets(draw: st.DrawFn) -> dict[str, Any]:
    topics = draw(st.lists(topic_names, min_size=1, max_size=3))
    member: dict[str, Any] = {
        "group": draw(group_ids),
        "topics": topics,
        "to": draw(offset_targets(topics)),
    }
    if draw(st.booleans()):
        member["scaleDeployment"] = {"namespace": draw(kube_names), "name": draw(kube_names)}
    return maybe_drop(draw, member, "group", "topics", "to")


RESOURCE_OPERATIONS = {
    "Topic": ["Read", "Write", "Describe", "AlterConfigs", "All"],
    "Group": ["Read", "Delete", "All"],
    "Cluster": ["Alter", "IdempotentWrite", "ClusterAction", "All"],
    "TransactionalId": ["Write", "Describe"],
    "DelegationToken": ["Describe"],
    "User": ["CreateTokens", "DescribeTokens"],
}
ALL_OPERATIONS = sorted({op for ops in RESOURCE_OPERATIONS.values() for op in ops} | {"Create"})


@st.composite
def bindings(draw: st.DrawFn, principal: str) -> dict[str, Any]:
    resource_type = draw(mostly(st.sampled_from(sorted(RESOURCE_OPERATIONS)), st.just("Db")))
    operations = RESOURCE_OPERATIONS.get(resource_type, ["Read"])
    name = "kafka-cluster" if resource_type == "Cluster" else "orders"
    binding = {
        "resourceType": resource_type,
        "resourceName": draw(
            mostly(st.just(name), st.sampled_from(["*", "pay.", "a b", "", name]))
        ),
        "principal": draw(mostly(st.just(principal), principals)),
        "operation": draw(
            mostly(st.sampled_from(operations), st.sampled_from([*ALL_OPERATIONS, "Fly"]))
        ),
    }
    for key, (good, bad) in {
        "patternType": (["Literal", "Prefixed"], ["Match"]),
        "host": (["*", "10.0.0.1"], ["a host"]),
        "permission": (["Allow", "Deny"], ["Maybe"]),
    }.items():
        if draw(st.booleans()):
            binding[key] = draw(mostly(st.sampled_from(good), st.sampled_from(bad)))
    return binding


@st.composite
def alter_acls(draw: st.DrawFn) -> dict[str, Any]:
    # Different principals in add and remove: no binding can be both (a pydantic-only rule).
    member = {
        "add": draw(st.lists(bindings("User:alice"), max_size=2)),
        "remove": draw(st.lists(bindings("User:bob"), max_size=2)),
    }
    if any(b["principal"] == c["principal"] for b in member["add"] for c in member["remove"]):
        member["remove"] = []
    return maybe_drop(draw, member, "add", "remove")


@st.composite
def delete_topic(draw: st.DrawFn) -> dict[str, Any]:
    return maybe_drop(draw, {"topic": draw(topic_names)}, "topic")


QUOTA_NAMES = mostly(
    st.one_of(st.text(TOPIC_CHARS + ":@ ", min_size=1, max_size=12), st.just("<default>")),
    st.sampled_from(["", "User:alice", "line\nbreak", "u" * 256]),
)
BYTE_RATES = mostly(st.integers(1, 2**40), st.sampled_from([0, -1]))


@st.composite
def quota_values(draw: st.DrawFn) -> dict[str, Any]:
    """Byte rates are drawn whole: pydantic alone refuses a fraction (Kafka keeps a LONG)."""
    keys = {
        "producer_byte_rate": st.one_of(BYTE_RATES, st.none()),
        "consumer_byte_rate": st.one_of(BYTE_RATES, st.none()),
        "request_percentage": st.one_of(
            mostly(st.floats(0.01, 1000, allow_nan=False), st.just(0.0)), st.none()
        ),
        "fetch_rate": st.just(1),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(keys)), unique=True, max_size=3))
    return {key: draw(keys[key]) for key in chosen}


@st.composite
def alter_client_quotas(draw: st.DrawFn) -> dict[str, Any]:
    """Entities differ by construction: a repeated one is a pairwise rule only pydantic has."""
    entities = []
    for index in range(draw(st.integers(0, 2))):
        entity: dict[str, Any] = {"quotas": draw(quota_values())}
        if draw(st.integers(0, 5)):
            entity["user"] = draw(QUOTA_NAMES)
        if draw(st.booleans()):
            entity["clientId"] = f"app-{index}"
        if all(
            (e.get("user"), e.get("clientId")) != (entity.get("user"), entity.get("clientId"))
            for e in entities
        ):
            entities.append(entity)
    return maybe_drop(draw, {"entities": entities}, "entities")


@st.composite
def restart_workload(draw: st.DrawFn) -> dict[str, Any]:
    member: dict[str, Any] = {
        "group": draw(group_ids),
        "deployment": maybe_drop(
            draw, {"namespace": draw(kube_names), "name": draw(kube_names)}, "namespace", "name"
        ),
    }
    if draw(st.booleans()):
        timeouts = mostly(st.integers(30, 3600), st.sampled_from([0, 29, 3601]))
        member["rejoinTimeoutSeconds"] = draw(timeouts)
    return maybe_drop(draw, member, "group", "deployment")


MEMBER_STRATEGIES = {
    "AlterClientQuotas": alter_client_quotas(),
    "RestartWorkload": restart_workload(),
    "CreateTopic": create_topic(),
    "IncreasePartitions": increase_partitions(),
    "AlterTopicConfig": alter_topic_config(),
    "ResetConsumerGroupOffsets": reset_offsets(),
    "AlterAcls": alter_acls(),
    "DeleteTopic": delete_topic(),
}


@st.composite
def well_formed_changes(draw: st.DrawFn) -> dict[str, Any]:
    """``type`` and the member it names; the member itself may be broken."""
    kind = draw(st.sampled_from(sorted(MEMBER_STRATEGIES)))
    return {"type": kind, MEMBERS[kind][0]: draw(MEMBER_STRATEGIES[kind])}


@st.composite
def union_shapes(draw: st.DrawFn) -> dict[str, Any]:
    """Any ``type`` (or none) with any set of members, valid ones, broken ones or null."""
    change: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        change["type"] = draw(st.sampled_from([*sorted(MEMBER_STRATEGIES), "ScaleDeployment"]))
    for kind in draw(st.lists(st.sampled_from(sorted(MEMBER_STRATEGIES)), max_size=3)):
        valid = st.just(MEMBERS[kind][1])
        change[MEMBERS[kind][0]] = draw(st.one_of(valid, st.none(), MEMBER_STRATEGIES[kind]))
    return change


# --- the property -------------------------------------------------------------------------


def assert_agreement(change: dict[str, Any]) -> None:
    resource = json.loads(json.dumps(change_request(change)))
    server_errors = admit("KafkaChangeRequest", resource)
    try:
        KafkaChangeRequestSpec.model_validate(resource["spec"])
        model_errors = ""
    except ValidationError as error:
        model_errors = str(error)
    assert (server_errors == []) == (model_errors == ""), (
        f"API server: {server_errors or 'admitted'}\npydantic: {model_errors or 'accepted'}"
    )


@SETTINGS
@given(well_formed_changes())
def test_member_checks_agree(change: dict[str, Any]) -> None:
    assert_agreement(change)


@SETTINGS
@given(union_shapes())
def test_union_shape_checks_agree(change: dict[str, Any]) -> None:
    assert_agreement(change)


@SETTINGS
@given(reset_offsets())
def test_offset_target_checks_agree(member: dict[str, Any]) -> None:
    assert_agreement({"type": "ResetConsumerGroupOffsets", "resetConsumerGroupOffsets": member})


@SETTINGS
@given(topic_names, counts(1, 10_000))
def test_topic_name_and_partition_checks_agree(topic: str, partitions: Any) -> None:
    create = {"topic": topic, "partitions": partitions, "replicationFactor": 3}
    assert_agreement({"type": "CreateTopic", "createTopic": create})


def _admitted(change: dict[str, Any]) -> bool:
    return admit("KafkaChangeRequest", json.loads(json.dumps(change_request(change)))) == []


@pytest.mark.parametrize(
    "strategy", [well_formed_changes(), union_shapes()], ids=["members", "union-shapes"]
)
def test_generators_reach_both_verdicts(strategy: st.SearchStrategy[dict[str, Any]]) -> None:
    """An agreement over changes that are all refused (or all admitted) would prove little."""
    search = settings(max_examples=2000, database=None, deadline=None)
    find(strategy, _admitted, settings=search)
    find(strategy, lambda change: not _admitted(change), settings=search)
