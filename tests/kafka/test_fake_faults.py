"""The fake's fault knobs, so operator and MCP tests can make gates fail on purpose."""

import asyncio

import pytest
from pydantic.alias_generators import to_snake

from kcr import kinds
from kcr.kafka import (
    ConflictError,
    GroupNotEmptyError,
    InvalidRequestError,
    KafkaTimeoutError,
    NotFoundError,
    UnavailableError,
    UnsupportedByBrokerError,
)
from kcr.kafka.fake import FakeCluster, FakeKafka
from kcr.kafka.readmodel import OPTIONAL_FEATURES as FEATURES
from kcr.kafka.settings import ClientSettings
from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.increase_partitions import IncreasePartitions
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.model import AclBinding, AclOperation, AclResourceType, GroupState, OffsetTarget, Operation

pytestmark = pytest.mark.asyncio


async def _fake_with_topic(partitions: int = 3, replicas: int = 3) -> FakeKafka:
    fake = FakeKafka()
    await kinds.apply(
        fake,
        CreateTopic(
            topic="orders",
            partitions=partitions,
            replication_factor=replicas,
            configs={"min.insync.replicas": "2"},
        ),
    )
    return fake


async def test_offline_partition_fails_the_gate() -> None:
    fake = await _fake_with_topic()
    fake.cluster.take_offline("orders", 1)
    verdict = await fake.probe_offline_partitions(["orders"])
    assert not verdict.passed
    assert verdict.value("offlinePartitions") == 1
    assert verdict.message == "1 partition(s) have no leader: orders/1"
    overview = await fake.cluster_overview()
    assert overview.offline_partitions == 1


async def test_under_replication_is_judged_against_the_baseline() -> None:
    fake = await _fake_with_topic()
    fake.cluster.set_isr("orders", 0, [0])
    fake.cluster.set_isr("orders", 2, [2, 0])
    at_baseline = await fake.probe_under_replicated(baseline=2)
    above = await fake.probe_under_replicated(baseline=1)
    assert at_baseline.passed
    assert not above.passed
    assert above.value("underReplicatedPartitions") == 2
    assert "above the limit of 1: orders/0, orders/2" in above.message


async def test_isr_below_min_insync_fails() -> None:
    fake = await _fake_with_topic()
    fake.cluster.set_isr("orders", 2, [2])
    verdict = await fake.probe_min_insync(["orders"])
    assert not verdict.passed
    assert verdict.measurements[0].value == 1
    assert verdict.measurements[0].limit == 2
    assert verdict.message == "1 partition(s) below min.insync.replicas: orders/2 (ISR 1 < 2)"


async def test_rebalancing_group_fails_the_state_probe() -> None:
    fake = await _fake_with_topic()
    fake.cluster.commit("billing", {("orders", 0): 0})
    fake.cluster.set_group_state("billing", GroupState.PREPARING_REBALANCE)
    verdict = await fake.probe_group_state(["billing"])
    assert not verdict.passed
    assert verdict.message == "billing is PreparingRebalance"


async def test_members_block_a_reset_and_are_described() -> None:
    fake = await _fake_with_topic()
    fake.cluster.join("billing", "m-1", client_id="billing-7f9", host="/10.0.0.7")
    (described,) = await fake.describe_consumer_groups(["billing"])
    assert [(m.client_id, m.host) for m in described.members] == [("billing-7f9", "/10.0.0.7")]
    assert described.generation == 1
    reset = ResetConsumerGroupOffsets(
        group="billing", topics=["orders"], to=OffsetTarget(earliest=True)
    )
    with pytest.raises(GroupNotEmptyError) as caught:
        await kinds.apply(fake, reset)
    assert caught.value.members == 1
    assert "billing-7f9" in caught.value.message
    verdict = await fake.probe_group_state(["billing"], max_members=0)
    assert verdict.message == "billing has 1 member(s), more than 0"


@pytest.mark.parametrize(
    "state",
    [GroupState.STABLE, GroupState.PREPARING_REBALANCE, GroupState.COMPLETING_REBALANCE],
    ids=["stable", "preparing-rebalance", "completing-rebalance"],
)
async def test_an_active_state_without_listed_members_blocks_a_reset(state: GroupState) -> None:
    """As tansu describes a group with members: Stable, and no member listed."""
    fake = await _fake_with_topic()
    fake.cluster.commit("billing", {("orders", 0): 0})
    fake.cluster.set_group_state("billing", state)
    reset = ResetConsumerGroupOffsets(
        group="billing", topics=["orders"], to=OffsetTarget(earliest=True)
    )
    with pytest.raises(GroupNotEmptyError) as caught:
        await kinds.apply(fake, reset)
    assert caught.value.members is None
    assert caught.value.message.startswith(
        f"group billing is {state.value}, so it has active members although the broker lists none"
    )
    verdict = await fake.probe_group_state(
        ["billing"], allowed=(GroupState.EMPTY, state), max_members=0
    )
    assert not verdict.passed
    assert verdict.message == (
        f"billing is {state.value}, so it has active members although the broker lists none"
    )
    assert fake.cluster.groups["billing"].committed == {("orders", 0): 0}


async def test_an_empty_group_passes_the_emptiness_probe() -> None:
    fake = await _fake_with_topic()
    fake.cluster.commit("billing", {("orders", 0): 0})
    verdict = await fake.probe_group_state(["billing"], max_members=0)
    assert verdict.passed, verdict.message


