"""Who is changing which Kafka resource right now, across every watched namespace.

kopf's index gives the state as last seen on the watch stream (fully listed before any
daemon starts); this process's own recent writes overlay it, because the watch stream
lags behind them. A lock makes "check for blockers, then start" one step per process.
"""

import asyncio
from collections.abc import Iterable, Mapping

from kcr.engine import Blocker
from kcr.model import Phase
from kcr.policy.authority import ACTIVE_PHASES

Holder = tuple[str, str]
"""(request ``namespace/name``, phase)"""


class ClaimBook:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self._local: dict[str, tuple[Phase, frozenset[str]]] = {}

    def record(self, request: str, phase: Phase, claims: frozenset[str]) -> None:
        self._local[request] = (phase, claims)

    def forget(self, request: str) -> None:
        self._local.pop(request, None)

    def blockers(
        self,
        request: str,
        claims: frozenset[str],
        index: Mapping[str, Iterable[Holder]],
    ) -> tuple[Blocker, ...]:
        holders: dict[str, tuple[Phase, set[str]]] = {}
        for claim in claims:
            for other, phase in index.get(claim, ()):
                if other != request and other not in self._local:
                    holders.setdefault(other, (Phase(phase), set()))[1].add(claim)
        for other, (phase, held) in self._local.items():
            overlap = held & claims
            if other != request and overlap and phase in ACTIVE_PHASES:
                holders.setdefault(other, (phase, set()))[1].update(overlap)
        return tuple(
            Blocker(request=other, phase=phase, resources=tuple(sorted(held)))
            for other, (phase, held) in sorted(holders.items())
        )
