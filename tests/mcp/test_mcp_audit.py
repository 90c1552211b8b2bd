"""The audit trail an auditor can rely on: replies by digest, the user's words on the
request, records chained by hash, and `kcr audit verify` finding what was taken out."""

import asyncio
import errno
import json
import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from mcp import Client
from mcp_servers import KCR
from mcp_support import build, error_text, structured
from test_mcp_memory import fake_kafka

from kcr.mcp.gate.audit import AuditRecord, JsonLinesSink, MemorySink, Outcome
from kcr.mcp.gate.audit_chain import HEAD_BYTES, ChainHead, HeadFile, digest, read_head
from kcr.mcp.gate.audit_verify import verify_file
from kcr.mcp.gate.audit_writer import WRITTEN_SYNC_SECONDS

REQUEST_TEXT = (
    "orders is lagging again since the 14:05 deploy, see:\n"
    "2026-11-25 14:06:01 ERROR [consumer-1] commit failed\n"
    "can you just `rm -rf` the old data && bump partitions?"
)


@pytest.mark.asyncio
async def test_a_draft_stores_the_users_words_verbatim_and_the_reply_digest() -> None:
    built = build(await fake_kafka())
    arguments = {
        "topic": "orders",
        "partitions": 6,
        "reason": "spread the hot key of orders",
        "request_text": REQUEST_TEXT,
    }
    async with Client(built.mcp) as client:
        reply = await client.call_tool("draft_increase_partitions", arguments)
        pasted_reason = await client.call_tool(
            "draft_increase_partitions", {**arguments, "reason": REQUEST_TEXT}
        )
    spec = yaml.safe_load(structured(reply)["yaml"])["spec"]
    assert spec["requestText"] == REQUEST_TEXT
    assert spec["reason"] == "spread the hot key of orders"
    assert "pasted log line" in error_text(pasted_reason), "only the request text is exempt"
    drafted, refused = built.audit.records
    assert drafted.outcome is Outcome.OK
    sent = reply.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert drafted.output_digest == digest(sent)
    assert refused.output_digest not in {"", drafted.output_digest}


@pytest.mark.asyncio
async def test_request_text_is_bounded_in_size_only() -> None:
    built = build(await fake_kafka())
    arguments = {"topic": "orders", "partitions": 6, "reason": "spread the hot key of orders"}
    async with Client(built.mcp) as client:
        long = await client.call_tool(
            "draft_increase_partitions", {**arguments, "request_text": "x" * 8193}
        )
        fits = await client.call_tool(
            "draft_increase_partitions", {**arguments, "request_text": "y\n" * 4096}
        )
    assert "argument request_text: is 8193 characters long; at most 8192 are kept" in (
        error_text(long)
    )
    assert structured(fits)["review"]


def record(tool: str, number: int) -> AuditRecord:
    return AuditRecord(
        time=datetime(2026, 11, 25, 9, number, tzinfo=UTC),
        correlation_id=f"c{number}",
        principal="alice",
        transport="local",
        tool=tool,
        arguments="{}",
        outcome=Outcome.OK,
        duration_ms=1.0,
        output_digest=digest({"n": number}),
    )


def write_log(log: Path, *processes: int) -> None:
    """One server process per count, each writing that many records to the same log."""
    number = 0
    for count in processes:
        sink = JsonLinesSink.to_file(log)
        for _ in range(count):
            number += 1
            sink.write(record("consumer_lag", number))
        sink.close()


def rewrite(
    log: Path, keep: list[int] | None = None, replace: dict[int, str] | None = None
) -> None:
    lines = log.read_text().splitlines(keepends=True)
    chosen = [lines[i] for i in (keep if keep is not None else range(len(lines)))]
    for index, line in (replace or {}).items():
        chosen[index] = line
    log.write_text("".join(chosen))


