"""Approvals from git count only when the approver's own SSH signature verifies.

Keys are real ed25519 keys made by ssh-keygen and signatures are made by ssh-keygen
itself (through the kubectl plugin's signer), so the verifier is judged by OpenSSH.
"""

import base64
import re
from collections.abc import Callable
from typing import Any

import pytest

from kcr.kubectl.signing import sign_spec_hash
from kcr.policy.signatures import (
    SignatureFormatError,
    SignedApproval,
    dump_signed_approvals,
    parse_allowed_signers,
    parse_signed_approvals,
    verify_signed_approvals,
)

SPEC_HASH = "5" * 64
OTHER_HASH = "6" * 64


def forge(signature: str) -> str:
    """Flip one bit of the signature blob's last byte (inside the ed25519 signature)."""
    lines = signature.strip().splitlines()
    blob = bytearray(base64.b64decode("".join(lines[1:-1])))
    blob[-1] ^= 1
    body = base64.b64encode(bytes(blob)).decode()
    return "\n".join([lines[0], *(body[i : i + 70] for i in range(0, len(body), 70)), lines[-1]])


@pytest.fixture
def keys(ssh_key: Callable[[str], Any]) -> dict[str, Any]:
    return {name: ssh_key(name) for name in ("bob", "carol", "mallory", "bob-laptop")}


def signers_text(keys: dict[str, Any]) -> str:
    return (
        "# platform admins only\n"
        f"bob {keys['bob'].public}\n"
        f'carol namespaces="kcr.dev/approval" {keys["carol"].public}\n'
        f'mallory namespaces="git" {keys["mallory"].public}\n'
    )


CASES: dict[str, tuple[str, str, str, str]] = {
    # id: (approver, key used, hash signed, words of the failure or "" when verified)
    "listed key over this hash": ("bob", "bob", SPEC_HASH, ""),
    "listed key restricted to kcr's namespace": ("carol", "carol", SPEC_HASH, ""),
    "forged signature": ("bob", "forged", SPEC_HASH, "does not verify over spec hash 555555555555"),
    "signature over another hash": ("bob", "bob", OTHER_HASH, "made for another spec"),
    "key not on the list": ("bob", "bob-laptop", SPEC_HASH, "which is not a key of bob"),
    "someone else's key under your name": ("bob", "carol", SPEC_HASH, "not a key of bob"),
    "approver not on the list": ("dave", "bob", SPEC_HASH, "dave is not on the allowed-signers"),
    "key listed for git commits only": ("mallory", "mallory", SPEC_HASH, "mallory is not on"),
}


@pytest.mark.parametrize(("approver", "key", "signed", "words"), CASES.values(), ids=CASES.keys())
def test_only_a_listed_key_over_this_spec_hash_counts(
    keys: dict[str, Any], approver: str, key: str, signed: str, words: str
) -> None:
    signature = sign_spec_hash(signed, keys["bob" if key == "forged" else key].private)
    if key == "forged":
        signature = forge(signature)
    verdict = verify_signed_approvals(
        [SignedApproval(approver=approver, signature=signature)],
        SPEC_HASH,
        parse_allowed_signers(signers_text(keys)),
    )
    if words:
        assert verdict.verified == []
        assert len(verdict.failed) == 1
        assert words in verdict.failed[0]
        assert verdict.failed[0].startswith(f"the signature of {approver} ")
    else:
        assert verdict == type(verdict)(verified=[approver], failed=[])


def test_the_annotation_round_trips_and_names_bad_fields() -> None:
    approvals = [SignedApproval(approver="bob", signature="sig")]
    assert parse_signed_approvals(dump_signed_approvals(approvals)) == approvals
    with pytest.raises(SignatureFormatError, match="not JSON"):
        parse_signed_approvals("bob:sig")
    with pytest.raises(
        SignatureFormatError, match=r"kcr.dev/approval-signatures\[0\]\.signature: is required"
    ):
        parse_signed_approvals('[{"approver": "bob"}]')


BAD_LISTS = {
    "wildcard principal": ("* {key}", "principal pattern * is not allowed"),
    "certificate authority": ("bob cert-authority {key}", "cert-authority is not supported"),
    "validity window": ('bob valid-before="20300101" {key}', "valid-before is not supported"),
    "no key": ("bob", "allowed signers entry 1"),
}


@pytest.mark.parametrize(("line", "words"), BAD_LISTS.values(), ids=BAD_LISTS.keys())
def test_an_allowed_signers_list_kcr_cannot_honour_is_refused(
    keys: dict[str, Any], line: str, words: str
) -> None:
    with pytest.raises(SignatureFormatError, match=re.escape(words)):
        parse_allowed_signers(line.format(key=keys["bob"].public))
