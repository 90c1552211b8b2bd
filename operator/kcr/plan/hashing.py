"""Stable hashes that bind an approval to exactly what was reviewed."""

import hashlib
import json
from datetime import datetime
from typing import Any

from kcr.model import KafkaChangeRequestSpec, Operation, Plan, Risk, Step


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8: the same object always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def spec_hash(spec: KafkaChangeRequestSpec) -> str:
    """sha256 of the spec as stored (camelCase, no nulls), after parsing and defaulting.

    Parsing first makes the hash independent of key order, of omitted defaults and of
    the YAML spelling a reviewer happened to use.
    """
    return _sha256(spec.model_dump(mode="json", by_alias=True, exclude_none=True))


def operation_hash(operation: Operation) -> str:
    return _sha256(operation.model_dump(mode="json", by_alias=True, exclude_none=True))


def plan_hash(plan: Plan) -> str:
    """Covers what each step does, never its progress, so it holds from review to the end."""
    shape = [
        {
            "stage": stage.name,
            "steps": [
                [step.id, step.idempotence_key, operation_hash(step.operation)]
                for step in stage.steps
            ],
        }
        for stage in plan.stages
    ]
    return _sha256(shape)


def rollback_hash(steps: list[Step], risk: Risk, requested_by: str, requested_at: datetime) -> str:
    """Binds a rollback's approval to its steps, the risk they were shown with, and the one
    request for it: an approval given for an earlier request never counts for a later one."""
    shape = {
        "steps": [[s.id, s.idempotence_key, operation_hash(s.operation)] for s in steps],
        "risk": str(risk),
        "requestedBy": requested_by,
        "requestedAt": requested_at.isoformat(),
    }
    return _sha256(shape)
