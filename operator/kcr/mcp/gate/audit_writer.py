"""The chained audit log's disk writes, one batch at a time, off the event loop.

Every call's record is on disk before its reply leaves, and a sync to disk takes from a
fraction of a millisecond to several (when other processes write too). Synced one record at
a time on the event loop, it stalled every other call meanwhile: fifty sessions waited on
one disk in turn. Here one thread writes: the records queued while it synced the last batch
are linked into the chain, written and synced together (one ``fdatasync`` however many),
then their callers are released, and the chain's head is rewritten after them (a crash
between the two leaves the head behind the log, as one between the log and head writes
always could). The head is synced to disk when it is a second old or the log closes, not
after every batch: a call waits for one sync (its record), and a machine crash can leave
the head at most that second behind, which the verifier reports as an older head.
"""

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from kcr.mcp.gate.audit_chain import ChainHead, HashChain, write_head
from kcr.model.base import KubeModel

CLOSE_TIMEOUT_SECONDS = 10.0
HEAD_SYNC_SECONDS = 1.0

Done = Callable[[BaseException | None], None]
Batch = list[tuple[KubeModel, Done | None]]

log = logging.getLogger(__name__)


class GroupCommitWriter:
    """Appends linked records to ``stream`` from its own thread, a batch per sync."""

    def __init__(self, stream: TextIO, chain: HashChain, head: Path | None) -> None:
        self._stream = stream
        self._chain = chain
        self._head = head
        self._pending: Batch = []
        self._ready = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="kcr-audit-writer", daemon=True)
        self._thread.start()

    def submit(self, record: KubeModel, done: Done | None = None) -> None:
        """Queues the record; ``done`` is called from the writer thread once it is synced."""
        with self._ready:
            if self._closing:
                raise RuntimeError("the audit log is closed")
            self._pending.append((record, done))
            self._ready.notify()

    async def write(self, record: KubeModel) -> None:
        """Returns once the record is on disk; a failed write raises here."""
        loop = asyncio.get_running_loop()
        synced: asyncio.Future[None] = loop.create_future()

        def done(error: BaseException | None) -> None:
            loop.call_soon_threadsafe(_settle, synced, error)

        self.submit(record, done)
        # A cancelled caller still has its record written; it just stops waiting for it.
        await asyncio.shield(synced)

    def close(self) -> None:
        """Writes what is queued, then stops the thread (bounded wait)."""
        with self._ready:
            self._closing = True
            self._ready.notify()
        self._thread.join(CLOSE_TIMEOUT_SECONDS)

    def _run(self) -> None:
        unsynced: ChainHead | None = None  # the head written but not yet synced to disk
        synced_at = time.monotonic()
        while True:
            with self._ready:
                if not self._pending and not self._closing:
                    self._ready.wait(HEAD_SYNC_SECONDS if unsynced is not None else None)
                batch, self._pending = self._pending, []
                closing = self._closing
            head, error = self._append(batch) if batch else (None, None)
            for _, done in batch:
                if done is not None:
                    done(error)
            unsynced = head or unsynced
            if unsynced is None:
                if closing:
                    return
                continue
            durable = closing or time.monotonic() - synced_at >= HEAD_SYNC_SECONDS
            self._write_head(unsynced, durable=durable)
            if durable:
                unsynced, synced_at = None, time.monotonic()
            if closing and not self._pending:
                return

    def _write_head(self, head: ChainHead, *, durable: bool) -> None:
        if self._head is None:
            return
        try:
            write_head(self._head, head, durable=durable)
        except OSError as error:  # the next batch rewrites it
            log.warning("the audit chain's head was not written", extra={"error": str(error)})

    def _append(self, batch: Batch) -> tuple[ChainHead | None, BaseException | None]:
        lines = []
        head = None
        for record, _ in batch:
            fields, head = self._chain.link(record.model_dump(mode="json"))
            lines.append(json.dumps(fields, ensure_ascii=False) + "\n")
        try:
            self._stream.write("".join(lines))
            self._stream.flush()
            os.fdatasync(self._stream.fileno())
        except OSError as error:
            return None, error
        return head, None


def _settle(future: "asyncio.Future[None]", error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
