"""Approvals carried in git, proven by the approvers' own SSH signatures over the spec hash.

Whoever applies from git (Argo CD) can write any name into a YAML file, so a name alone
proves nothing. Each approver signs the request's spec hash with their SSH key, as git
signs commits (``ssh-keygen -Y sign -n kcr.dev/approval``), and the operator checks the
signature against an allowed-signers list in git's ``allowed_signers`` format that only
platform admins can change. Verification uses the ``sshsig`` library (a reimplementation
of ``ssh-keygen -Y verify`` on top of ``cryptography``); nothing here is hand-rolled.
"""

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, TypeAdapter, ValidationError
from sshsig import InvalidSignature, PublicKey, check_signature
from sshsig.allowed_signers import load_allowed_signers_file

from kcr.model import explain
from kcr.model.base import KubeModel

SIGNATURES_ANNOTATION = "kcr.dev/approval-signatures"
SIGNATURE_NAMESPACE = "kcr.dev/approval"
"""The ``-n`` of ``ssh-keygen -Y sign``: a signature made for git or anything else is no
approval here, and an approval is no signature anywhere else."""
MAX_SIGNED_APPROVALS = 20
UNSUPPORTED_OPTIONS = ("cert-authority", "valid-after", "valid-before")


class SignedApproval(KubeModel):
    """One entry of the ``kcr.dev/approval-signatures`` annotation."""

    approver: Annotated[str, Field(min_length=1, max_length=256)]
    signature: Annotated[
        str,
        Field(
            min_length=1,
            max_length=8192,
            description="Armored SSH signature (-----BEGIN SSH SIGNATURE-----) of the spec hash",
        ),
    ]


_SIGNED_APPROVALS = TypeAdapter(
    Annotated[list[SignedApproval], Field(max_length=MAX_SIGNED_APPROVALS)]
)


class SignatureFormatError(ValueError):
    """The annotation or the allowed-signers list cannot be read; the message says where."""


def parse_signed_approvals(text: str) -> list[SignedApproval]:
    """The annotation's JSON list of ``{approver, signature}``."""
    try:
        return _SIGNED_APPROVALS.validate_python(json.loads(text))
    except json.JSONDecodeError as error:
        raise SignatureFormatError(
            f"{SIGNATURES_ANNOTATION} is not JSON: {error.msg} at character {error.pos}; "
            'it holds a list of {"approver": …, "signature": …}'
        ) from None
    except ValidationError as error:
        raise SignatureFormatError("; ".join(explain(error, root=SIGNATURES_ANNOTATION))) from None


def signature_digest(approval: SignedApproval) -> str:
    """What ``status.voidedSignatures`` remembers of a signature that no longer counts."""
    return hashlib.sha256(approval.signature.encode()).hexdigest()


def dump_signed_approvals(approvals: list[SignedApproval]) -> str:
    return json.dumps([a.model_dump(mode="json", by_alias=True) for a in approvals])


@dataclass(frozen=True)
class AllowedSigner:
    principals: frozenset[str]
    key: PublicKey
    namespaces: frozenset[str] | None
    """None: the key may sign in every namespace (git's rule when the option is absent)."""


@dataclass(frozen=True)
class AllowedSigners:
    signers: tuple[AllowedSigner, ...]

    def keys_of(self, approver: str) -> list[PublicKey]:
        return [
            s.key
            for s in self.signers
            if approver in s.principals
            and (s.namespaces is None or SIGNATURE_NAMESPACE in s.namespaces)
        ]


def parse_allowed_signers(text: str) -> AllowedSigners:
    """git's ``allowed_signers`` format: ``principal[,principal] [namespaces="..."] key``.

    Principals are exact names: a pattern (``*``, ``?``, ``!``) would let one line vouch for
    people nobody listed, so it is refused, as are certificate authorities and validity
    windows, which this list does not check.
    """
    signers = []
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    for number, line in enumerate(lines, start=1):
        where = f"allowed signers entry {number} ({line[:40]}…)"
        try:
            (entry,) = load_allowed_signers_file(io.StringIO(line + "\n"))
            key = PublicKey.from_openssh_str(f"{entry.key_type} {entry.base64_key}")
        except (ValueError, NotImplementedError) as error:
            raise SignatureFormatError(f"{where}: {error}") from None
        principals = frozenset(p.strip() for p in entry.principals.split(",") if p.strip())
        patterns = sorted(p for p in principals if any(c in p for c in "*?!"))
        if patterns:
            raise SignatureFormatError(
                f"{where}: principal pattern {', '.join(patterns)} is not allowed: "
                "name each approver"
            )
        options = entry.options or {}
        unsupported = [o for o in UNSUPPORTED_OPTIONS if o in options]
        if unsupported:
            raise SignatureFormatError(
                f"{where}: option {', '.join(unsupported)} is not supported: list plain keys"
            )
        namespaces = options.get("namespaces")
        signers.append(
            AllowedSigner(
                principals=principals,
                key=key,
                namespaces=None
                if namespaces is None
                else frozenset(n.strip() for n in namespaces.split(",")),
            )
        )
    return AllowedSigners(tuple(signers))


@dataclass(frozen=True)
class SignatureVerdict:
    verified: list[str]
    """Approvers whose signature over this spec hash verifies with one of their keys."""
    failed: list[str]
    """One plain-words reason per signature that proves nothing."""


def verify_signed_approvals(
    approvals: list[SignedApproval], spec_hash: str, signers: AllowedSigners
) -> SignatureVerdict:
    verified: list[str] = []
    failed: list[str] = []
    for approval in approvals:
        problem = _signature_problem(approval, spec_hash, signers)
        if problem:
            failed.append(f"the signature of {approval.approver} {problem}")
        elif approval.approver not in verified:
            verified.append(approval.approver)
    return SignatureVerdict(verified=verified, failed=failed)


def _signature_problem(approval: SignedApproval, spec_hash: str, signers: AllowedSigners) -> str:
    keys = signers.keys_of(approval.approver)
    if not keys:
        return f"cannot count: {approval.approver} is not on the allowed-signers list"
    try:
        key = check_signature(spec_hash, approval.signature, SIGNATURE_NAMESPACE)
    except InvalidSignature as error:
        return (
            f"does not verify over spec hash {spec_hash[:12]} in namespace "
            f"{SIGNATURE_NAMESPACE} ({error}): it is forged or was made for another spec"
        )
    except NotImplementedError as error:
        return f"uses an unsupported signature format ({error})"
    if all(key != allowed for allowed in keys):
        return (
            f"was made with key {key.sha256_str()}, which is not a key of "
            f"{approval.approver} on the allowed-signers list"
        )
    return ""
