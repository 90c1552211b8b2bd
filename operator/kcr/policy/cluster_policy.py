"""The parts of a KafkaCluster that govern how an approved change runs, as digests.

An approval is given for a spec under a cluster policy: which Kafka it reaches, how risk
and approvals are counted, the limits, the change windows, the health gates and where
their metrics come from. Each governing field is hashed on its own, so when one changes
after review the request can say which, and its approvals no longer count. The ownership
map is left out: it names teams and runbooks, and changes nothing that runs.
"""

import hashlib
import json
from typing import Any

from kcr.model import KafkaClusterSpec


def governing_fields(cluster: KafkaClusterSpec) -> dict[str, Any]:
    """Field path (as in the KafkaCluster YAML) → its value, for every field that governs."""
    dumped = cluster.model_dump(mode="json", by_alias=True, exclude_none=True)
    policy = dumped.get("policy", {})
    return {
        "spec.bootstrapServers": dumped.get("bootstrapServers"),
        "spec.tls": dumped.get("tls"),
        "spec.sasl": dumped.get("sasl"),
        "spec.prometheusUrl": dumped.get("prometheusUrl"),
        **{f"spec.policy.{name}": value for name, value in sorted(policy.items())},
    }


def policy_digests(cluster: KafkaClusterSpec) -> dict[str, str]:
    return {
        path: hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]
        for path, value in governing_fields(cluster).items()
    }


def policy_hash(digests: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()


def changed_fields(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    """The governing fields whose value differs (or that appeared or vanished), sorted."""
    return sorted(p for p in recorded.keys() | current.keys() if recorded.get(p) != current.get(p))
