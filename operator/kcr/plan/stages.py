"""The staged plan: canary first, then batches, one step per target.

Pure: the same change and observed state always give the same plan, so the plan a
reviewer approved is the plan that runs (its hash is recorded with each approval).
"""

from kcr.model import KafkaChangeRequestSpec, Plan, Step
from kcr.plan.hashing import plan_hash


def build_plan(spec: KafkaChangeRequestSpec) -> Plan:
    rollout = spec.rollout
    plan = Plan(
        stages=spec.change.kind.stages(spec.change.member, rollout.canary, rollout.batch_size)
    )
    plan.hash = plan_hash(plan)
    return plan


def all_steps(plan: Plan) -> list[Step]:
    return [step for stage in plan.stages for step in stage.steps]
