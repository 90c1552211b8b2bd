"""The staged plan: canary first, then batches, one step per target.

Pure: the same change and observed state always give the same plan, so the plan a
reviewer approved is the plan that runs (its hash is recorded with each approval).
"""

from kcr.model import (
    AlterAcls,
    AlterTopicConfig,
    CreateTopic,
    DeleteTopic,
    IncreasePartitions,
    KafkaChangeRequestSpec,
    Plan,
    ResetConsumerGroupOffsets,
    ScaleDeployment,
    Stage,
    Step,
)
from kcr.plan.hashing import plan_hash
from kcr.plan.steps import make_step


def build_plan(spec: KafkaChangeRequestSpec) -> Plan:
    member = spec.change.member
    if isinstance(member, AlterTopicConfig):
        stages = _config_stages(member, spec.rollout.canary, spec.rollout.batch_size)
    elif isinstance(member, ResetConsumerGroupOffsets):
        stages = _reset_stages(member)
    elif isinstance(member, AlterAcls):
        stages = _acl_stages(member)
    elif isinstance(member, IncreasePartitions):
        stages = [
            Stage(name="apply", steps=[make_step("increase-partitions", member, irreversible=True)])
        ]
    elif isinstance(member, DeleteTopic):
        stages = [Stage(name="apply", steps=[make_step("delete-topic", member, irreversible=True)])]
    else:
        assert isinstance(member, CreateTopic)
        stages = [Stage(name="apply", steps=[make_step("create-topic", member)])]
    plan = Plan(stages=stages)
    plan.hash = plan_hash(plan)
    return plan


def _config_stages(member: AlterTopicConfig, canary: int, batch_size: int) -> list[Stage]:
    topics = list(member.topics)
    groups = [topics[:canary]] + [
        topics[i : i + batch_size] for i in range(canary, len(topics), batch_size)
    ]
    stages = []
    for number, batch in enumerate(groups):
        name = "canary" if number == 0 and len(topics) > 1 else f"batch-{number}"
        if len(topics) == 1:
            name = "apply"
        steps = [
            make_step(
                f"alter-config-{topic}",
                member.model_copy(update={"topics": [topic]}),
            )
            for topic in batch
        ]
        stages.append(Stage(name=name, steps=steps))
    return stages


def _reset_stages(member: ResetConsumerGroupOffsets) -> list[Stage]:
    """Stop the consumers, reset, start them again with the replicas the snapshot saw."""
    reset = make_step("reset-offsets", member)
    deployment = member.scale_deployment
    if deployment is None:
        return [Stage(name="apply", steps=[reset])]
    stop = ScaleDeployment(namespace=deployment.namespace, name=deployment.name, replicas=0)
    start = ScaleDeployment(namespace=deployment.namespace, name=deployment.name)
    return [
        Stage(name="quiesce", steps=[make_step("scale-down", stop)]),
        Stage(name="apply", steps=[reset]),
        Stage(name="resume", steps=[make_step("scale-up", start)]),
    ]


def _acl_stages(member: AlterAcls) -> list[Stage]:
    """Grant before revoke: a client moved to a new binding never goes without one."""
    stages = []
    if member.add:
        stages.append(Stage(name="add", steps=[make_step("add-acls", AlterAcls(add=member.add))]))
    if member.remove:
        stages.append(
            Stage(name="remove", steps=[make_step("remove-acls", AlterAcls(remove=member.remove))])
        )
    return stages


def all_steps(plan: Plan) -> list[Step]:
    return [step for stage in plan.stages for step in stage.steps]
