"""Which topic configuration changes delete data that no rollback brings back."""

from kcr.model import AlterTopicConfig, ObservedState
from kcr.model.topic_configs import RETENTION_KEYS


def _as_limit(value: str | None) -> float | None:
    """Retention as a number where -1 (and -2, 'follow the parent') mean unlimited."""
    if value is None:
        return None
    number = int(value)
    return float("inf") if number < 0 else float(number)


def config_data_risks(
    member: AlterTopicConfig, topic: str, observed: ObservedState | None
) -> list[str]:
    seen = observed.topic(topic) if observed else None
    current = seen.configs if seen else {}
    risks = []
    for key in RETENTION_KEYS:
        if key in member.set:
            before = current.get(key)
            old = _as_limit(before.value if before else None)
            new = _as_limit(member.set[key])
            if old is None:
                risks.append(
                    f"{key} on {topic} becomes {member.set[key]} but its current value was not "
                    "observed: if that is lower than before, the broker deletes older records "
                    "and restoring the value does not bring them back"
                )
            elif new is not None and new < old:
                risks.append(
                    f"lowering {key} on {topic} from {before.value if before else '?'} to "
                    f"{member.set[key]} lets the broker delete records older or larger than "
                    "the new limit at its next cleanup; restoring the old value does not "
                    "bring them back"
                )
        if key in member.delete:
            risks.append(
                f"removing the {key} override on {topic} falls back to the cluster default; if "
                "that is lower, the broker deletes records that no rollback restores"
            )
    policy = member.set.get("cleanup.policy")
    if policy is not None and "compact" in policy:
        before = current.get("cleanup.policy")
        if before is None or "compact" not in (before.value or ""):
            risks.append(
                f"turning on compaction for {topic} removes older records that share a key; "
                "they cannot be restored"
            )
    return risks
