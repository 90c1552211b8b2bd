"""One audit record per call, as a JSON line: who, which tool, with what, and how it ended.

Arguments are recorded masked and truncated; results are not recorded (they can be large,
and the arguments plus the outcome are what an auditor needs to replay a question).
"""

import json
import logging
import threading
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Protocol, TextIO

from pydantic import Field

from kcr.mcp.masking import mask_mapping
from kcr.model.base import KubeModel

MAX_RECORDED_ARGUMENTS = 4096

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    OK = "ok"
    ERROR = "error"
    INVALID = "invalid"
    DENIED = "denied"
    RATE_LIMITED = "rate_limited"
    UNAUTHENTICATED = "unauthenticated"


class AuditRecord(KubeModel):
    time: datetime
    correlation_id: str
    principal: str
    tenant: str = ""
    transport: str
    tool: Annotated[str, Field(max_length=128)]
    arguments: str = Field(description="The arguments as JSON, masked and truncated")
    outcome: Outcome
    reason: str = ""
    duration_ms: float


def recorded_arguments(arguments: Any) -> str:
    text = json.dumps(mask_mapping(arguments), sort_keys=True, ensure_ascii=False, default=str)
    if len(text) > MAX_RECORDED_ARGUMENTS:
        return text[:MAX_RECORDED_ARGUMENTS] + f"...(truncated, {len(text)} characters)"
    return text


def now_utc() -> datetime:
    return datetime.now(UTC)


class AuditSink(Protocol):
    def write(self, record: AuditRecord) -> None: ...

    def close(self) -> None: ...


class JsonLinesSink:
    """Appends one JSON object per line and flushes it, so a crash loses no record."""

    def __init__(self, stream: TextIO, *, owned: bool = False) -> None:
        self._stream = stream
        self._owned = owned
        self._lock = threading.Lock()

    @classmethod
    def to_file(cls, path: Path) -> "JsonLinesSink":
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(path.open("a", encoding="utf-8"), owned=True)

    def write(self, record: AuditRecord) -> None:
        line = record.model_dump_json()
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def close(self) -> None:
        if self._owned:
            self._stream.close()


class LogSink:
    """Audit records as structured log lines, when no file is configured."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or logging.getLogger("kcr.mcp.audit")

    def write(self, record: AuditRecord) -> None:
        self._log.info("audit", extra={"audit": record.model_dump(mode="json")})

    def close(self) -> None:
        return None


class MemorySink:
    """Keeps records in memory: for embedding the server and for its tests."""

    def __init__(self) -> None:
        self.records: list[AuditRecord] = []

    def write(self, record: AuditRecord) -> None:
        self.records.append(record)

    def close(self) -> None:
        return None
