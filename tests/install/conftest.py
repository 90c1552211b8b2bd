"""Fixtures of the install suite: the wheel, built once per session from this checkout."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".tools" / "bin" / "uv"
BUILD_SECONDS = 600


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``uv build``: what pip, uvx and the MCP registry's PyPI package install."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [str(UV), "build", "--wheel", "--out-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=BUILD_SECONDS,
    )
    (built,) = out.glob("kcr-*.whl")
    return built
