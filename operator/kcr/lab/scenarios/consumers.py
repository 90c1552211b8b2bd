"""Consumer incidents whose answer is not a Kafka change: a slow consumer, a rebalance storm."""

import asyncio

from kcr.kafka.clients import flapping_consumer, slow_consumer, steady_producer
from kcr.lab.context import LabContext
from kcr.lab.scenario import NO_CHANGE, Expectation, ReadBack, Scenario, Ticket, register


async def _configs_unchanged(lab: LabContext, topic: str, read_back: ReadBack) -> None:
    (configs,) = await lab.admin.topic_configs([topic])
    overrides = sorted(k for k, v in configs.configs.items() if v.source.value == "TopicOverride")
    read_back.add("topic untouched", not overrides, f"overrides on {topic}: {overrides or 'none'}")


@register
class SlowConsumer(Scenario):
    name = "slow-consumer"
    title = "Slow consumer: members present, lag growing"
    expectation = Expectation(cause="SlowConsumer", proposal=NO_CHANGE)
    settle_seconds = 8.0

    async def build(self, lab: LabContext) -> Ticket:
        topic = await lab.create_topic("payments")
        group = lab.group("settlement")
        lab.run(steady_producer(lab.kafka.admin_settings, topic, 40, name="producer"))
        lab.run(slow_consumer(lab.kafka.admin_settings, group, topic, 8, name="consumer"))
        self.topic = topic
        await asyncio.sleep(4)
        return Ticket(
            text=f"settlement is behind on {topic}; its pods are up. What is wrong?",
            group=group,
        )

    async def read_back(self, lab: LabContext, drafted: bool) -> ReadBack:
        read_back = ReadBack()
        await _configs_unchanged(lab, self.topic, read_back)
        return read_back


@register
class RebalanceStorm(Scenario):
    name = "rebalance-storm"
    title = "Rebalance storm: members joining and leaving"
    expectation = Expectation(cause="RebalanceStorm", proposal=NO_CHANGE)
    settle_seconds = 12.0

    async def build(self, lab: LabContext) -> Ticket:
        topic = await lab.create_topic("clicks")
        group = lab.group("sessionizer")
        lab.run(steady_producer(lab.kafka.admin_settings, topic, 20, name="producer"))
        lab.run(slow_consumer(lab.kafka.admin_settings, group, topic, 50, name="steady-member"))
        lab.run(flapping_consumer(lab.kafka.admin_settings, group, topic, 2.0, name="crashloop"))
        self.topic = topic
        return Ticket(
            text=f"sessionizer on {topic} keeps stalling; its pods restart now and then.",
            group=group,
        )

    async def read_back(self, lab: LabContext, drafted: bool) -> ReadBack:
        read_back = ReadBack()
        await _configs_unchanged(lab, self.topic, read_back)
        return read_back
