"""A KafkaChangeRequest as the engine reads it: a spec that may be invalid, and its status.

An invalid spec is a normal input (it ends in ``Invalid`` with the exact reasons), so the
spec is parsed here, leniently, and its errors are kept instead of raised.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Self

from pydantic import ValidationError

from kcr.engine.signals import Signals, read_signals
from kcr.model import KafkaChangeRequestSpec, KafkaChangeRequestStatus, explain


class StatusUnreadableError(ValueError):
    """``status`` does not parse: acting on it could repeat a write, so the engine refuses."""


@dataclass(frozen=True)
class ChangeRequestView:
    namespace: str
    name: str
    spec: KafkaChangeRequestSpec | None
    status: KafkaChangeRequestStatus
    spec_errors: tuple[str, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)
    generation: int | None = None
    created_at: datetime | None = None

    @property
    def signals(self) -> Signals:
        return read_signals(self.annotations)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def correlation_id(self) -> str:
        return self.spec.requested_by.correlation_id if self.spec else ""

    def with_status(self, status: KafkaChangeRequestStatus) -> Self:
        return replace(self, status=status)

    def without_annotations(self, keys: tuple[str, ...]) -> Self:
        return replace(
            self, annotations={k: v for k, v in self.annotations.items() if k not in keys}
        )

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        meta = body.get("metadata") or {}
        spec: KafkaChangeRequestSpec | None = None
        errors: tuple[str, ...] = ()
        try:
            spec = KafkaChangeRequestSpec.model_validate(body.get("spec") or {})
        except ValidationError as error:
            errors = tuple(explain(error, root="spec"))
        return cls(
            namespace=str(meta.get("namespace") or ""),
            name=str(meta.get("name") or ""),
            spec=spec,
            status=read_status(body.get("status")),
            spec_errors=errors,
            annotations=dict(meta.get("annotations") or {}),
            generation=_int_or_none(meta.get("generation")),
            created_at=_time_or_none(meta.get("creationTimestamp")),
        )


def read_status(raw: Any) -> KafkaChangeRequestStatus:
    """kcr's own status fields; keys written by others (kopf, people) are left alone."""
    if not raw:
        return KafkaChangeRequestStatus()
    if not isinstance(raw, Mapping):
        raise StatusUnreadableError(f"status must be an object, got {type(raw).__name__}")
    known = {info.alias or name for name, info in KafkaChangeRequestStatus.model_fields.items()}
    try:
        return KafkaChangeRequestStatus.model_validate({k: v for k, v in raw.items() if k in known})
    except ValidationError as error:
        raise StatusUnreadableError("; ".join(explain(error, root="status"))) from error


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _time_or_none(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
