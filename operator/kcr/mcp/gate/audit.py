"""One audit record per call, as a JSON line: who, which tool, with what, and how it ended.

Arguments are recorded masked and truncated. Results are recorded by their digest only:
they can be large and hold data a log should not keep, but the digest proves later which
answer the caller was given. A file log chains its records by hash
(:mod:`kcr.mcp.gate.audit_chain`). Every record is written before the caller gets its reply,
and on disk before it unless the gate lets an answered read go first
(:mod:`kcr.mcp.gate.audit_writer`).
"""

import json
import logging
import threading
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Protocol, TextIO

from pydantic import Field

from kcr.mcp.gate.audit_chain import HashChain, head_path, read_head
from kcr.mcp.gate.audit_writer import GroupCommitWriter
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
    output_digest: str = Field(
        default="", description="sha256 of the reply as sent, in canonical JSON"
    )


def recorded_arguments(arguments: Any) -> str:
    text = json.dumps(mask_mapping(arguments), sort_keys=True, ensure_ascii=False, default=str)
    if len(text) > MAX_RECORDED_ARGUMENTS:
        return text[:MAX_RECORDED_ARGUMENTS] + f"...(truncated, {len(text)} characters)"
    return text


def now_utc() -> datetime:
    return datetime.now(UTC)


class AuditSink(Protocol):
    def write(self, record: AuditRecord) -> None:
        """Queues the record (a refused request, with no answer to hold back)."""

    async def record(self, record: AuditRecord, *, sync: bool = True) -> None:
        """Returns once the record is kept, before the caller's reply leaves: on disk when
        ``sync``, else where a crash of this process keeps it, and on disk soon after."""

    def close(self) -> None: ...


class JsonLinesSink:
    """Appends one JSON object per line and flushes it, so a crash loses no record.

    Given a chain and a head file (:meth:`to_file`), each record is linked into the chain
    and synced to disk by a writer thread, a batch per sync: before :meth:`record` returns,
    or within 50 ms after it when not ``sync`` (:mod:`kcr.mcp.gate.audit_writer`).
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        owned: bool = False,
        chain: HashChain | None = None,
        head: Path | None = None,
    ) -> None:
        self._stream = stream
        self._owned = owned
        self._lock = threading.Lock()
        self._writer = GroupCommitWriter(stream, chain, head) if chain is not None else None

    @classmethod
    def to_file(cls, path: Path) -> "JsonLinesSink":
        """A chained log: the new chain names the head the previous process left."""
        path.parent.mkdir(parents=True, exist_ok=True)
        head = head_path(path)
        chain = HashChain.start(read_head(head))
        return cls(path.open("a", encoding="utf-8"), owned=True, chain=chain, head=head)

    def write(self, record: AuditRecord) -> None:
        if self._writer is not None:
            self._writer.submit(record)
            return
        with self._lock:
            self._stream.write(record.model_dump_json() + "\n")
            self._stream.flush()

    async def record(self, record: AuditRecord, *, sync: bool = True) -> None:
        if self._writer is None:
            self.write(record)
        elif sync:
            await self._writer.write(record)
        else:
            self._writer.write_now(record)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._owned:
            self._stream.close()


class LogSink:
    """Audit records as structured log lines, when no file is configured."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or logging.getLogger("kcr.mcp.audit")

    def write(self, record: AuditRecord) -> None:
        self._log.info("audit", extra={"audit": record.model_dump(mode="json")})

    async def record(self, record: AuditRecord, *, sync: bool = True) -> None:
        self.write(record)

    def close(self) -> None:
        return None


class MemorySink:
    """Keeps records in memory: for embedding the server and for its tests."""

    def __init__(self) -> None:
        self.records: list[AuditRecord] = []

    def write(self, record: AuditRecord) -> None:
        self.records.append(record)

    async def record(self, record: AuditRecord, *, sync: bool = True) -> None:
        self.write(record)

    def close(self) -> None:
        return None
