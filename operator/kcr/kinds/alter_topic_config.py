"""AlterTopicConfig: set keys or remove overrides on topics, canary first, then batches.

Reversible from the snapshot's values, except where the new value deletes records while
it holds (a shorter retention, compaction): those records do not come back.
"""

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from kcr.crd.rules import Rule
from kcr.kafka.results import ApplyResult
from kcr.kinds.base import CONTEXT_KEYS, KindBase, StepPorts
from kcr.model import (
    Assessment,
    ClusterPolicy,
    ConfigSource,
    Facts,
    Inverse,
    ObservedState,
    ObservedTopic,
    Risk,
    Stage,
    explain,
)
from kcr.model.base import KubeModel
from kcr.model.change import (
    MAX_CONFIG_KEYS,
    MAX_TOPICS_PER_CHANGE,
    ConfigValues,
    check_config_values,
)
from kcr.model.names import TopicName
from kcr.model.strimzi import ResourceEdit
from kcr.model.topic_configs import check_config_key
from kcr.plan.steps import make_step
from kcr.policy.data_loss import config_data_losses, config_data_risks, observed_value_problems
from kcr.policy.limits import missing_topics, retention_floor, too_many_topics
from kcr.policy.strimzi_specs import topic_config_edit


class AlterTopicConfig(KubeModel):
    topics: Annotated[
        list[TopicName],
        Field(
            min_length=1,
            max_length=MAX_TOPICS_PER_CHANGE,
            description="Topics to change; the first is the canary",
        ),
    ]
    allow_unknown_keys: bool = Field(
        default=False, description="Pass configuration keys kcr does not know to the broker"
    )
    set: ConfigValues = Field(default_factory=dict)
    delete: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=255)]],
        Field(max_length=MAX_CONFIG_KEYS, description="Keys whose topic override is removed"),
    ] = Field(default_factory=list)

    CEL_RULES: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "(has(self.set) && size(self.set) > 0) || (has(self.delete) && size(self.delete) > 0)",
            "nothing to change: give at least one key in 'set' or 'delete'",
        ),
        Rule(
            "!has(self.set) || !has(self.delete) || self.delete.all(k, !(k in self.set))",
            "a key cannot be both set and deleted",
            spec_only=True,
        ),
    )
    """What the API server checks before pydantic does (see :mod:`kcr.crd.rules`)."""

    _set_is_legal = field_validator("set")(check_config_values)

    @field_validator("delete")
    @classmethod
    def _delete_keys_known(cls, keys: list[str], info: ValidationInfo) -> list[str]:
        for key in keys:
            check_config_key(key, allow_unknown=bool(info.data.get("allow_unknown_keys")))
        return keys

    @field_validator("topics")
    @classmethod
    def _topics_unique(cls, topics: list[str]) -> list[str]:
        duplicates = sorted({t for t in topics if topics.count(t) > 1})
        if duplicates:
            raise ValueError(f"each topic may appear once; repeated: {', '.join(duplicates)}")
        return topics

    @model_validator(mode="after")
    def _keys_are_legal(self) -> Self:
        if not self.set and not self.delete:
            raise ValueError("nothing to change: give at least one key in 'set' or 'delete'")
        both = sorted(set(self.set) & set(self.delete))
        if both:
            raise ValueError(f"a key cannot be both set and deleted: {', '.join(both)}")
        return self


