"""Check a chained audit log: every record intact, none removed, no tail cut off.

Reads the raw lines (never through the record model, so the bytes hashed are the bytes
written) and reports each break in words an auditor can act on: which chain, which
sequence, and whether records were removed, altered or truncated.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcr.mcp.gate.audit_chain import HASH_FIELD, ChainHead, head_path, read_head, record_hash


@dataclass
class Verification:
    records: int = 0
    chains: dict[str, ChainHead] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_file(log: Path, head: Path | None = None) -> Verification:
    """The log at ``log`` against its head file (``<log>.head`` unless given)."""
    head = head or head_path(log)
    with log.open(encoding="utf-8") as stream:
        result = verify_lines(stream)
    try:
        anchored = read_head(head)
    except ValueError:
        result.problems.append(f"the head file {head} is not a chain head: it was altered")
        return result
    if anchored is None:
        result.problems.append(
            f"no head file {head}: a tail removed from the last chain cannot be ruled out"
        )
    else:
        _check_head(result, anchored, f"the head file {head}")
    return result


def verify_lines(lines: Iterable[str]) -> Verification:
    result = Verification()
    anchors: list[tuple[str, ChainHead]] = []
    for number, line in enumerate(lines, start=1):
        fields = _parse(line)
        if fields is None:
            result.problems.append(
                f"line {number} is not a whole audit record: it was altered or truncated"
            )
            continue
        result.records += 1
        chain, sequence = str(fields["chain"]), int(fields["sequence"])
        where = f"line {number} (chain {chain}, sequence {sequence})"
        if record_hash(fields) != fields[HASH_FIELD]:
            result.problems.append(f"{where}: its content does not match its hash: altered")
        _check_link(result, fields, chain, sequence, where)
        result.chains[chain] = ChainHead(chain=chain, sequence=sequence, hash=fields[HASH_FIELD])
        previous = ChainHead.parse_anchor(str(fields.get("anchor", "")))
        if sequence == 0 and previous is not None:
            anchors.append((chain, previous))
    for chain, previous in anchors:
        _check_head(result, previous, f"chain {chain}, which started after it,")
    return result


def _parse(line: str) -> dict[str, Any] | None:
    try:
        fields = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(fields, dict) or not {"chain", "sequence", HASH_FIELD} <= fields.keys():
        return None
    if not isinstance(fields["sequence"], int):
        return None
    return fields


def _check_link(
    result: Verification, fields: dict[str, Any], chain: str, sequence: int, where: str
) -> None:
    before = result.chains.get(chain)
    expected = 0 if before is None else before.sequence + 1
    if sequence != expected:
        missing = sequence - expected
        result.problems.append(
            f"{where}: expected sequence {expected}; "
            + (f"{missing} record(s) before it were removed" if missing > 0 else "out of order")
        )
    elif fields.get("previousHash", "") != (before.hash if before else ""):
        result.problems.append(f"{where}: it does not follow the record before it: altered")


def _check_head(result: Verification, head: ChainHead, who: str) -> None:
    last = result.chains.get(head.chain)
    if last is None:
        result.problems.append(
            f"{who} names chain {head.chain} ending at sequence {head.sequence}, which is "
            "not in this log: that chain was removed (or is in an earlier file)"
        )
    elif last.sequence > head.sequence and who.startswith("the head file"):
        result.problems.append(
            f"{who} says chain {head.chain} ends at sequence {head.sequence}, but the log "
            f"goes on to {last.sequence}: the head file was replaced by an older one"
        )
    elif last.sequence != head.sequence or last.hash != head.hash:
        result.problems.append(
            f"{who} says chain {head.chain} ends at sequence {head.sequence}, but the log "
            f"ends it at {last.sequence}: its tail was removed or replaced"
        )
