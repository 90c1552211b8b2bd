"""Stable hashes that bind an approval to exactly what was reviewed."""

import hashlib
import json
from typing import Any

from kcr.model import KafkaChangeRequestSpec, Operation, Plan


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
