"""What the first page of a paged report read, kept briefly for the pages after it.

Reading every group's offsets is the cost of an all-groups report; paging it must not
repeat that read on each page, and every page should describe the same moment. The first
page keeps its read here under a random id carried in its cursors; later pages are cut
from it. Snapshots belong to the principal that made them, expire after ``keep`` and are
bounded by the partition rows they hold, oldest dropped first, so a busy server's memory
stays bounded. An expired cursor is refused: the caller starts again and gets a new read.
"""

import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from kcr.mcp.paging import CursorError

T = TypeVar("T")

DEFAULT_KEEP = timedelta(minutes=2)
DEFAULT_MAX_ROWS = 1_000_000


class SnapshotExpiredError(CursorError):
    pass


@dataclass(frozen=True)
class _Snapshot(Generic[T]):
    owner: str
    taken: datetime
    rows: int
    value: T


class ReportSnapshots(Generic[T]):
    def __init__(
        self,
        clock: Callable[[], datetime],
        keep: timedelta = DEFAULT_KEEP,
        max_rows: int = DEFAULT_MAX_ROWS,
    ) -> None:
        self._clock = clock
        self.keep = keep
        self._max_rows = max_rows
        self._kept: OrderedDict[str, _Snapshot[T]] = OrderedDict()
        self._rows = 0

    def put(self, owner: str, value: T, rows: int) -> str:
        """Keep ``value`` (``rows`` partition rows) and return the id its cursors carry."""
        self._expire()
        snapshot_id = secrets.token_urlsafe(16)
        self._kept[snapshot_id] = _Snapshot(owner, self._clock(), rows, value)
        self._rows += rows
        while self._rows > self._max_rows and len(self._kept) > 1:
            self._drop(next(iter(self._kept)))
        return snapshot_id

    def get(self, owner: str, snapshot_id: str) -> T:
        self._expire()
        found = self._kept.get(snapshot_id)
        if found is None or found.owner != owner:
            raise SnapshotExpiredError(
                f"the report this cursor pages through has expired (reports are kept "
                f"{int(self.keep.total_seconds())} s); start again without a cursor"
            )
        return found.value

    def _expire(self) -> None:
        oldest = self._clock() - self.keep
        while self._kept and next(iter(self._kept.values())).taken < oldest:
            self._drop(next(iter(self._kept)))

    def _drop(self, snapshot_id: str) -> None:
        self._rows -= self._kept.pop(snapshot_id).rows
