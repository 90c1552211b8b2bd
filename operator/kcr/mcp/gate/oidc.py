"""JWT access tokens from an OIDC issuer: kcr as an OAuth 2.1 resource server.

A token is accepted when its signature verifies against a key the issuer publishes (the
``jwks_uri`` of its discovery document), and its issuer, audience and expiry are the ones
expected. Who the caller is follows the API server's own OIDC rules
(``--oidc-username-claim``, ``--oidc-username-prefix``, ``--oidc-groups-claim``,
``--oidc-groups-prefix``), so the caller's name is the Kubernetes user the admission policy
and the operator compare with approvers: nobody approves their own draft under a second
name. What the caller may do is the access file's grant for that user or its groups,
narrowed to the OAuth scopes the token carries (``kcr:read``, ``kcr:draft``).
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from mcp.server.auth.provider import AccessToken

from kcr.mcp.gate.access_file import AccessFile
from kcr.mcp.gate.auth import access_token_for
from kcr.mcp.gate.identity import Role

READ_SCOPE = "kcr:read"
DRAFT_SCOPE = "kcr:draft"
SCOPES = (READ_SCOPE, DRAFT_SCOPE)
ROLE_OF_SCOPE = {READ_SCOPE: Role.VIEWER, DRAFT_SCOPE: Role.DRAFTER}
NO_PREFIX = "-"
# Asymmetric algorithms only: a shared-secret (HS*) or unsigned token proves nothing here.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
CLOCK_SKEW_SECONDS = 30
JWKS_MAX_AGE_SECONDS = 300.0
JWKS_MIN_REFRESH_SECONDS = 30.0
FETCH_TIMEOUT_SECONDS = 5.0

log = logging.getLogger(__name__)


class TokenRefusedError(Exception):
    """Why a token is not accepted; logged, never shown to an unauthenticated caller."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    audience: str
    username_claim: str = "sub"
    username_prefix: str | None = None
    """As the API server: unset means ``<issuer>#`` unless the claim is ``email``; ``-``
    means no prefix."""
    groups_claim: str = "groups"
    groups_prefix: str = ""
    jwks_url: str | None = None
    """Where the keys are; default: ``jwks_uri`` from the issuer's discovery document."""

    def prefix(self) -> str:
        if self.username_prefix == NO_PREFIX:
            return ""
        if self.username_prefix is not None:
            return self.username_prefix
        return "" if self.username_claim == "email" else f"{self.issuer}#"


@dataclass(frozen=True)
class KubernetesIdentity:
    username: str
    groups: list[str]


def kubernetes_identity(claims: dict[str, Any], settings: OidcSettings) -> KubernetesIdentity:
    """The user name and groups the API server gives the same token's claims."""
    value = claims.get(settings.username_claim)
    if not isinstance(value, str) or not value:
        raise TokenRefusedError(f"the token has no string claim {settings.username_claim}")
    if settings.username_claim == "email" and claims.get("email_verified") is False:
        raise TokenRefusedError("the token's email is not verified (email_verified is false)")
    raw_groups = claims.get(settings.groups_claim, [])
    if isinstance(raw_groups, str):
        raw_groups = [raw_groups]
    if not isinstance(raw_groups, list):
        raise TokenRefusedError(f"the claim {settings.groups_claim} is not a list of groups")
    groups = [f"{settings.groups_prefix}{g}" for g in raw_groups if isinstance(g, str)]
    return KubernetesIdentity(username=f"{settings.prefix()}{value}", groups=groups)


def token_scopes(claims: dict[str, Any]) -> set[str]:
    """``scope`` (RFC 9068, space-separated) or ``scp`` (a list, as some issuers write it)."""
    scope = claims.get("scope", claims.get("scp", ""))
    if isinstance(scope, str):
        return set(scope.split())
    if isinstance(scope, list):
        return {s for s in scope if isinstance(s, str)}
    return set()