class AlterTopicConfigKind(KindBase[AlterTopicConfig]):
    model = AlterTopicConfig

    def topics(self, member: AlterTopicConfig) -> list[str]:
        return list(member.topics)

    def describe(self, member: AlterTopicConfig) -> str:
        changes = [f"{k}={v}" for k, v in member.set.items()]
        changes += [f"remove {k} override" for k in member.delete]
        return f"on {', '.join(member.topics)}: {'; '.join(changes)}"

    def limit_violations(
        self,
        member: AlterTopicConfig,
        where: str,
        observed: ObservedState | None,
        policy: ClusterPolicy,
    ) -> list[str]:
        found = too_many_topics(len(member.topics), f"{where}.topics", policy)
        found += missing_topics(member.topics, f"{where}.topics", observed)
        found += retention_floor(member.set, f"{where}.set", policy)
        found += observed_value_problems(member, observed)
        min_isr = member.set.get("min.insync.replicas")
        if min_isr is not None and observed is not None:
            for topic in member.topics:
                seen = observed.topic(topic)
                rf = seen.replication_factor if seen and seen.exists else None
                if rf and int(min_isr) > rf:
                    found.append(
                        f"{where}.set['min.insync.replicas']: {min_isr} is more than the "
                        f"replication factor {rf} of {topic}, so producers using acks=all "
                        "could never write"
                    )
        return found

    def risk(self, member: AlterTopicConfig, observed: ObservedState | None) -> Assessment:
        losses = [
            loss for topic in member.topics for loss in config_data_losses(member, topic, observed)
        ]
        if losses:
            risk = max((loss.risk for loss in losses), key=lambda r: r.rank)
            return Assessment(
                risk, ["the new configuration can destroy data"], [loss.note for loss in losses]
            )
        keys = ", ".join([*member.set, *member.delete])
        return Assessment(Risk.MEDIUM, [f"changes {keys} on topics that carry live traffic"])

    def warnings(self, member: AlterTopicConfig, observed: ObservedState | None) -> list[str]:
        if observed is None:
            return ["spec.observed is empty: the rollback plan cannot be shown until execution"]
        return []

    def topic_facts(self, member: AlterTopicConfig, seen: ObservedTopic) -> Facts:
        facts: Facts = {}
        prefix = f"topic {seen.name}"
        if "min.insync.replicas" in member.set and seen.replication_factor:
            facts[f"{prefix}: replication factor"] = str(seen.replication_factor)
        for key in [*member.set, *member.delete]:
            config = seen.configs.get(key)
            if config is not None:
                value = "(sensitive)" if config.value is None else config.value
                facts[f"{prefix}: {key}"] = f"{value} ({config.source})"
        return facts

    def stages(self, member: AlterTopicConfig, canary: int, batch_size: int) -> list[Stage]:
        topics = list(member.topics)
        groups = [topics[:canary]] + [
            topics[i : i + batch_size] for i in range(canary, len(topics), batch_size)
        ]
        stages = []
        for number, batch in enumerate(groups):
            name = "canary" if number == 0 and len(topics) > 1 else f"batch-{number}"
            if len(topics) == 1:
                name = "apply"
            steps = [
                make_step(f"alter-config-{topic}", member.model_copy(update={"topics": [topic]}))
                for topic in batch
            ]
            stages.append(Stage(name=name, steps=steps))
        return stages

    def undo(
        self, undo_id: str, member: AlterTopicConfig, snapshot: ObservedState | None
    ) -> Inverse:
        """Restore each touched override from the snapshot; remove one that was not there."""
        topic = member.topics[0]
        seen = snapshot.topic(topic) if snapshot else None
        if seen is None:
            return Inverse(
                None,
                [
                    f"the previous configuration of {topic} was not observed, so it cannot be "
                    "restored"
                ],
            )
        restore: dict[str, str] = {}
        drop: list[str] = []
        for key in [*member.set, *member.delete]:
            before = seen.configs.get(key)
            if before is not None and before.source is ConfigSource.TOPIC_OVERRIDE:
                if before.value is None:
                    return Inverse(
                        None, [f"{key} on {topic} is sensitive; its old value cannot be restored"]
                    )
                restore[key] = before.value
            elif key in member.set:
                drop.append(key)
        losses = config_data_risks(member, topic, snapshot)
        if not restore and not drop:
            return Inverse(None, losses)
        try:
            inverse = AlterTopicConfig(
                topics=[topic], set=restore, delete=drop, allow_unknown_keys=True
            )
        except ValidationError as error:
            # Someone set a value kcr would not write itself: say so, never crash the review.
            return Inverse(
                None,
                [
                    *losses,
                    f"the previous configuration of {topic} cannot be restored automatically "
                    f"({'; '.join(explain(error))}); restore it by hand",
                ],
            )
        return Inverse(make_step(undo_id, inverse), losses)

    async def snapshot(
        self, ports: StepPorts, member: AlterTopicConfig, now: datetime
    ) -> ObservedState:
        kafka = ports.kafka
        keys = [*member.set, *member.delete, *CONTEXT_KEYS]
        topics = list(member.topics)
        return ObservedState(
            captured_at=now,
            brokers=await kafka.broker_count(),
            topics=list(
                await asyncio.gather(*(kafka.observe_topic(t, keys) for t in member.topics))
            ),
            consumers_of_topics=await kafka.consumers_of(topics),
        )

    async def apply(
        self, ports: StepPorts, member: AlterTopicConfig, snapshot: ObservedState | None
    ) -> ApplyResult:
        """A key whose effective value already equals the wanted one is left alone.

        A ``delete`` removes only a topic override; a key that merely inherits is already gone.
        """
        kafka = ports.kafka
        details = []
        changed = False
        for current in await kafka.topic_configs(list(member.topics)):
            to_set = {k: v for k, v in member.set.items() if current.value(k) != v}
            to_delete = [
                k
                for k in member.delete
                if k in current.configs and current.configs[k].source is ConfigSource.TOPIC_OVERRIDE
            ]
            if not to_set and not to_delete:
                details.append(f"{current.topic}: already as requested")
                continue
            await kafka.set_topic_config(current.topic, to_set, to_delete)
            changed = True
            done = [f"{k}={v}" for k, v in to_set.items()] + [f"removed {k}" for k in to_delete]
            details.append(f"{current.topic}: " + ", ".join(done))
        return self.result(member, changed, details)

    def strimzi_topic_edit(
        self, member: AlterTopicConfig, topic: str, spec: Mapping[str, Any]
    ) -> ResourceEdit:
        return topic_config_edit(spec, member.set, member.delete)


KIND = AlterTopicConfigKind()
