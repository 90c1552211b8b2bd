"""Known Kafka topic configuration keys, their value types and their legal ranges.

Mirrors ``org.apache.kafka.common.config.TopicConfig`` and the broker's ``LogConfig``
validators, so a bad value is refused before it ever reaches a broker.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

LONG_MAX = 2**63 - 1
INT_MAX = 2**31 - 1


class ValueKind(Enum):
    LONG = "whole number"
    INT = "whole number"
    DOUBLE = "decimal number"
    BOOLEAN = "boolean"
    CHOICE = "one of"
    LIST = "comma-separated list"


@dataclass(frozen=True)
class ConfigRule:
    kind: ValueKind
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
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
    return ConfigRule(ValueKind.LONG, minimum, LONG_MAX, unit=unit, note=note)


def _int(minimum: int, unit: str = "", note: str = "") -> ConfigRule:
    return ConfigRule(ValueKind.INT, minimum, INT_MAX, unit=unit, note=note)


_BOOLEAN = ConfigRule(ValueKind.BOOLEAN)

TOPIC_CONFIGS: Mapping[str, ConfigRule] = {
    "cleanup.policy": ConfigRule(ValueKind.LIST, choices=("delete", "compact")),
    "compression.type": ConfigRule(
        ValueKind.CHOICE, choices=("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")
    ),
    "compression.gzip.level": ConfigRule(ValueKind.INT, -1, 9),
    "compression.lz4.level": ConfigRule(ValueKind.INT, 1, 17),
    "compression.zstd.level": ConfigRule(ValueKind.INT, -131072, 22),
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
    "min.cleanable.dirty.ratio": ConfigRule(ValueKind.DOUBLE, 0, 1),
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
    rule = TOPIC_CONFIGS[key]
    text = value.strip()
    if text != value or not value:
        raise ValueError(f"{key}: must be {rule.describe()}, got {value!r}")
    if rule.kind in {ValueKind.LONG, ValueKind.INT}:
        _check_number(key, rule, value, integer=True)
    elif rule.kind is ValueKind.DOUBLE:
        _check_number(key, rule, value, integer=False)
    elif rule.kind is ValueKind.BOOLEAN:
        if value.lower() not in {"true", "false"}:
            raise ValueError(f"{key}: must be {rule.describe()}, got {value!r}")
    elif rule.kind is ValueKind.CHOICE:
        if value not in rule.choices:
            raise ValueError(f"{key}: must be {rule.describe()}, got {value!r}")
    elif rule.choices:
        items = [item.strip() for item in value.split(",")]
        unknown = [item for item in items if item not in rule.choices]
        if unknown:
            raise ValueError(f"{key}: must be a {rule.describe()}, got {value!r}")


def _check_number(key: str, rule: ConfigRule, value: str, *, integer: bool) -> None:
    try:
        number: float = int(value, 10) if integer else float(value)
    except ValueError:
        raise ValueError(f"{key}: must be {rule.describe()}, got {value!r}") from None
    if (rule.minimum is not None and number < rule.minimum) or (
        rule.maximum is not None and number > rule.maximum
    ):
        raise ValueError(f"{key}: must be {rule.describe()}, got {value!r}")


def check_config_key(key: str, *, allow_unknown: bool) -> None:
    if key in TOPIC_CONFIGS or allow_unknown:
        return
    raise ValueError(
        f"{key!r} is not a known topic configuration key; check the spelling, or set "
        "allowUnknownKeys: true to pass it to the broker as it is"
    )


def validate_configs(values: Mapping[str, str], *, allow_unknown: bool) -> None:
    """Check every key, so one run names every bad value, not just the first."""
    problems = []
    for key, value in values.items():
        try:
            check_config_key(key, allow_unknown=allow_unknown)
            if key in TOPIC_CONFIGS:
                check_config_value(key, value)
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise ValueError("; ".join(problems))