class JwksCache:
    """The issuer's signing keys, fetched on first use and again when a new key id appears
    (at most every ``JWKS_MIN_REFRESH_SECONDS``), so key rotation needs no restart."""

    def __init__(
        self,
        settings: OidcSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._transport = transport
        self._keys: jwt.PyJWKSet | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str | None) -> jwt.PyJWK:
        keys = await self._current(refresh=False)
        found = _select(keys, kid)
        if found is None:
            keys = await self._current(refresh=True)
            found = _select(keys, kid)
        if found is None:
            raise TokenRefusedError(f"the issuer publishes no signing key with id {kid!r}")
        return found

    async def _current(self, *, refresh: bool) -> jwt.PyJWKSet:
        async with self._lock:
            age = self._clock() - self._fetched_at
            stale = age > JWKS_MAX_AGE_SECONDS or (refresh and age > JWKS_MIN_REFRESH_SECONDS)
            if self._keys is None or stale:
                self._keys = await self._fetch()
                self._fetched_at = self._clock()
            return self._keys

    async def _fetch(self) -> jwt.PyJWKSet:
        try:
            async with httpx.AsyncClient(
                timeout=FETCH_TIMEOUT_SECONDS, transport=self._transport
            ) as http:
                url = self._settings.jwks_url or await self._discover(http)
                response = await http.get(url)
                response.raise_for_status()
                return jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWKSetError) as error:
            raise TokenRefusedError(f"cannot read the issuer's signing keys: {error}") from error

    async def _discover(self, http: httpx.AsyncClient) -> str:
        issuer = self._settings.issuer
        response = await http.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
        response.raise_for_status()
        document = response.json()
        if document.get("issuer") != issuer:
            raise TokenRefusedError(
                f"the discovery document names issuer {document.get('issuer')!r}, not {issuer!r}"
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise TokenRefusedError("the issuer's discovery document has no jwks_uri")
        return jwks_uri


def _select(keys: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
    signing = [k for k in keys.keys if k.public_key_use in {None, "sig"}]
    if kid is None:
        return signing[0] if len(signing) == 1 else None
    return next((k for k in signing if k.key_id == kid), None)


class OidcVerifier:
    """The SDK's ``TokenVerifier`` for JWT access tokens; anything else is left to the next
    verifier (the access file's tokens, TokenReview)."""

    def __init__(self, settings: OidcSettings, access: AccessFile, keys: JwksCache) -> None:
        self._settings = settings
        self._access = access
        self._keys = keys

    async def verify_token(self, token: str) -> AccessToken | None:
        if token.count(".") != 2:
            return None
        try:
            claims = await self._verified_claims(token)
            return self._access_token(token, claims)
        except TokenRefusedError as refused:
            log.info("JWT access token refused", extra={"reason": str(refused)})
            return None

    async def _verified_claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise TokenRefusedError(f"not a JWT: {error}") from error
        if header.get("alg") not in ALGORITHMS:
            raise TokenRefusedError(f"signature algorithm {header.get('alg')!r} is not accepted")
        key = await self._keys.key_for(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[header["alg"]],
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.InvalidTokenError as error:
            raise TokenRefusedError(str(error)) from error
        return claims

    def _access_token(self, token: str, claims: dict[str, Any]) -> AccessToken:
        identity = kubernetes_identity(claims, self._settings)
        grant = self._access.caller_for_subject(identity.username, identity.groups)
        if grant is None:
            raise TokenRefusedError(
                f"the access file grants nothing to {identity.username} or its groups"
            )
        allowed = {ROLE_OF_SCOPE[s] for s in token_scopes(claims) if s in ROLE_OF_SCOPE}
        roles = [r for r in grant.roles if r in allowed]
        if not roles:
            raise TokenRefusedError(
                f"the token of {identity.username} carries none of the scopes "
                f"{', '.join(SCOPES)} its grant allows"
            )
        caller = grant.model_copy(update={"roles": roles})
        accepted = access_token_for(token, caller)
        return accepted.model_copy(update={"expires_at": int(claims["exp"])})
