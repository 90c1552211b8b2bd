"""AlterAcls: grant and revoke ACL bindings, grants first.

Bindings name resource *patterns*, so the blast radius lists patterns and weighs their
reach; only a literal binding on a valid name also counts as that topic or group.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import Field, model_validator

from kcr.crd.rules import Rule
from kcr.kafka.results import ApplyResult
from kcr.kinds.base import KindBase, StepPorts
from kcr.model import (
    AclBinding,
    AclPatternType,
    AclPermission,
    AclResourceType,
    Assessment,
    BlastRadius,
    ClusterPolicy,
    Facts,
    Inverse,
    ObservedState,
    Risk,
    Stage,
)
from kcr.model.base import KubeModel
from kcr.model.change import MAX_BINDINGS_PER_CHANGE
from kcr.model.names import check_group_id, check_topic_name
from kcr.model.strimzi import ResourceEdit
from kcr.plan.steps import make_step
from kcr.policy.acl_breadth import acl_breadth
from kcr.policy.blast_radius import acl_resource
from kcr.policy.strimzi_specs import user_acls_edit


class AlterAcls(KubeModel):
    add: Annotated[list[AclBinding], Field(max_length=MAX_BINDINGS_PER_CHANGE)] = Field(
        default_factory=list
    )
    remove: Annotated[list[AclBinding], Field(max_length=MAX_BINDINGS_PER_CHANGE)] = Field(
        default_factory=list
    )

    CEL_RULES: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "(has(self.add) && size(self.add) > 0) || (has(self.remove) && size(self.remove) > 0)",
            "nothing to change: give at least one binding in 'add' or 'remove'",
        ),
    )

    @model_validator(mode="after")
    def _something_to_do(self) -> Self:
        if not self.add and not self.remove:
            raise ValueError("nothing to change: give at least one binding in 'add' or 'remove'")
        both = {b.key() for b in self.add} & {b.key() for b in self.remove}
        if both:
            raise ValueError(f"a binding cannot be both added and removed: {sorted(both)[0]}")
        return self

    def bindings(self) -> list[AclBinding]:
        return [*self.add, *self.remove]

    def principals(self) -> list[str]:
        return sorted({b.principal for b in self.bindings()})


class AlterAclsKind(KindBase[AlterAcls]):
    model = AlterAcls

    def topics(self, member: AlterAcls) -> list[str]:
        return _literal_names(member, AclResourceType.TOPIC, check_topic_name)

    def target(self, member: AlterAcls) -> str:
        principals = member.principals()
        more = len(principals) - 1
        return principals[0] + (f" +{more}" if more else "")

    def describe(self, member: AlterAcls) -> str:
        return "; ".join(
            [f"add {b.key()}" for b in member.add] + [f"remove {b.key()}" for b in member.remove]
        )

    def consumer_groups(self, member: AlterAcls) -> list[str]:
        return _literal_names(member, AclResourceType.GROUP, check_group_id)

    def acl_bindings(self, member: AlterAcls) -> list[AclBinding]:
        return member.bindings()

    def strimzi_user_edit(
        self, member: AlterAcls, principal: str, spec: Mapping[str, Any]
    ) -> ResourceEdit:
        return user_acls_edit(spec, principal, member.add, member.remove)

    def claims(self, member: AlterAcls) -> list[str]:
        return [f"principal/{p}" for p in member.principals()]

    def blast_radius(self, member: AlterAcls, observed: ObservedState | None) -> BlastRadius:
        radius = super().blast_radius(member, observed)
        return radius.model_copy(
            update={
                "principals": member.principals(),
                "acl_resources": sorted({acl_resource(b) for b in member.bindings()}),
            }
        )

    def assess(
        self, member: AlterAcls, observed: ObservedState | None, policy: ClusterPolicy
    ) -> Assessment:
        """Bindings name patterns, so they weigh their own reach over protected topics."""
        if member.remove:
            risk = Risk.HIGH
            reasons = [
                f"removes {len(member.remove)} ACL bindings: clients relying on them lose access"
            ]
        elif any(b.permission is AclPermission.DENY for b in member.add):
            risk, reasons = Risk.MEDIUM, ["adds Deny bindings, which can cut off running clients"]
        else:
            risk, reasons = Risk.LOW, ["only grants access; nothing running loses any"]
        for binding in member.bindings():
            for found in acl_breadth(binding, policy):
                risk = max(risk, found.risk, key=lambda r: r.rank)
                reasons.append(found.reason)
        return Assessment(risk, reasons)

    def plan_facts(self, member: AlterAcls, observed: ObservedState) -> Facts:
        facts = super().plan_facts(member, observed)
        existing = {b.key() for b in observed.acls}
        for binding in member.bindings():
            present = binding.key() in existing
            facts[f"ACL binding {binding.key()}"] = "present" if present else "absent"
        return facts

    def stages(self, member: AlterAcls, canary: int, batch_size: int) -> list[Stage]:
        """Grant before revoke: a client moved to a new binding never goes without one."""
        stages = []
        if member.add:
            step = make_step("add-acls", AlterAcls(add=member.add))
            stages.append(Stage(name="add", steps=[step]))
        if member.remove:
            step = make_step("remove-acls", AlterAcls(remove=member.remove))
            stages.append(Stage(name="remove", steps=[step]))
        return stages

    def undo(self, undo_id: str, member: AlterAcls, snapshot: ObservedState | None) -> Inverse:
        existing = {b.key() for b in (snapshot.acls if snapshot else [])}
        remove = [b for b in member.add if b.key() not in existing]
        add: list[AclBinding] = [b for b in member.remove if b.key() in existing]
        if snapshot is None and member.remove:
            add = list(member.remove)
        if not add and not remove:
            return Inverse(None)
        return Inverse(make_step(undo_id, AlterAcls(add=add, remove=remove)))

    async def snapshot(self, ports: StepPorts, member: AlterAcls, now: datetime) -> ObservedState:
        """The bindings it names that exist, and the readers of the topics it binds: a revoke
        (or a Deny) stops them, so they are in its blast radius."""
        kafka = ports.kafka
        topics = self.topics(member)
        return ObservedState(
            captured_at=now,
            brokers=await kafka.broker_count(),
            acls=await kafka.existing_acls(member.bindings()),
            consumers_of_topics=await kafka.consumers_of(topics) if topics else [],
        )

    async def apply(
        self, ports: StepPorts, member: AlterAcls, snapshot: ObservedState | None
    ) -> ApplyResult:
        """Creates the missing bindings of ``add``, deletes the existing ones of ``remove``."""
        present = {b.key() for b in await ports.kafka.existing_acls(member.bindings())}
        to_add = [b for b in member.add if b.key() not in present]
        to_remove = [b for b in member.remove if b.key() in present]
        await ports.kafka.change_acls(to_add, to_remove)
        details = [f"added {b.key()}" for b in to_add] + [f"removed {b.key()}" for b in to_remove]
        if not details:
            details = ["every binding is already as requested"]
        return self.result(member, bool(to_add or to_remove), details)


def _literal_names(
    member: AlterAcls, kind: AclResourceType, check: Callable[[str], str]
) -> list[str]:
    """Names that literal bindings of ``kind`` give exactly and Kafka accepts as such."""
    names = {
        b.resource_name
        for b in member.bindings()
        if b.resource_type is kind
        and b.pattern_type is AclPatternType.LITERAL
        and b.resource_name != "*"
    }
    return sorted(name for name in names if _valid(check, name))


def _valid(check: Callable[[str], str], name: str) -> bool:
    try:
        check(name)
    except ValueError:
        return False
    return True


KIND = AlterAclsKind()
