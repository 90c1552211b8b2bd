"""A JWT's claims name the same Kubernetes user the API server's OIDC rules give them."""

from typing import Any

import pytest

from kcr.mcp.gate.oidc import OidcSettings, TokenRefusedError, kubernetes_identity, token_scopes

ISSUER = "https://idp.example"


@pytest.mark.parametrize(
    ("settings", "claims", "username", "groups"),
    [
        (OidcSettings(ISSUER, "kcr-mcp"), {"sub": "u1"}, f"{ISSUER}#u1", []),
        (
            OidcSettings(ISSUER, "kcr-mcp", username_claim="email"),
            {"email": "a@example.com", "email_verified": True},
            "a@example.com",
            [],
        ),
        (
            OidcSettings(
                ISSUER, "kcr-mcp", username_claim="preferred_username", username_prefix="-"
            ),
            {"preferred_username": "alice", "groups": "admins"},
            "alice",
            ["admins"],
        ),
        (
            OidcSettings(
                ISSUER,
                "kcr-mcp",
                username_claim="preferred_username",
                username_prefix="oidc:",
                groups_prefix="oidc:",
            ),
            {"preferred_username": "alice", "groups": ["a", "b"]},
            "oidc:alice",
            ["oidc:a", "oidc:b"],
        ),
    ],
    ids=["sub-gets-issuer-prefix", "email-unprefixed", "dash-means-none", "explicit-prefixes"],
)
def test_names_follow_the_api_servers_rules(
    settings: OidcSettings, claims: dict[str, Any], username: str, groups: list[str]
) -> None:
    identity = kubernetes_identity(claims, settings)
    assert (identity.username, identity.groups) == (username, groups)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"email": "a@example.com", "email_verified": False}, "not verified"),
        ({"sub": "u1"}, "no string claim email"),
    ],
    ids=["unverified-email", "missing-claim"],
)
def test_claims_that_name_nobody_are_refused(claims: dict[str, Any], reason: str) -> None:
    with pytest.raises(TokenRefusedError, match=reason):
        kubernetes_identity(claims, OidcSettings(ISSUER, "kcr-mcp", username_claim="email"))


def test_scopes_come_from_scope_or_scp() -> None:
    assert token_scopes({"scope": "openid kcr:read"}) == {"openid", "kcr:read"}
    assert token_scopes({"scp": ["kcr:draft"]}) == {"kcr:draft"}
    assert token_scopes({}) == set()
