"""The access file: static bearer tokens, and Kubernetes users or groups, mapped to callers.

```yaml
tokens:                      # for --token-file: a token names one caller
  - tokenSha256: 9f86d08...  # sha256 of the token (or `token:` in plain text, for development)
    principal: alice
    kubernetesUser: oidc:alice   # who alice is to the API server; required for drafters
    roles: [viewer, drafter]
    tenant: team-a
    topicPrefixes: [team-a.]
    groupPrefixes: [team-a.]
subjects:                    # for --token-review: who a Kubernetes user or group is here
  - user: system:serviceaccount:assistants:kafka-assistant
    roles: [viewer]
    tenant: team-a
    topicPrefixes: [team-a.]
    groupPrefixes: [team-a.]
  - group: kafka-admins
    roles: [viewer, drafter]
    topicPrefixes: ["*"]
    groupPrefixes: ["*"]
```

Tokens are compared by their sha256 digest in constant time, so the file never needs to
hold a usable token. A drafter's token names the Kubernetes user it is: drafts record that
name as the requester, the one the admission policy and the operator refuse as an approver.
A subject is its Kubernetes user already.
"""

import hashlib
import hmac
import json
from pathlib import Path
from typing import Annotated, Self

import yaml
from pydantic import Field, ValidationError, model_validator

from kcr.mcp.gate.identity import Caller, KubernetesUser, Prefix, Role, Scope
from kcr.model import explain
from kcr.model.base import KubeModel

MAX_ENTRIES = 10_000


class Grant(KubeModel):
    """Roles and scope that a token or a Kubernetes subject receives."""

    roles: Annotated[list[Role], Field(min_length=1, max_length=len(Role))]
    tenant: Annotated[str, Field(max_length=128)] = ""
    topic_prefixes: Annotated[list[Prefix], Field(max_length=100)] = Field(default_factory=list)
    group_prefixes: Annotated[list[Prefix], Field(max_length=100)] = Field(default_factory=list)

    def scope(self) -> Scope:
        return Scope(topic_prefixes=self.topic_prefixes, group_prefixes=self.group_prefixes)


class TokenEntry(Grant):
    token: Annotated[str, Field(min_length=16, max_length=4096)] | None = Field(
        default=None, description="The token itself; prefer tokenSha256"
    )
    token_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    principal: Annotated[str, Field(min_length=1, max_length=256)]
    kubernetes_user: KubernetesUser | None = None

    @model_validator(mode="after")
    def _one_token(self) -> Self:
        if (self.token is None) == (self.token_sha256 is None):
            raise ValueError("give exactly one of token or tokenSha256")
        return self

    @model_validator(mode="after")
    def _drafter_is_someone(self) -> Self:
        if Role.DRAFTER in self.roles and self.kubernetes_user is None:
            raise ValueError(
                f"the drafter {self.principal} needs kubernetesUser: the Kubernetes user name "
                f"{self.principal} is (for example oidc:{self.principal}); drafts record it as "
                "the requester, who may not approve them"
            )
        return self

    def caller(self) -> Caller:
        return Caller(
            principal=self.principal,
            roles=self.roles,
            tenant=self.tenant,
            scope=self.scope(),
            kubernetes_user=self.kubernetes_user,
        )

    def digest(self) -> str:
        if self.token_sha256 is not None:
            return self.token_sha256
        assert self.token is not None
        return token_digest(self.token)


class SubjectEntry(Grant):
    user: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    group: Annotated[str, Field(min_length=1, max_length=256)] | None = None

    @model_validator(mode="after")
    def _one_subject(self) -> Self:
        if (self.user is None) == (self.group is None):
            raise ValueError("give exactly one of user or group")
        return self


class AccessFile(KubeModel):
    tokens: Annotated[list[TokenEntry], Field(max_length=MAX_ENTRIES)] = Field(default_factory=list)
    subjects: Annotated[list[SubjectEntry], Field(max_length=MAX_ENTRIES)] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _unique_tokens(self) -> Self:
        digests = [t.digest() for t in self.tokens]
        if len(set(digests)) != len(digests):
            raise ValueError("the same token appears twice in tokens")
        return self

    def caller_for_token(self, token: str) -> Caller | None:
        presented = token_digest(token)
        found = None
        for entry in self.tokens:
            if hmac.compare_digest(entry.digest(), presented):
                found = entry
        return None if found is None else found.caller()

    def caller_for_subject(self, user: str, groups: list[str]) -> Caller | None:
        """Grants add up over the user entry and every group entry that names the subject."""
        matching = [
            s
            for s in self.subjects
            if (s.user is not None and s.user == user)
            or (s.group is not None and s.group in groups)
        ]
        if not matching:
            return None
        roles = sorted({r for s in matching for r in s.roles})
        tenant = next((s.tenant for s in matching if s.tenant), "")
        scope = Scope(
            topic_prefixes=list(dict.fromkeys(p for s in matching for p in s.topic_prefixes)),
            group_prefixes=list(dict.fromkeys(p for s in matching for p in s.group_prefixes)),
        )
        return Caller(principal=user, roles=[Role(r) for r in roles], tenant=tenant, scope=scope)

    def caller_named(self, principal: str) -> Caller | None:
        """The grant of a principal named in tokens or subjects (a configured stdio identity)."""
        for entry in self.tokens:
            if entry.principal == principal:
                return entry.caller()
        return self.caller_for_subject(principal, [])


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccessFileError(ValueError):
    """The access file is missing or invalid; the message names the field and the rule."""


def load_access_file(path: Path) -> AccessFile:
    try:
        text = path.read_text()
    except OSError as error:
        raise AccessFileError(f"cannot read the access file {path}: {error.strerror}") from None
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise AccessFileError(f"{path}: not valid YAML or JSON: {error}") from None
    try:
        return AccessFile.model_validate(document or {})
    except ValidationError as error:
        raise AccessFileError(f"{path}: " + "; ".join(explain(error))) from None
