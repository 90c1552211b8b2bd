"""The allowed-signers list, read from the file a platform admin's ConfigMap is mounted at.

It is read again with the KafkaCluster (once per burst of decisions), so a key added or
revoked by an admin applies without a restart, as soon as the kubelet updates the mount.
"""

from dataclasses import dataclass
from pathlib import Path

from kcr.policy.signatures import AllowedSigners, SignatureFormatError, parse_allowed_signers

MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class SignersRead:
    signers: AllowedSigners | None
    problem: str = ""


def read_allowed_signers(path: Path | None) -> SignersRead:
    if path is None:
        return SignersRead(None, "the operator runs without --allowed-signers")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as error:
        return SignersRead(
            None, f"the allowed-signers file {path} cannot be read: {error.strerror}"
        )
    if len(raw) > MAX_BYTES:
        return SignersRead(None, f"the allowed-signers file {path} is over {MAX_BYTES} bytes")
    try:
        return SignersRead(parse_allowed_signers(raw.decode("ascii")))
    except UnicodeDecodeError:
        return SignersRead(None, f"the allowed-signers file {path} is not ASCII text")
    except SignatureFormatError as error:
        return SignersRead(None, f"the allowed-signers file {path} is invalid: {error}")
