"""What a caller is shown of a change request: consumer groups outside their scope are withheld.

A draft's snapshot names every consumer group of the affected topics, whoever owns them,
and the stored request keeps them all for the people who review it. A tenant is shown
only the groups of their own scope and how many others there are, so the blast radius
stays honest without naming another team's consumers.
"""

import re
from collections.abc import Iterable
from typing import Any, TypeVar

from kcr.mcp.identity import Scope
from kcr.model import BlastRadius, ObservedState
from kcr.model.base import KubeModel

M = TypeVar("M", bound=KubeModel)

WITHHELD = "(a consumer group outside your scope)"


def foreign_groups(names: Iterable[str], scope: Scope) -> frozenset[str]:
    return frozenset(n for n in names if not scope.allows_group(n))


def withheld_note(count: int) -> str | None:
    """The sentence that says how much was left out, or None when nothing was."""
    if not count:
        return None
    return (
        f"{count} consumer group(s) outside your scope are not named here; the change request "
        "names them for its reviewers"
    )


def shown_observed(observed: ObservedState, scope: Scope) -> ObservedState:
    return observed.model_copy(
        update={
            "consumers_of_topics": [
                g for g in observed.consumers_of_topics if scope.allows_group(g)
            ],
            "consumer_groups": [g for g in observed.consumer_groups if scope.allows_group(g.group)],
        }
    )


def shown_blast_radius(radius: BlastRadius, scope: Scope) -> BlastRadius:
    return radius.model_copy(
        update={"consumer_groups": [g for g in radius.consumer_groups if scope.allows_group(g)]}
    )


def withhold(model: M, foreign: frozenset[str]) -> M:
    """``model`` without the ``foreign`` group names anywhere: list items and map keys that
    are such a name go, and free text says ``WITHHELD`` where it named one."""
    if not foreign:
        return model
    names = "|".join(re.escape(n) for n in sorted(foreign, key=len, reverse=True))
    pattern = re.compile(rf"(?<![A-Za-z0-9._-])(?:{names})(?![A-Za-z0-9._-])")
    dumped = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return type(model).model_validate(_walk(dumped, foreign, pattern))


def _walk(value: Any, foreign: frozenset[str], pattern: re.Pattern[str]) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, foreign, pattern) for k, v in value.items() if k not in foreign}
    if isinstance(value, list):
        return [
            _walk(v, foreign, pattern) for v in value if not (isinstance(v, str) and v in foreign)
        ]
    if isinstance(value, str):
        return pattern.sub(WITHHELD, value)
    return value
