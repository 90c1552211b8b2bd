"""Build the archive the krew manifest names, byte for byte the same on every machine.

    python manifests/install/krew_archive.py dist/

writes ``kubectl-kcr-<version>.tar.gz`` (the plugin shim that runs kcr with uvx) and prints
its sha256, which ``krew-kcr.yaml`` must carry for every platform. Fixed owners, modes and
times, and a gzip header without a time stamp, make the digest reproducible.
"""

import gzip
import hashlib
import io
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERSION = "0.1.0"
MEMBERS = {"kubectl-kcr": 0o755}


def archive_bytes() -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, mode in MEMBERS.items():
            data = (HERE / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = archive_bytes()
    path = out / f"kubectl-kcr-{VERSION}.tar.gz"
    path.write_bytes(data)
    sys.stdout.write(f"{path} sha256 {hashlib.sha256(data).hexdigest()}\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "dist"))
