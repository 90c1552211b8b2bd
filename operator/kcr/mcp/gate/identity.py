"""Who is calling: a principal with roles and a tenant scope of topic and group prefixes.

A scope lists prefixes; ``*`` alone means everything. An empty list means nothing, so a
caller whose scope was never configured sees nothing (fail closed).
"""

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from kcr.model.base import KubeModel

EVERYTHING = "*"
Prefix = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=r"^(\*|[a-zA-Z0-9._:-]+)$",
        description="A topic or group name prefix, or '*' for everything",
    ),
]


KubernetesUser = Annotated[
    str,
    Field(
        min_length=1,
        max_length=512,
        pattern=r"^\S(.*\S)?$",
        description="A Kubernetes user name as the API server reports it (e.g. oidc:alice)",
    ),
]


class Role(StrEnum):
    VIEWER = "viewer"
    DRAFTER = "drafter"


class Scope(KubeModel):
    topic_prefixes: Annotated[list[Prefix], Field(max_length=100)] = Field(default_factory=list)
    group_prefixes: Annotated[list[Prefix], Field(max_length=100)] = Field(default_factory=list)

    @classmethod
    def everything(cls) -> "Scope":
        return cls(topic_prefixes=[EVERYTHING], group_prefixes=[EVERYTHING])

    def allows_topic(self, topic: str) -> bool:
        return _matches(self.topic_prefixes, topic)

    def allows_group(self, group: str) -> bool:
        return _matches(self.group_prefixes, group)

    def allows_topic_prefix(self, prefix: str) -> bool:
        """A prefixed ACL covers every topic starting with it: the scope must cover them all."""
        return EVERYTHING in self.topic_prefixes or any(
            prefix.startswith(p) for p in self.topic_prefixes
        )

    def allows_group_prefix(self, prefix: str) -> bool:
        return EVERYTHING in self.group_prefixes or any(
            prefix.startswith(p) for p in self.group_prefixes
        )

    @property
    def unrestricted(self) -> bool:
        return EVERYTHING in self.topic_prefixes and EVERYTHING in self.group_prefixes

    def describe_topics(self) -> str:
        return _describe(self.topic_prefixes)

    def describe_groups(self) -> str:
        return _describe(self.group_prefixes)


def _matches(prefixes: list[str], name: str) -> bool:
    return any(p == EVERYTHING or name.startswith(p) for p in prefixes)


def _describe(prefixes: list[str]) -> str:
    if not prefixes:
        return "nothing"
    return ", ".join("everything" if p == EVERYTHING else f"{p}*" for p in prefixes)


class Caller(KubeModel):
    """The authenticated caller as every tool sees it; never built from tool arguments."""

    # A service account's username alone can be 339 characters long.
    principal: Annotated[str, Field(min_length=1, max_length=512)]
    roles: Annotated[list[Role], Field(max_length=len(Role))] = Field(default_factory=list)
    tenant: Annotated[str, Field(max_length=128)] = ""
    scope: Scope = Field(default_factory=Scope)
    kubernetes_user: KubernetesUser | None = None
    """The Kubernetes user name this caller is, when it differs from ``principal``."""

    @property
    def requester(self) -> str:
        """The one canonical identity a draft records in ``spec.requestedBy.principal``:
        the Kubernetes user name, which the admission policy and the operator compare with
        whoever approves, so that nobody approves their own draft under another name."""
        return self.kubernetes_user or self.principal

    def has(self, role: Role) -> bool:
        """A drafter may also read: drafting needs the same evidence."""
        if role is Role.VIEWER:
            return bool(self.roles)
        return role in self.roles
