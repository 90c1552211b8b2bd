"""The background sampler keeps its load on the brokers under --sample-max-requests."""

import pytest

from kcr import kinds
from kcr.kafka.fake import FakeKafka
from kcr.kinds.create_topic import CreateTopic
from kcr.mcp.sampler import GroupSampler, pause_after


@pytest.mark.parametrize(
    ("groups", "interval", "budget", "pause"),
    [
        (10, 15.0, 3000.0, 15.0),
        (1000, 15.0, 3000.0, 4004 * 60 / 3000),
        (1000, 90.0, 3000.0, 90.0),
        (5000, 1.0, 600.0, 20004 * 60 / 600),
    ],
    ids=["few groups: the interval", "1,000 groups: stretched", "long interval", "tight budget"],
)
def test_pause_keeps_requests_per_minute_within_the_budget(
    groups: int, interval: float, budget: float, pause: float
) -> None:
    found = pause_after(groups, interval, budget)
    assert found == pytest.approx(pause)
    assert (4 * groups + 4) * 60 / found <= budget + 1e-9


@pytest.mark.asyncio
async def test_the_sampler_paces_itself_by_the_groups_it_found() -> None:
    fake = FakeKafka()
    await kinds.apply(fake, CreateTopic(topic="orders", partitions=2, replication_factor=1))
    for index in range(1000):
        fake.cluster.commit(f"group-{index:04d}", {("orders", 0): 0})
    sampler = GroupSampler(fake, interval=15.0, max_requests_per_minute=3000.0)
    assert sampler.pause() == 15.0

    await sampler.sample()

    assert sampler.pause() == pytest.approx(4004 * 60 / 3000)
    assert len(sampler.samples("group-0999")) == 1
