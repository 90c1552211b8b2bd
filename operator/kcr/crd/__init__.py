"""The CustomResourceDefinitions of kcr, generated from the pydantic models.

One source of truth: the models say the contract, and the CRDs, their structural
schemas and their CEL rules are derived from them, never written by hand.
"""

from kcr.crd.check import structural_problems, unbounded_fields
from kcr.crd.resources import GROUP, RESOURCES, VERSION, CrdResource, build_crds, render_crds
from kcr.crd.structural import CrdSchemaError, structural_schema

__all__ = [
    "GROUP",
    "RESOURCES",
    "VERSION",
    "CrdResource",
    "CrdSchemaError",
    "build_crds",
    "render_crds",
    "structural_problems",
    "structural_schema",
    "unbounded_fields",
]
