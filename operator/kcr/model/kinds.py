"""The registry of change kinds: what each ``type`` of a change or a step means.

A kind is one module under :mod:`kcr.kinds` (or anywhere else) that registers an object
with this shape. Model, policy and planning code look a kind up here and ask it; none of
them names a kind, so adding one touches no dispatcher.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from kcr.model.base import KubeModel
from kcr.model.risk import Risk

if TYPE_CHECKING:  # the request model refers back to this registry through its unions
    from kcr.model.acl import AclBinding
    from kcr.model.change import DeploymentRef
    from kcr.model.cluster import ClusterPolicy, Ownership, Storage
    from kcr.model.observed import ObservedState
    from kcr.model.request import BlastRadius, DataMovement, Stage, Step
    from kcr.model.strimzi import ResourceEdit

Facts = dict[str, str]
"""Readable fact → value, compared between the draft's observed state and the live one."""


@dataclass(frozen=True)
class Assessment:
    """A change's risk, why, and what of it cannot be undone (empty: all reversible)."""

    risk: Risk
    reasons: list[str] = field(default_factory=list)
    irreversible: list[str] = field(default_factory=list)

    @property
    def reversible(self) -> bool:
        return not self.irreversible


@dataclass(frozen=True)
class Inverse:
    """What undoes a step: the step (None when nothing can), and what stays changed."""

    step: Step | None
    reasons: list[str] = field(default_factory=list)


class ChangeKind(Protocol):
    """The pure behaviour of one kind. ``member`` is always an instance of ``model``."""

    @property
    def name(self) -> str:
        """The ``type`` value, which is also the model's class name: ``CreateTopic``."""
        ...

    @property
    def field(self) -> str:
        """The member field in snake case: ``create_topic`` (``createTopic`` on the wire)."""
        ...

    @property
    def model(self) -> type[KubeModel]: ...

    @property
    def requestable(self) -> bool:
        """False for a kind that only appears as a step of another one (a Deployment scale)."""
        ...

    def target(self, member: Any) -> str:
        """The one-line target a reviewer reads: ``topic/orders``, ``group/billing``."""
        ...

    def describe(self, member: Any) -> str:
        """One sentence a reviewer reads in the plan table."""
        ...

    def topics(self, member: Any) -> list[str]:
        """The topics the change touches by name."""
        ...

    def consumer_groups(self, member: Any) -> list[str]:
        """The consumer groups the change names itself."""
        ...

    def acl_bindings(self, member: Any) -> list[AclBinding]:
        """The ACL bindings it adds or removes, which name resource patterns."""
        ...

    def quota_entities(self, member: Any) -> list[dict[str, str | None]]:
        """The client quota entities it sets: entity type (``user``, ``client-id``) → name,
        None for the type's default, which reaches every client without its own quota."""
        ...

    def claims(self, member: Any) -> list[str]:
        """Resources no other change may touch while this one runs, beyond its topics:
        ``group/<id>``, ``principal/<p>``; a key starting with ``*/`` is cluster-wide."""
        ...

    def blast_radius(self, member: Any, observed: ObservedState | None) -> BlastRadius: ...

    def data_movement(
        self, member: Any, observed: ObservedState | None, storage: Storage
    ) -> DataMovement:
        """The bytes the change copies between brokers, and how long that takes."""
        ...

    def limit_violations(
        self, member: Any, where: str, observed: ObservedState | None, policy: ClusterPolicy
    ) -> list[str]:
        """Each cluster limit or live fact that makes the change invalid, located at
        ``where`` (``spec.change.createTopic``) and naming the rule."""
        ...

    def assess(
        self, member: Any, observed: ObservedState | None, policy: ClusterPolicy
    ) -> Assessment:
        """Risk from the change and the cluster policy, never from a draft."""
        ...

    def assess_undo(self, member: Any, live: ObservedState, policy: ClusterPolicy) -> Assessment:
        """The risk of running ``member`` as a rollback step against today's state."""
        ...

    def plan_facts(self, member: Any, observed: ObservedState) -> Facts:
        """The facts the plan depends on; a difference from the draft makes it stale."""
        ...

    def left_facts(self, member: Any, state: ObservedState) -> Facts:
        """What the change left that its rollback depends on."""
        ...

    def stages(self, member: Any, canary: int, batch_size: int) -> list[Stage]: ...

    def inverse(self, step: Step, snapshot: ObservedState | None) -> Inverse:
        """The step that reverses ``step`` (whose operation is of this kind)."""
        ...

    def gate_topics(self, member: Any) -> list[str]:
        """The topics whose in-sync replicas a gate checks (none once a topic is deleted)."""
        ...

    def stopped_groups(self, member: Any, stage: Stage) -> tuple[str, ...]:
        """Groups ``stage`` leaves stopped on purpose: their progress is not judged after it."""
        ...

    def restarts_consumers(self, member: Any) -> bool:
        """The change stops consumers and starts them again, so their progress is judged
        even when no gate asks."""
        ...

    def deployment(self, member: Any) -> DeploymentRef | None:
        """The Deployment the change scales or restarts, which its review must read."""
        ...

    def deployment_problem(
        self, member: Any, labels: Mapping[str, str] | None, owners: list[Ownership]
    ) -> str | None:
        """Why the change may not touch its Deployment (labels None: not found)."""
        ...

    def warnings(self, member: Any, observed: ObservedState | None) -> list[str]: ...

    def strimzi_topic_edit(
        self, member: Any, topic: str, spec: Mapping[str, Any]
    ) -> ResourceEdit | None:
        """The KafkaTopic spec that makes this change on ``topic``; None: not its business."""
        ...

    def strimzi_user_edit(
        self, member: Any, principal: str, spec: Mapping[str, Any]
    ) -> ResourceEdit | None:
        """The KafkaUser spec that makes this change for ``principal``; None: no proposal."""
        ...


class UnknownKindError(KeyError):
    """No kind is registered under the name: the message lists those that are."""


class KindTable:
    """Kinds by name and by model class, in registration order."""

    def __init__(self) -> None:
        self._by_name: dict[str, ChangeKind] = {}
        self._by_model: dict[type[KubeModel], ChangeKind] = {}

    def register(self, kind: ChangeKind) -> None:
        if kind.model.__name__ != kind.name:
            raise ValueError(f"kind {kind.name} must be modelled by a class named {kind.name}")
        known = self._by_name.get(kind.name)
        if known is not None and known.model is not kind.model:
            raise ValueError(f"kind {kind.name} is already registered by {known.model.__module__}")
        self._by_name[kind.name] = kind
        self._by_model[kind.model] = kind

    def unregister(self, name: str) -> None:
        kind = self._by_name.pop(name, None)
        if kind is not None:
            self._by_model.pop(kind.model, None)

    def named(self, name: str) -> ChangeKind:
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownKindError(
                f"unknown kind {name!r}; kinds: {', '.join(self.names())}"
            ) from None

    def of(self, member: object) -> ChangeKind:
        """The kind whose model ``member`` is."""
        kind = self._by_model.get(type(member))  # type: ignore[arg-type]
        if kind is None:
            raise UnknownKindError(f"{type(member).__name__} is not a registered kind")
        return kind

    def names(self, *, requestable_only: bool = False) -> list[str]:
        return [k.name for k in self._by_name.values() if k.requestable or not requestable_only]

    def all(self) -> list[ChangeKind]:
        return list(self._by_name.values())


KINDS = KindTable()
"""Every kind the process knows; :mod:`kcr.kinds` registers the built-in ones."""
