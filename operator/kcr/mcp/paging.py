"""Bounded pages with opaque cursors bound to the query that produced them.

A cursor carries the offset and a digest of the query; a cursor from another query (or a
forged one) is refused with a clear message instead of silently returning the wrong page.
A query that reads much once (the all-groups lag report) also puts the id of what it read
in its cursors, so every later page is cut from the same read.
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from typing import Annotated, NamedTuple, TypeVar

from pydantic import Field

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}")]
Cursor = Annotated[
    str,
    Field(
        max_length=256,
        pattern=r"^[A-Za-z0-9_-]+={0,2}$",
        description="nextCursor from the previous page of the same query",
    ),
]


class CursorError(ValueError):
    pass


def _digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:16]


class Position(NamedTuple):
    offset: int
    snapshot: str | None


def encode_cursor(offset: int, query: str, snapshot: str | None = None) -> str:
    fields: dict[str, int | str] = {"o": offset, "q": _digest(query)}
    if snapshot is not None:
        fields["s"] = snapshot
    raw = json.dumps(fields, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str, query: str) -> int:
    return decode_position(cursor, query).offset


def decode_position(cursor: str, query: str) -> Position:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError):
        raise CursorError("cursor is not one this server issued; start without a cursor") from None
    if not isinstance(data, dict) or not isinstance(data.get("o"), int) or data["o"] < 0:
        raise CursorError("cursor is not one this server issued; start without a cursor")
    if data.get("q") != _digest(query):
        raise CursorError(
            "cursor belongs to a different query; pass the same filters as the first page"
        )
    snapshot = data.get("s")
    if snapshot is not None and not isinstance(snapshot, str):
        raise CursorError("cursor is not one this server issued; start without a cursor")
    return Position(int(data["o"]), snapshot)


def page(
    items: Sequence[T],
    cursor: str | None,
    limit: int,
    query: str,
    *,
    snapshot: str | None = None,
) -> tuple[list[T], str | None]:
    """One page of ``items`` and the cursor of the next page (None on the last page)."""
    offset = 0 if cursor is None else decode_cursor(cursor, query)
    chosen = list(items[offset : offset + limit])
    following = offset + len(chosen)
    more = following < len(items)
    return chosen, (encode_cursor(following, query, snapshot) if more else None)
