"""Pure planning: staged steps, their rollback, and the hashes approvals bind to."""

from kcr.plan.hashing import canonical_json, plan_hash, rollback_hash, spec_hash
from kcr.plan.review import Parsed, Review, parse_request, review_spec
from kcr.plan.rollback import build_rollback
from kcr.plan.stages import all_steps, build_plan

__all__ = [
    "Parsed",
    "Review",
    "all_steps",
    "build_plan",
    "build_rollback",
    "canonical_json",
    "parse_request",
    "plan_hash",
    "review_spec",
    "rollback_hash",
    "spec_hash",
]
