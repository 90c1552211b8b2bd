"""Names as Kafka and Kubernetes define them, with errors an SRE can act on.

The regular expressions also land in the CRD schema (``pattern``/``maxLength``) so the
API server and pydantic reject the same names; the validators add the rules a pattern
cannot say and the plain-words message.
"""

import re
from typing import Annotated

from pydantic import AfterValidator, Field

TOPIC_NAME_MAX_LENGTH = 249
TOPIC_NAME_PATTERN = r"^[a-zA-Z0-9._-]+$"
# The same charset without '.' and '..', spelled without look-ahead for the API server's
# RE2 engine, so the CRD schema refuses the reserved names too.
TOPIC_NAME_SCHEMA_PATTERN = (
    r"^([a-zA-Z0-9_-][a-zA-Z0-9._-]*|\.[a-zA-Z0-9_-][a-zA-Z0-9._-]*|\.\.[a-zA-Z0-9._-]+)$"
)
GROUP_ID_MAX_LENGTH = 255
# Kafka itself only needs a group or transactional id to be non-empty; Kafka Connect and
# other frameworks put spaces, '/', '@' and more in theirs. Control characters are refused.
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]+$"
GROUP_ID_PATTERN = PRINTABLE_PATTERN
PRINCIPAL_PATTERN = (
    # TYPE:NAME as Kafka parses it: the name may be anything but control characters and
    # surrounding spaces, e.g. an X.500 name from a TLS certificate
    # ("User:CN=app,O=Example\\, Inc."), an OAuth subject ("User:auth0|5f7c") or an AD
    # account ("User:svc-kafka$"). Pasted shell text is refused where assistants type.
    r"^[A-Za-z][A-Za-z0-9]*:[^\s\x00-\x1f\x7f]([^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$"
)
KUBE_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
KUBE_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

_TOPIC = re.compile(TOPIC_NAME_PATTERN)
_GROUP = re.compile(GROUP_ID_PATTERN)
_PRINCIPAL = re.compile(PRINCIPAL_PATTERN)
_KUBE_NAME = re.compile(KUBE_NAME_PATTERN)
_KUBE_LABEL = re.compile(KUBE_LABEL_PATTERN)


def check_topic_name(name: str) -> str:
    """Kafka's own topic rules (``org.apache.kafka.common.internals.Topic.validate``)."""
    if name in {".", ".."}:
        raise ValueError(f"topic name {name!r} is not allowed: Kafka reserves '.' and '..'")
    if len(name) > TOPIC_NAME_MAX_LENGTH:
        raise ValueError(
            f"topic name is {len(name)} characters long; Kafka allows at most "
            f"{TOPIC_NAME_MAX_LENGTH}"
        )
    if not _TOPIC.fullmatch(name):
        bad = sorted({c for c in name if not _TOPIC.fullmatch(c)})
        shown = ", ".join(repr(c) for c in bad) if bad else "an empty name"
        raise ValueError(
            f"topic name {name!r} may only use ASCII letters, digits, '.', '_' and '-' "
            f"(found {shown})"
        )
    return name


def topic_name_warnings(name: str) -> list[str]:
    """Kafka warns about any '.' or '_': a later topic may collide with this one.

    A collision with a topic that exists already is a limit violation, not a warning.
    """
    if "." in name or "_" in name:
        return [
            f"topic {name!r} uses '.' or '_': Kafka maps both to '_' in metric names, so no "
            "topic that differs only in those characters can be created after it"
        ]
    return []


def metric_name_of(topic: str) -> str:
    """The name Kafka compares to refuse topics that differ only in '.' versus '_'."""
    return topic.replace(".", "_")


def collides(topic: str, other: str) -> bool:
    """Two different names Kafka will not hold side by side."""
    return topic != other and metric_name_of(topic) == metric_name_of(other)


def check_group_id(group: str) -> str:
    if not group:
        raise ValueError("consumer group id must not be empty")
    if len(group) > GROUP_ID_MAX_LENGTH:
        raise ValueError(
            f"consumer group id is {len(group)} characters long; kcr allows at most "
            f"{GROUP_ID_MAX_LENGTH}"
        )
    if not _GROUP.fullmatch(group):
        raise ValueError(
            f"consumer group id {group!r} must not contain control characters (line breaks, "
            "tabs, escape codes)"
        )
    return group


def check_principal(principal: str) -> str:
    if not _PRINCIPAL.fullmatch(principal):
        raise ValueError(
            f"principal {principal!r} must look like 'User:alice' or 'User:CN=app,O=Example' "
            "(a type, a colon, then a name without control characters or surrounding spaces)"
        )
    return principal


def check_kube_name(name: str) -> str:
    if len(name) > 253 or not _KUBE_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a valid Kubernetes name: lowercase letters, digits, '-' and "
            "'.', starting and ending with a letter or digit, at most 253 characters"
        )
    return name


def check_kube_label(name: str) -> str:
    if len(name) > 63 or not _KUBE_LABEL.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a valid Kubernetes namespace or label value: lowercase letters, "
            "digits and '-', starting and ending with a letter or digit, at most 63 characters"
        )
    return name


TopicName = Annotated[
    str,
    Field(
        description="Kafka topic name: [a-zA-Z0-9._-], at most 249 characters, not '.' or '..'",
        json_schema_extra={
            "pattern": TOPIC_NAME_SCHEMA_PATTERN,
            "minLength": 1,
            "maxLength": TOPIC_NAME_MAX_LENGTH,
        },
    ),
    AfterValidator(check_topic_name),
]

GroupId = Annotated[
    str,
    Field(
        description="Consumer group id as Kafka allows it: no control characters, at most "
        "255 characters",
        json_schema_extra={
            "pattern": GROUP_ID_PATTERN,
            "minLength": 1,
            "maxLength": GROUP_ID_MAX_LENGTH,
        },
    ),
    AfterValidator(check_group_id),
]

Principal = Annotated[
    str,
    Field(
        description="Kafka principal as TYPE:NAME, for example User:alice or User:*",
        json_schema_extra={"pattern": PRINCIPAL_PATTERN, "maxLength": 512},
    ),
    AfterValidator(check_principal),
]

KubeName = Annotated[
    str,
    Field(
        description="Kubernetes object name (DNS-1123 subdomain)",
        json_schema_extra={"pattern": KUBE_NAME_PATTERN, "maxLength": 253},
    ),
    AfterValidator(check_kube_name),
]

KubeNamespace = Annotated[
    str,
    Field(
        description="Kubernetes namespace (DNS-1123 label)",
        json_schema_extra={"pattern": KUBE_LABEL_PATTERN, "maxLength": 63},
    ),
    AfterValidator(check_kube_label),
]
