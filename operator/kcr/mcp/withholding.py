"""What a caller is shown of a change request: consumer groups outside their scope are withheld.

A draft's snapshot names every consumer group of the affected topics, whoever owns them,
and the stored request keeps them all for the people who review it. A tenant is shown
only the groups of their own scope and how many others there are, so the blast radius
stays honest without naming another team's consumers.
"""

import re
from collections.abc import Callable, Iterable

from kcr.mcp.gate.identity import Scope
from kcr.model import (
    BlastRadius,
    ConsumerPositions,
    Evidence,
    EvidenceKind,
    KafkaChangeRequestSpec,
    KafkaChangeRequestStatus,
    ObservedState,
    Stage,
)

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


FOREIGN_TOPIC = "an existing topic outside your scope"


def foreign_topics(observed: ObservedState | None, scope: Scope) -> frozenset[str]:
    """Topics a snapshot names beyond the change's own: those a new name collides with."""
    return frozenset(
        t.name for t in (observed.topics if observed else []) if not scope.allows_topic(t.name)
    )


def shown_text(text: str, topics: Iterable[str]) -> str:
    """``text`` with each of ``topics`` replaced by words that do not name it."""
    for name in sorted(topics, key=len, reverse=True):
        pattern = rf"(?<![A-Za-z0-9._-])(?:existing topic )?{re.escape(name)}(?![A-Za-z0-9._-])"
        text = re.sub(pattern, FOREIGN_TOPIC, text)
    return text


def shown_observed(observed: ObservedState, scope: Scope) -> ObservedState:
    return observed.model_copy(
        update={
            "topics": [t for t in observed.topics if scope.allows_topic(t.name)],
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


GROUP_EVIDENCE = frozenset({EvidenceKind.LAG, EvidenceKind.CONSUMER_GROUP, EvidenceKind.DEPLOYMENT})


def shown_spec(spec: KafkaChangeRequestSpec, scope: Scope) -> KafkaChangeRequestSpec:
    """The spec with the foreign groups of its snapshot and evidence left out; the change
    itself is in scope, or the caller would not be reading it."""
    foreign = foreign_groups(groups_named(spec, None), scope)
    about = _names_pattern(foreign) if foreign else None
    return spec.model_copy(
        update={
            "observed": shown_observed(spec.observed, scope) if spec.observed else None,
            "evidence": [e for e in spec.evidence if about is None or not _about(e, about)],
        }
    )


def shown_status(
    status: KafkaChangeRequestStatus,
    scope: Scope,
    foreign: Iterable[str],
    topics: Iterable[str],
) -> KafkaChangeRequestStatus:
    """The status with groups outside ``scope`` left out of its snapshot, blast radius,
    consumer positions and progress verdicts; prose the operator wrote (gate results,
    history) says ``WITHHELD`` where it named a ``foreign`` group, unless the name is also
    one of the request's ``topics``."""
    text = _redactor(set(foreign) - set(topics))
    plan = status.plan
    return status.model_copy(
        update={
            "snapshot": shown_observed(status.snapshot, scope) if status.snapshot else None,
            "blast_radius": shown_blast_radius(status.blast_radius, scope)
            if status.blast_radius
            else None,
            "plan": plan.model_copy(
                update={"stages": [_shown_stage(s, scope, text) for s in plan.stages]}
            )
            if plan
            else None,
            "baseline": status.baseline.model_copy(
                update={
                    "consumer_positions": [
                        _shown_positions(p, scope) for p in status.baseline.consumer_positions
                    ]
                }
            )
            if status.baseline
            else None,
            "conditions": [
                c.model_copy(update={"message": text(c.message)}) for c in status.conditions
            ],
            "history": [h.model_copy(update={"message": text(h.message)}) for h in status.history],
            "message": text(status.message),
        }
    )


def groups_named(
    spec: KafkaChangeRequestSpec | None, status: KafkaChangeRequestStatus | None
) -> set[str]:
    """Every consumer group the request records in its snapshots, blast radius and plan."""
    states = [spec.observed if spec else None, status.snapshot if status else None]
    names = {
        g
        for s in states
        if s
        for g in [*s.consumers_of_topics, *(c.group for c in s.consumer_groups)]
    }
    if status is not None and status.blast_radius is not None:
        names |= set(status.blast_radius.consumer_groups)
    if status is not None and status.plan is not None:
        for stage in status.plan.stages:
            names |= {p.group for p in stage.progress}
            names |= (
                {p.group for p in stage.bake_positions.groups} if stage.bake_positions else set()
            )
    if status is not None and status.baseline is not None:
        names |= {g.group for p in status.baseline.consumer_positions for g in p.groups}
    return names


def _shown_stage(stage: Stage, scope: Scope, text: Callable[[str], str]) -> Stage:
    return stage.model_copy(
        update={
            "bake_positions": _shown_positions(stage.bake_positions, scope)
            if stage.bake_positions
            else None,
            "progress": [p for p in stage.progress if scope.allows_group(p.group)],
            "gate_result": text(stage.gate_result),
            "steps": [s.model_copy(update={"result": text(s.result)}) for s in stage.steps],
        }
    )


def _shown_positions(positions: ConsumerPositions, scope: Scope) -> ConsumerPositions:
    groups = [g for g in positions.groups if scope.allows_group(g.group)]
    return positions.model_copy(update={"groups": groups})


def _about(evidence: Evidence, foreign: re.Pattern[str]) -> bool:
    """Lag, group and deployment evidence naming a foreign group is about that group (or
    about a topic of the same name: it goes too, rather than risk naming the group)."""
    if evidence.kind not in GROUP_EVIDENCE:
        return False
    return bool(foreign.search(evidence.query) or foreign.search(evidence.observed_value))


def _redactor(names: Iterable[str]) -> Callable[[str], str]:
    if not names:
        return lambda text: text
    pattern = _names_pattern(names)
    return lambda text: pattern.sub(WITHHELD, text)


def _names_pattern(names: Iterable[str]) -> re.Pattern[str]:
    """Whole names only: ``orders`` is not found inside ``orders-eu``."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9._-])(?:{alternatives})(?![A-Za-z0-9._-])")
