"""AwaitRejoin: a step only. Waits until a restarted group's consumers have all rejoined.

Done when no member the snapshot saw is left, at least as many members are in the group as
before, and it is Stable (its rebalance is over). Until then the step says how far the
rejoin got and is asked again, up to the operator's step timeout. It reads, never writes,
so it has nothing to undo and repeats freely.
"""

from kcr.kafka.errors import KafkaPortError
from kcr.kafka.results import ApplyResult
from kcr.kinds.base import KindBase, StepPorts, StepRefusedError
from kcr.model import Assessment, ClusterPolicy, GroupState, Inverse, ObservedState, Risk
from kcr.model.base import KubeModel
from kcr.model.names import GroupId

SHOWN_IDS = 3


class RejoinPendingError(KafkaPortError):
    """The group's old members are still there or its new ones have not all joined yet."""

    retriable = True


class AwaitRejoin(KubeModel):
    group: GroupId


class AwaitRejoinKind(KindBase[AwaitRejoin]):
    model = AwaitRejoin
    requestable = False

    def target(self, member: AwaitRejoin) -> str:
        return f"group/{member.group}"

    def describe(self, member: AwaitRejoin) -> str:
        return (
            f"wait until group {member.group} has rejoined: new member ids, as many members "
            "as before"
        )

    def risk(self, member: AwaitRejoin, observed: ObservedState | None) -> Assessment:
        return Assessment(Risk.LOW, [self.describe(member)])

    def assess_undo(
        self, member: AwaitRejoin, live: ObservedState, policy: ClusterPolicy
    ) -> Assessment:
        return Assessment(Risk.LOW, [self.describe(member)])

    def undo(self, undo_id: str, member: AwaitRejoin, snapshot: ObservedState | None) -> Inverse:
        return Inverse(None)

    async def apply(
        self, ports: StepPorts, member: AwaitRejoin, snapshot: ObservedState | None
    ) -> ApplyResult:
        group = member.group
        before = snapshot.group(group) if snapshot else None
        if before is None:
            raise StepRefusedError(
                f"the members of group {group} before the restart are not in status.snapshot, "
                "so their rejoin cannot be judged"
            )
        if before.members == 0:
            return self.result(member, False, [f"group {group} had no members to rejoin"])
        (now,) = await ports.kafka.describe_consumer_groups([group])
        current = sorted(m.member_id for m in now.members)
        stayed = sorted(set(current) & set(before.member_ids))
        if stayed or len(current) < before.members or now.state is not GroupState.STABLE:
            raise RejoinPendingError(
                f"group {group} is {now.state.value} with {len(current)} of {before.members} "
                f"member(s); {len(stayed)} from before the restart still in it"
                + (f" ({', '.join(stayed[:SHOWN_IDS])})" if stayed else "")
            )
        return self.result(
            member,
            False,
            [
                f"group {group} rejoined: {len(current)} member(s), none of the "
                f"{len(before.member_ids)} from before (now {', '.join(current[:SHOWN_IDS])}"
                + (" ...)" if len(current) > SHOWN_IDS else ")")
            ],
        )


KIND = AwaitRejoinKind()
