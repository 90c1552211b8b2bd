"""Which topic configuration changes destroy data that no rollback brings back.

Restoring a configuration value is easy; restoring the records a broker deleted while the
new value held is impossible. So each change below is classified as data loss, raises the
risk and is named in the rollback plan as what cannot come back.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from kcr.model import ObservedState, ObservedTopic, Risk
from kcr.model.topic_configs import TOPIC_CONFIGS, value_problem
from kcr.policy.config_effects import CONFIG_EFFECTS, ConfigEffect, Loss


class ConfigChange(Protocol):
    """Keys set and overrides removed on some topics."""

    @property
    def topics(self) -> Sequence[str]: ...

    @property
    def set(self) -> Mapping[str, str]: ...

    @property
    def delete(self) -> Sequence[str]: ...


_LOST = "restoring the old value does not bring them back"


@dataclass(frozen=True)
class DataLoss:
    risk: Risk
    note: str
    """What is destroyed and that it cannot come back, in plain words."""


class _Topic:
    """One topic's values before the change and after it (None: the cluster default)."""

    def __init__(self, member: ConfigChange, seen: ObservedTopic | None) -> None:
        self.member = member
        self.configs = seen.configs if seen else {}

    def before(self, key: str) -> str | None:
        config = self.configs.get(key)
        return config.value if config else None

    def after(self, key: str) -> str | None:
        if key in self.member.set:
            return self.member.set[key]
        return None if key in self.member.delete else self.before(key)

    def touched(self, key: str) -> bool:
        return key in self.member.set or key in self.member.delete


def config_data_losses(
    member: ConfigChange, topic: str, observed: ObservedState | None
) -> list[DataLoss]:
    values = _Topic(member, observed.topic(topic) if observed else None)
    losses = [*_cleanup_policy(values, topic), *_tiered_storage(values, topic)]
    losses += _unclean_election(values, topic)
    for key, effect in CONFIG_EFFECTS.items():
        if effect.loss in {Loss.NEVER, Loss.OWN_RULE} or not values.touched(key):
            continue
        if effect.loss is Loss.LOWER_IF_COMPACTED and not _maybe_compacted(values):
            continue
        note = _limit_note(values, topic, key, effect)
        if note is not None:
            losses.append(DataLoss(effect.risk, note))
    return losses


def observed_value_problems(member: ConfigChange, observed: ObservedState | None) -> list[str]:
    """Observed values this module compares must be numbers as a broker reports them: a
    value it cannot read would hide a data loss, so the request is refused, not guessed at."""
    if observed is None:
        return []
    found = []
    for index, seen in enumerate(observed.topics):
        if seen.name not in member.topics:
            continue
        for key, config in seen.configs.items():
            effect = CONFIG_EFFECTS.get(key)
            numeric = effect is not None and effect.loss not in {Loss.NEVER, Loss.OWN_RULE}
            if not numeric or key not in TOPIC_CONFIGS or config.value is None:
                continue
            problem = value_problem(key, config.value)
            if problem is not None:
                found.append(
                    f"spec.observed.topics[{index}].configs['{key}'].value: {problem}, which is "
                    "not how a broker reports it; draft again from the live value"
                )
    return found


def config_data_risks(
    member: ConfigChange, topic: str, observed: ObservedState | None
) -> list[str]:
    return [loss.note for loss in config_data_losses(member, topic, observed)]


def _limit_note(values: _Topic, topic: str, key: str, effect: ConfigEffect) -> str | None:
    lowering = effect.loss is not Loss.HIGHER
    if key in values.member.delete:
        return (
            f"removing the {key} override on {topic} falls back to the cluster default; if that "
            f"is {'lower' if lowering else 'higher'}, {effect.lost}; no rollback restores them"
        )
    new = values.member.set[key]
    before = values.before(key)
    old = _number(before, effect)
    if old is None:
        return (
            f"{key} on {topic} becomes {new} but its current value was not observed: if it was "
            f"{'higher' if lowering else 'lower'}, {effect.lost}; {_LOST}"
        )
    changed = _number(new, effect)
    worse = changed is not None and (changed < old if lowering else changed > old)
    if not worse:
        return None
    verb = "lowering" if lowering else "raising"
    return f"{verb} {key} on {topic} from {before} to {new}: {effect.lost}; {_LOST}"


def _number(value: str | None, effect: ConfigEffect) -> float | None:
    """A value as a number; None when it is missing or not a number Kafka would accept."""
    if value is None:
        return None
    try:
        number = float(value) if "." in value else float(int(value))
    except ValueError:
        return None
    return float("inf") if effect.unlimited_below_zero and number < 0 else number


def _policies(value: str | None) -> set[str]:
    return {part.strip() for part in (value or "").split(",") if part.strip()}


def _maybe_compacted(values: _Topic) -> bool:
    after = values.after("cleanup.policy")
    return after is None or "compact" in _policies(after)


def _cleanup_policy(values: _Topic, topic: str) -> list[DataLoss]:
    if not values.touched("cleanup.policy"):
        return []
    before, after = values.before("cleanup.policy"), values.after("cleanup.policy")
    old, new = _policies(before), _policies(after)
    losses = []
    if "compact" in new and ("compact" not in old or before is None):
        losses.append(
            DataLoss(
                Risk.HIGH,
                f"turning on compaction for {topic} removes older records that share a key; "
                "they cannot be restored",
            )
        )
    deletes_after = "delete" in new or after is None
    if deletes_after and (before is None or ("compact" in old and "delete" not in old)):
        if before is None:
            how = (
                f"cleanup.policy on {topic} becomes {after or 'the cluster default'} but its "
                "current value was not observed: if the topic was compacted"
            )
        elif after is None:
            how = (
                f"removing the compact override on {topic} falls back to the cluster default "
                "(delete unless log.cleanup.policy says otherwise)"
            )
        else:
            how = f"cleanup.policy on {topic} goes from {before} to {after}"
        losses.append(
            DataLoss(
                Risk.CRITICAL,
                f"{how}, the broker then deletes every segment past retention.ms or "
                "retention.bytes, including the latest value of each key that compaction kept; "
                f"{_LOST}",
            )
        )
    return losses


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _tiered_storage(values: _Topic, topic: str) -> list[DataLoss]:
    key = "remote.storage.enable"
    if not values.touched(key) or _is_true(values.after(key)):
        return []
    before = values.before(key)
    if before is not None and not _is_true(before):
        return []
    if not _is_true(values.after("remote.log.delete.on.disable")):
        return []
    return [
        DataLoss(
            Risk.CRITICAL,
            f"turning tiered storage off on {topic} with remote.log.delete.on.disable=true "
            "deletes every segment held in remote storage, usually most of the topic's "
            "history; turning it back on does not bring them back",
        )
    ]


def _unclean_election(values: _Topic, topic: str) -> list[DataLoss]:
    key = "unclean.leader.election.enable"
    if not _is_true(values.member.set.get(key)) or _is_true(values.before(key)):
        return []
    return [
        DataLoss(
            CONFIG_EFFECTS[key].risk,
            f"with unclean.leader.election.enable=true on {topic}, when every in-sync replica "
            "of a partition is down a lagging replica becomes leader and the acknowledged "
            "records it missed are dropped; turning it off again does not bring them back",
        )
    ]
