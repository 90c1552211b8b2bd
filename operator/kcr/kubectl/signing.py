"""Sign a spec hash with the approver's SSH key, the way git signs commits.

``ssh-keygen -Y sign`` does the signing, so a key held by ssh-agent, a hardware token or a
passphrase prompt works exactly as it does for ``git commit -S``; kcr never reads a
private key itself.
"""

import shutil
import subprocess
from pathlib import Path

from kcr.policy.signatures import SIGNATURE_NAMESPACE

SIGN_TIMEOUT_SECONDS = 120.0
"""Long enough to type a passphrase or touch a hardware key."""


class SigningError(Exception):
    """The signature could not be made; the message says why and what to do."""


def sign_spec_hash(spec_hash: str, key: Path) -> str:
    """The armored SSH signature of ``spec_hash`` in kcr's approval namespace.

    ``key`` is a private key file, or the public key of one held by ssh-agent.
    """
    program = shutil.which("ssh-keygen")
    if program is None:
        raise SigningError("ssh-keygen was not found: install OpenSSH 8.2 or later to sign")
    try:
        done = subprocess.run(
            [program, "-Y", "sign", "-q", "-f", str(key), "-n", SIGNATURE_NAMESPACE],
            input=spec_hash.encode(),
            capture_output=True,
            timeout=SIGN_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SigningError(f"ssh-keygen did not sign within {SIGN_TIMEOUT_SECONDS:.0f}s") from None
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip()
        raise SigningError(f"ssh-keygen could not sign with {key}: {detail}")
    return done.stdout.decode()
