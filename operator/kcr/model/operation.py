"""One executable step's action: any registered kind, including those that are only steps.

Steps reuse the change members, so a step is checked by the same rules as the request
that produced it, and a rollback step is just another operation.
"""

from kcr.model.union import KindUnion


class Operation(KindUnion):
    """What one step does."""
