"""`kubectl kcr diff`: what the draft saw (``spec.observed``) against Kafka as it is now.

The operator refuses a plan whose observed state went stale; this shows a reviewer the
same difference before approving, as a unified diff of the two states.
"""

import difflib
from typing import Any

import yaml

from kcr.model import ObservedState

IGNORED = ("capturedAt",)


def comparable(state: ObservedState | None) -> dict[str, Any]:
    """The state without its capture time, lists in a stable order, as YAML would show it."""
    if state is None:
        return {}
    document = state.model_dump(mode="json", by_alias=True, exclude_none=True)
    for key in IGNORED:
        document.pop(key, None)
    for key in ("topics", "consumerGroups"):
        if key in document:
            document[key] = sorted(document[key], key=lambda item: str(item.get("name", item)))
    for key in ("acls", "consumersOfTopics", "deployments"):
        if key in document:
            document[key] = sorted(document[key], key=str)
    return document


def observed_diff(observed: ObservedState | None, live: ObservedState) -> list[str]:
    """Unified diff lines from the drafted state to the live one; empty when they agree."""
    before = yaml.safe_dump(comparable(observed), sort_keys=True).splitlines()
    after = yaml.safe_dump(comparable(live), sort_keys=True).splitlines()
    if observed is None:
        before = []
    drafted = (
        f"spec.observed (captured {observed.captured_at.isoformat()})"
        if observed is not None
        else "spec.observed (empty)"
    )
    return list(
        difflib.unified_diff(
            before,
            after,
            fromfile=drafted,
            tofile=f"live (read {live.captured_at.isoformat()})",
            lineterm="",
        )
    )
