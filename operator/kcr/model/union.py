"""Kubernetes-style discriminated unions: ``type`` names the one member field that is set."""

from typing import Any, ClassVar

from pydantic import model_validator
from pydantic.alias_generators import to_camel

from kcr.model.base import KubeModel


class TaggedUnion(KubeModel):
    """Subclasses declare ``type`` plus one optional field per member.

    ``MEMBERS`` maps each ``type`` value to the Python name of its member field; the same
    table generates the CEL rules of the CRD, so the API server and pydantic agree.
    """

    MEMBERS: ClassVar[dict[str, str]]
    type: Any

    @model_validator(mode="before")
    @classmethod
    def _exactly_one_member(cls, data: Any) -> Any:
        """Checked on the raw object, so a shape error is reported before member errors."""
        if not isinstance(data, dict):
            return data
        kind = data.get("type")
        kind = getattr(kind, "value", kind)
        if kind not in cls.MEMBERS:
            return data  # the enum check on ``type`` names the allowed values
        present = [
            name
            for name in cls.MEMBERS.values()
            if data.get(name) is not None or data.get(to_camel(name)) is not None
        ]
        expected = cls.MEMBERS[kind]
        if present == [expected]:
            return data
        spelled = ", ".join(to_camel(name) for name in present) or "none"
        raise ValueError(
            f"type {kind} needs exactly the member {to_camel(expected)!r} set and no other "
            f"(set: {spelled})"
        )

    @property
    def member(self) -> Any:
        """The one member that ``type`` names."""
        return getattr(self, self.MEMBERS[str(self.type)])

    @classmethod
    def member_fields(cls) -> dict[str, str]:
        """``type`` value → camelCase member field, as the CRD spells it."""
        return {kind: to_camel(name) for kind, name in cls.MEMBERS.items()}