async def test_a_conflict_other_than_an_existing_topic_is_not_taken_for_one() -> None:
    fake = FakeKafka()
    fake.cluster.fail(
        "create_topic",
        ConflictError(
            "create topic orders: busy (REASSIGNMENT_IN_PROGRESS)", code="REASSIGNMENT_IN_PROGRESS"
        ),
    )
    with pytest.raises(ConflictError, match="REASSIGNMENT_IN_PROGRESS") as caught:
        await kinds.apply(fake, CreateTopic(topic="orders", partitions=1, replication_factor=1))
    assert caught.value.code == "REASSIGNMENT_IN_PROGRESS"
    assert "orders" not in fake.cluster.topics


class SlowMetadataCluster(FakeCluster):
    """A controller that accepts a creation that brokers' metadata never shows."""

    async def create_topic(
        self, topic: str, partitions: int, replication_factor: int, configs: dict[str, str]
    ) -> None:
        self._enter("create_topic")


async def test_a_write_waits_for_its_effect_for_the_operation_timeout() -> None:
    settings = ClientSettings(operation_timeout=0.4)
    fake = FakeKafka(SlowMetadataCluster(settings=settings))
    started = asyncio.get_running_loop().time()
    with pytest.raises(KafkaTimeoutError, match="did not show the new topic"):
        await kinds.apply(fake, CreateTopic(topic="orders", partitions=1, replication_factor=1))
    waited = asyncio.get_running_loop().time() - started
    assert 0.4 <= waited < 1.5


@pytest.mark.parametrize(
    "error",
    [
        KafkaTimeoutError("describe topic orders: no answer within 10s"),
        UnavailableError("no broker is reachable"),
    ],
    ids=["timeout", "unavailable"],
)
async def test_failing_calls_raise_then_recover(error: Exception) -> None:
    fake = await _fake_with_topic()
    fake.cluster.fail("metadata", error, times=2)
    for _ in range(2):
        with pytest.raises(type(error), match=str(error)):
            await fake.describe_topics(["orders"])
    (topic,) = await fake.describe_topics(["orders"])
    assert topic.name == "orders"


async def test_fault_on_an_unknown_call_is_refused() -> None:
    with pytest.raises(ValueError, match="'produce_everything' is not a primitive"):
        FakeCluster().fail("produce_everything", UnavailableError("x"))


def _binding() -> AclBinding:
    return AclBinding(
        resource_type=AclResourceType.TOPIC,
        resource_name="orders",
        principal="User:alice",
        operation=AclOperation.READ,
    )


@pytest.mark.parametrize(
    ("missing", "change", "refused"),
    [
        ("createPartitions", IncreasePartitions(topic="orders", partitions=2), "CreatePartitions"),
        ("describeAcls", AlterAcls(add=[_binding()]), "DescribeAcls"),
        ("createAcls", AlterAcls(add=[_binding()]), "CreateAcls"),
        ("deleteAcls", AlterAcls(remove=[_binding()]), "DeleteAcls"),
    ],
    ids=["create-partitions", "describe-acls", "create-acls", "delete-acls"],
)
async def test_a_cluster_without_an_optional_api(
    missing: str, change: IncreasePartitions | AlterAcls, refused: str
) -> None:
    """Each API on its own: the others keep working."""
    fake = FakeKafka(FakeCluster(**{to_snake(missing): False}))
    await kinds.apply(fake, CreateTopic(topic="orders", partitions=1, replication_factor=1))
    if isinstance(change, AlterAcls) and change.remove:
        fake.cluster.acls.append(_binding())
    capabilities = await fake.capabilities()
    served = {f for f in FEATURES if capabilities.serves(f)}
    assert served == FEATURES - {missing}
    with pytest.raises(UnsupportedByBrokerError, match=refused):
        await kinds.apply(fake, Operation.of(change))


async def test_retention_moves_the_log_start() -> None:
    fake = await _fake_with_topic(partitions=1, replicas=1)
    fake.cluster.produce("orders", 0, 10)
    fake.cluster.commit("billing", {("orders", 0): 2})
    fake.cluster.truncate("orders", 0, 6)
    report = await fake.lag_report(["billing"])
    (row,) = report.groups[0].topics[0].partitions
    assert (row.committed, row.log_start, row.log_end, row.lag) == (2, 6, 10, 8)


async def test_a_closed_port_is_unavailable() -> None:
    fake = await _fake_with_topic()
    await fake.close()
    with pytest.raises(UnavailableError, match="closed"):
        await fake.list_topics()


async def test_the_fake_validates_like_a_broker() -> None:
    fake = FakeKafka(FakeCluster(brokers=1))
    with pytest.raises(InvalidRequestError, match=r"only 1 broker\(s\) are registered"):
        await kinds.apply(fake, CreateTopic(topic="t", partitions=1, replication_factor=2))
    with pytest.raises(NotFoundError, match="topic nope does not exist"):
        await fake.cluster.delete_topic("nope")


async def test_topic_names_are_lists_not_strings() -> None:
    fake = FakeKafka()
    with pytest.raises(InvalidRequestError, match="topics must be a list of names"):
        await fake.describe_topics("orders")  # type: ignore[arg-type]
