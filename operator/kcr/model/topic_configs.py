"""Known Kafka topic configuration keys, their value types and their legal ranges.

Mirrors ``org.apache.kafka.common.config.TopicConfig`` and the broker's ``LogConfig``
validators, so a bad value is refused before it ever reaches a broker.
"""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

LONG_MAX = 2**63 - 1
INT_MAX = 2**31 - 1
# What Kafka's ConfigDef parses, and no more: ASCII digits only (Python's int() would also
# take '1_000' and full-width digits), and a decimal as Java's Double.valueOf reads it,
# exponent included ('1.0E-4' is how a broker reports a small ratio), never 'nan' or 'inf'.
_WHOLE = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


class ValueKind(Enum):
    WHOLE = "whole number"
    DECIMAL = "decimal number"
    BOOLEAN = "boolean"
    CHOICE = "one of"
    LIST = "comma-separated list"


@dataclass(frozen=True)
class ConfigRule:
    kind: ValueKind
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    excluded: tuple[int, ...] = ()
    """Values inside the bounds that Kafka still refuses."""
    unit: str = ""
    note: str = ""

    def describe(self) -> str:
        if self.kind in {ValueKind.CHOICE, ValueKind.LIST}:
            joined = ", ".join(self.choices)
            return f"{self.kind.value} {joined}" if self.choices else self.kind.value
        if self.kind is ValueKind.BOOLEAN:
            return "'true' or 'false'"
        text = f"a {self.kind.value}"
        if self.unit:
            text += f" of {self.unit}"
        bounds = []
        if self.minimum is not None:
            bounds.append(f"≥ {_number(self.minimum)}")
        if self.maximum is not None and self.maximum not in {LONG_MAX, INT_MAX}:
            bounds.append(f"≤ {_number(self.maximum)}")
        if bounds:
            text += " " + " and ".join(bounds)
        if self.note:
            text += f" ({self.note})"
        return text


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _long(minimum: int, unit: str = "", note: str = "") -> ConfigRule:
    return ConfigRule(ValueKind.WHOLE, minimum, LONG_MAX, unit=unit, note=note)


def _int(minimum: int, unit: str = "", note: str = "") -> ConfigRule:
    return ConfigRule(ValueKind.WHOLE, minimum, INT_MAX, unit=unit, note=note)


_BOOLEAN = ConfigRule(ValueKind.BOOLEAN)

TOPIC_CONFIGS: Mapping[str, ConfigRule] = {
    "cleanup.policy": ConfigRule(ValueKind.LIST, choices=("delete", "compact")),
    "compression.type": ConfigRule(
        ValueKind.CHOICE, choices=("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")
    ),
    "compression.gzip.level": ConfigRule(
        ValueKind.WHOLE, -1, 9, excluded=(0,), note="not 0; -1 is the codec's default"
    ),
    "compression.lz4.level": ConfigRule(ValueKind.WHOLE, 1, 17),
    "compression.zstd.level": ConfigRule(ValueKind.WHOLE, -131072, 22),
    "delete.retention.ms": _long(0, "milliseconds"),
    "file.delete.delay.ms": _long(0, "milliseconds"),
    "flush.messages": _long(1, "messages"),
    "flush.ms": _long(0, "milliseconds"),
    "follower.replication.throttled.replicas": ConfigRule(ValueKind.LIST),
    "leader.replication.throttled.replicas": ConfigRule(ValueKind.LIST),
    "index.interval.bytes": _int(0, "bytes"),
    "local.retention.bytes": _long(-2, "bytes", "-2 follows retention.bytes"),
    "local.retention.ms": _long(-2, "milliseconds", "-2 follows retention.ms"),
    "max.compaction.lag.ms": _long(1, "milliseconds"),
    "max.message.bytes": _int(0, "bytes"),
    "message.timestamp.type": ConfigRule(ValueKind.CHOICE, choices=("CreateTime", "LogAppendTime")),
    "message.timestamp.before.max.ms": _long(0, "milliseconds"),
    "message.timestamp.after.max.ms": _long(0, "milliseconds"),
    "min.cleanable.dirty.ratio": ConfigRule(ValueKind.DECIMAL, 0, 1),
    "min.compaction.lag.ms": _long(0, "milliseconds"),
    "min.insync.replicas": _int(1, "replicas"),
    "preallocate": _BOOLEAN,
    "remote.storage.enable": _BOOLEAN,
    "remote.log.copy.disable": _BOOLEAN,
    "remote.log.delete.on.disable": _BOOLEAN,
    "retention.bytes": _long(-1, "bytes", "-1 means no size limit"),
    "retention.ms": _long(-1, "milliseconds", "-1 keeps data forever"),
    "segment.bytes": _int(14, "bytes"),
    "segment.index.bytes": _int(4, "bytes"),
    "segment.jitter.ms": _long(0, "milliseconds"),
    "segment.ms": _long(1, "milliseconds"),
    "unclean.leader.election.enable": _BOOLEAN,
}

# Keys whose lower value removes data that consumers may not have read yet.
RETENTION_KEYS = ("retention.ms", "retention.bytes", "local.retention.ms", "local.retention.bytes")


def check_config_value(key: str, value: str) -> None:
    """Raise ``ValueError`` saying what a legal value of ``key`` looks like."""
    problem = value_problem(key, value)
    if problem is not None:
        raise ValueError(f"{key}: {problem}")


def value_problem(key: str, value: str) -> str | None:
    """The rule ``value`` breaks for the known ``key``, in words; None when it is legal."""
    rule = TOPIC_CONFIGS[key]
    wrong = f"must be {rule.describe()}, got {value!r}"
    if not value or value != value.strip():
        return wrong
    if rule.kind is ValueKind.WHOLE:
        legal = _WHOLE.fullmatch(value) is not None and _within(rule, int(value))
    elif rule.kind is ValueKind.DECIMAL:
        legal = (
            _DECIMAL.fullmatch(value) is not None
            and math.isfinite(float(value))
            and _within(rule, float(value))
        )
    elif rule.kind is ValueKind.BOOLEAN:
        legal = value.lower() in {"true", "false"}
    elif rule.kind is ValueKind.CHOICE:
        legal = value in rule.choices
    else:
        items = [item.strip() for item in value.split(",")]
        legal = not rule.choices or all(item in rule.choices for item in items)
        wrong = f"must be a {rule.describe()}, got {value!r}"
    return None if legal else wrong


def _within(rule: ConfigRule, number: float) -> bool:
    if rule.minimum is not None and number < rule.minimum:
        return False
    if rule.maximum is not None and number > rule.maximum:
        return False
    return number not in rule.excluded


def key_problem(key: str, *, allow_unknown: bool) -> str | None:
    if key in TOPIC_CONFIGS or allow_unknown:
        return None
    return (
        f"{key!r} is not a known topic configuration key; check the spelling, or set "
        "allowUnknownKeys: true to pass it to the broker as it is"
    )


def check_config_key(key: str, *, allow_unknown: bool) -> None:
    problem = key_problem(key, allow_unknown=allow_unknown)
    if problem is not None:
        raise ValueError(problem)


def config_problems(values: Mapping[str, str], *, allow_unknown: bool) -> dict[str, str]:
    """Every bad key with its rule, so one run names every bad value, not just the first."""
    problems = {}
    for key, value in values.items():
        problem = key_problem(key, allow_unknown=allow_unknown)
        if problem is None and key in TOPIC_CONFIGS:
            problem = value_problem(key, value)
        if problem is not None:
            problems[key] = problem
    return problems