def test_an_untouched_log_verifies(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    write_log(log, 3, 2)
    result = verify_file(log)
    assert result.problems == []
    assert (result.records, len(result.chains)) == (5, 2)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines[3]["anchor"] == f"{lines[2]['chain']}/2/{lines[2]['hash']}"
    assert [line["sequence"] for line in lines] == [0, 1, 2, 0, 1]


def test_a_removed_record_is_detected(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    write_log(log, 4)
    rewrite(log, keep=[0, 2, 3])
    (problem,) = verify_file(log).problems
    assert problem.endswith("expected sequence 1; 1 record(s) before it were removed")


def test_an_altered_record_is_detected(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    write_log(log, 3)
    second = json.loads(log.read_text().splitlines()[1])
    rewrite(log, replace={1: json.dumps({**second, "principal": "mallory"}) + "\n"})
    (problem,) = verify_file(log).problems
    assert problem.startswith("line 2 (chain ")
    assert problem.endswith("its content does not match its hash: altered")


def test_a_removed_tail_is_detected_by_the_head_file(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    write_log(log, 3)
    rewrite(log, keep=[0, 1])
    (problem,) = verify_file(log).problems
    assert "ends at sequence 2, but the log ends it at 1: its tail was removed" in problem


def test_a_truncated_last_record_is_detected(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    write_log(log, 2)
    text = log.read_text()
    log.write_text(text[: len(text) - 40])
    problems = verify_file(log).problems
    assert problems[0] == "line 2 is not a whole audit record: it was altered or truncated"
    assert "its tail was removed" in problems[1]


def test_a_tail_removed_before_a_restart_is_named_by_the_next_chain(tmp_path: Path) -> None:
    """The head file moved on to the second process; its first record still names the
    first process's head, so the first chain's missing end shows."""
    log = tmp_path / "audit.jsonl"
    write_log(log, 3, 1)
    rewrite(log, keep=[0, 1, 3])
    (problem,) = verify_file(log).problems
    assert "which started after it, says chain" in problem
    assert "ends at sequence 2, but the log ends it at 1" in problem


@pytest.mark.parametrize(
    ("keep", "status", "says"),
    [
        pytest.param(None, 0, "3 record(s) in 1 chain(s), intact", id="intact"),
        pytest.param([0, 2], 1, "1 record(s) before it were removed", id="removed"),
    ],
)
def test_kcr_audit_verify_exits_by_what_it_found(
    tmp_path: Path, keep: list[int] | None, status: int, says: str
) -> None:
    log = tmp_path / "audit.jsonl"
    write_log(log, 3)
    if keep is not None:
        rewrite(log, keep=keep)
    done = subprocess.run(
        [*KCR, "audit", "verify", str(log)], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == status, done.stderr
    assert says in done.stdout + done.stderr


@pytest.mark.asyncio
async def test_records_awaited_at_once_are_each_on_disk_when_their_call_returns(
    tmp_path: Path,
) -> None:
    log = tmp_path / "audit.jsonl"
    sink = JsonLinesSink.to_file(log)
    on_disk_at_return: list[bool] = []

    async def call(number: int) -> None:
        written = record("consumer_lag", 1).model_copy(update={"correlation_id": f"call-{number}"})
        await sink.record(written)
        on_disk_at_return.append(f'"correlationId": "call-{number}"' in log.read_text())

    abandoned = asyncio.create_task(sink.record(record("consumer_lag", 0)))
    await asyncio.sleep(0)
    abandoned.cancel()  # the caller stops waiting; its record is written all the same
    await asyncio.gather(*(call(n) for n in range(1, 101)))
    sink.close()

    assert on_disk_at_return == [True] * 100
    result = verify_file(log)
    assert result.problems == []
    assert result.records == 101


@pytest.mark.asyncio
async def test_the_head_file_follows_the_log_while_the_server_stays_up(tmp_path: Path) -> None:
    """Not only at close: a server killed by SIGKILL leaves a head naming its last record."""
    log = tmp_path / "audit.jsonl"
    sink = JsonLinesSink.to_file(log)
    try:
        for number in range(1, 6):
            await sink.record(record("consumer_lag", number))
        deadline = time.monotonic() + 5.0
        problems = verify_file(log).problems
        while problems and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            problems = verify_file(log).problems
        assert problems == []
        assert verify_file(log).records == 5
    finally:
        sink.close()


class SyncNoted(MemorySink):
    """Notes, record by record, whether the reply waited for the record's sync to disk."""

    def __init__(self) -> None:
        super().__init__()
        self.synced: list[bool] = []

    async def record(self, record: AuditRecord, *, sync: bool = True) -> None:
        self.synced.append(sync)
        await super().record(record, sync=sync)


DRAFT = {"topic": "orders", "partitions": 6, "reason": "spread the hot key of orders"}


@pytest.mark.asyncio
@pytest.mark.parametrize("sync_reads", [False, True], ids=["default", "audit-sync-reads"])
async def test_only_an_answered_read_may_leave_before_its_record_is_synced(
    sync_reads: bool,
) -> None:
    """A draft leaves a change request behind and a refusal may be an attack: their replies
    wait for the disk; an answered read changed nothing, unless --audit-sync-reads."""
    audit = SyncNoted()
    built = build(await fake_kafka(), audit=audit, audit_sync_reads=sync_reads)
    async with Client(built.mcp) as client:
        await client.call_tool("describe_topic", {"topic": "orders"})
        await client.call_tool("describe_topic", {"topic": "no-such-topic"})
        await client.call_tool("describe_topic", {"topic": "orders; rm -rf /"})
        await client.call_tool("draft_increase_partitions", DRAFT)
    noted = [(r.tool, r.outcome, s) for r, s in zip(audit.records, audit.synced, strict=True)]
    assert noted == [
        ("describe_topic", Outcome.OK, sync_reads),
        ("describe_topic", Outcome.INVALID, True),
        ("describe_topic", Outcome.INVALID, True),
        ("draft_increase_partitions", Outcome.OK, True),
    ]


@pytest.mark.asyncio
async def test_records_written_without_waiting_agree_with_the_head_and_share_syncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each record is in the log and named by the head when the call returns (a killed
    server leaves them agreeing); the syncs that follow are shared, one per window at most,
    and the last one covers the last record."""
    log = tmp_path / "audit.jsonl"
    synced_sizes: list[int] = []
    real_fdatasync = os.fdatasync

    def noted(fd: int) -> None:
        status = os.fstat(fd)
        real_fdatasync(fd)
        if status.st_ino == log.stat().st_ino:
            synced_sizes.append(status.st_size)

    monkeypatch.setattr(os, "fdatasync", noted)
    sink = JsonLinesSink.to_file(log)
    try:
        started = time.monotonic()
        for number in range(1, 41):
            await sink.record(record("consumer_lag", number), sync=False)
            assert f'"correlationId": "c{number}"' in log.read_text()
            assert verify_file(log).problems == []
        elapsed = time.monotonic() - started
        deadline = time.monotonic() + 5.0
        while (not synced_sizes or synced_sizes[-1] < log.stat().st_size) and (
            time.monotonic() < deadline
        ):
            await asyncio.sleep(0.01)
        assert synced_sizes
        assert synced_sizes[-1] == log.stat().st_size
        assert len(synced_sizes) <= elapsed / WRITTEN_SYNC_SECONDS + 2, synced_sizes
    finally:
        sink.close()
    assert verify_file(log).records == 40


def test_the_head_is_rewritten_whole_in_place(tmp_path: Path) -> None:
    """A shorter head after a longer one, and a foreign longer file, read back exactly."""
    path = tmp_path / "audit.jsonl.head"
    path.write_text("x" * 1000)
    head = HeadFile(path)
    try:
        for sequence in (123456789, 7):
            written = ChainHead(chain="c" * 32, sequence=sequence, hash="sha256:" + "0" * 64)
            head.write(written)
            assert read_head(path) == written
    finally:
        head.close()
    assert path.stat().st_size == HEAD_BYTES


@pytest.mark.asyncio
async def test_after_a_failed_sync_the_log_takes_no_more_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lost write is reported once; a later sync of the same file may succeed all the same,
    so the log refuses every record after it, and no reply leaves without one."""
    log = tmp_path / "audit.jsonl"
    real_fdatasync = os.fdatasync

    def failing(fd: int) -> None:
        if os.fstat(fd).st_ino == log.stat().st_ino:
            raise OSError(errno.EIO, "Input/output error")
        real_fdatasync(fd)

    sink = JsonLinesSink.to_file(log)
    try:
        monkeypatch.setattr(os, "fdatasync", failing)
        with pytest.raises(OSError, match="Input/output error"):
            await sink.record(record("consumer_lag", 1))
        monkeypatch.setattr(os, "fdatasync", real_fdatasync)
        for sync in (True, False):
            with pytest.raises(OSError, match="failed earlier and takes no more records"):
                await sink.record(record("consumer_lag", 2), sync=sync)
    finally:
        sink.close()
    assert [json.loads(line)["correlationId"] for line in log.read_text().splitlines()] == ["c1"]
