"""Bearer tokens for streamable HTTP: a token file, or Kubernetes TokenReview plus the file.

Both verifiers implement the SDK's ``TokenVerifier``; the caller they resolve travels in the
access token's claims, so the middleware never has to look a token up twice.
"""

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol, TypeVar

from mcp.server.auth.provider import AccessToken, TokenVerifier

from kcr.kube.errors import KubeError
from kcr.mcp.gate.access_file import AccessFile, token_digest
from kcr.mcp.gate.identity import Caller
from kcr.mcp.kube import ReviewedUser

CALLER_CLAIM = "kcr.dev/caller"
DEFAULT_AUDIENCE = "kcr-mcp"
REVIEW_CACHE_SECONDS = 60.0
REVIEW_CACHE_SIZE = 1024
REFUSED_CACHE_SECONDS = 10.0
REFUSED_CACHE_SIZE = 4096

T = TypeVar("T")

log = logging.getLogger(__name__)


def access_token_for(token: str, caller: Caller) -> AccessToken:
    return AccessToken(
        token=token,
        client_id=caller.principal,
        scopes=[str(r) for r in caller.roles],
        subject=caller.principal,
        claims={CALLER_CLAIM: caller.model_dump(mode="json")},
    )


def caller_of(token: AccessToken) -> Caller | None:
    """The caller a verifier put in the claims; None when the token carries none."""
    claim = (token.claims or {}).get(CALLER_CLAIM)
    return Caller.model_validate(claim) if isinstance(claim, dict) else None


class TokenFileVerifier:
    """Tokens listed in the access file, compared by sha256 digest."""

    def __init__(self, access: AccessFile) -> None:
        self._access = access

    async def verify_token(self, token: str) -> AccessToken | None:
        caller = self._access.caller_for_token(token)
        if caller is None:
            log.info("bearer token not in the access file", extra={"tokenDigest": _short(token)})
            return None
        return access_token_for(token, caller)


class TokenReviewer(Protocol):
    async def review_token(self, token: str, audience: str) -> ReviewedUser | None:
        """The user the API server says the token belongs to, if it was issued for
        ``audience``; None if the server refuses it."""
        ...


class TokenReviewVerifier:
    """Asks the API server who a token belongs to, then the access file what they may do.

    Answers are cached briefly (by token digest), so a chatty client does not turn every
    call into a TokenReview. Refusals are cached for less time, and apart, so a flood of
    made-up tokens neither reviews one token twice nor pushes the accepted ones out of
    the cache. A valid token whose user the access file does not name is
    refused: being a Kubernetes user grants nothing here, and neither does a token issued
    for another audience (the API server's own, say). When the API server cannot be
    asked, the token is refused and nothing is cached (fail closed, retry next call).
    """

    def __init__(
        self,
        reviewer: TokenReviewer,
        access: AccessFile,
        *,
        audience: str = DEFAULT_AUDIENCE,
        fallback: TokenFileVerifier | None = None,
        ttl: float = REVIEW_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reviewer = reviewer
        self._access = access
        self._audience = audience
        self._fallback = fallback
        self._ttl = ttl
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, Caller]] = OrderedDict()
        self._refused: OrderedDict[str, float] = OrderedDict()
        self._lock = asyncio.Lock()

    async def verify_token(self, token: str) -> AccessToken | None:
        if self._fallback is not None:
            listed = await self._fallback.verify_token(token)
            if listed is not None:
                return listed
        caller = await self._caller(token)
        return None if caller is None else access_token_for(token, caller)

    async def _caller(self, token: str) -> Caller | None:
        key = token_digest(token)
        now = self._clock()
        async with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] > now:
                return cached[1]
            refused_until = self._refused.get(key)
            if refused_until is not None and refused_until > now:
                return None
        try:
            reviewed = await self._reviewer.review_token(token, self._audience)
        except KubeError as error:
            log.warning("TokenReview failed; the token is refused", extra={"error": str(error)})
            return None
        caller = (
            None
            if reviewed is None
            else self._access.caller_for_subject(reviewed.username, reviewed.groups)
        )
        if reviewed is not None and caller is None:
            log.info(
                "TokenReview accepted a user the access file does not name",
                extra={"user": reviewed.username},
            )
        async with self._lock:
            if caller is None:
                _remember(self._refused, key, now + min(self._ttl, REFUSED_CACHE_SECONDS))
                while len(self._refused) > REFUSED_CACHE_SIZE:
                    self._refused.popitem(last=False)
            else:
                _remember(self._cache, key, (now + self._ttl, caller))
                while len(self._cache) > REVIEW_CACHE_SIZE:
                    self._cache.popitem(last=False)
        return caller


def _remember(cache: "OrderedDict[str, T]", key: str, value: T) -> None:
    cache[key] = value
    cache.move_to_end(key)


def _short(token: str) -> str:
    return token_digest(token)[:12]


class FirstAccepting:
    """Several ways in side by side (the access file, JWTs, TokenReview): the first
    verifier that accepts a token decides who the caller is."""

    def __init__(self, verifiers: list[TokenVerifier]) -> None:
        self._verifiers = verifiers

    async def verify_token(self, token: str) -> AccessToken | None:
        for verifier in self._verifiers:
            accepted = await verifier.verify_token(token)
            if accepted is not None:
                return accepted
        return None
