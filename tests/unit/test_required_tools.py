"""A suite whose tool is missing skips with its reason on a laptop, and fails where the run
requires it (CI sets KCR_REQUIRE_ALL=1), so a missing tool never passes for a green run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
# A test that needs shellcheck, run with a PATH on which no tool is found.
NEEDS_SHELLCHECK = "tests/unit/test_manifests_e2e.py::test_run_passes_shellcheck"


@pytest.mark.parametrize(
    ("required", "outcome", "said"),
    [
        ({}, "1 skipped", "SKIPPED [1] tests/unit/test_manifests_e2e.py"),
        ({"KCR_REQUIRE_SHELLCHECK": "1"}, "1 error", "this run requires it (KCR_REQUIRE_SHELL"),
        ({"KCR_REQUIRE_ALL": "1"}, "1 error", "this run requires it (KCR_REQUIRE_ALL=1)"),
    ],
    ids=["laptop-skips", "tool-required", "all-required"],
)
def test_a_missing_tool_skips_or_fails_as_the_run_requires(
    tmp_path: Path, required: dict[str, str], outcome: str, said: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCR_REQUIRE_") and k != "PATH"}
    env |= {"PATH": str(tmp_path), **required}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", NEEDS_SHELLCHECK, "-q", "-rs", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert outcome in run.stdout, run.stdout[-2000:]
    assert said in run.stdout
    assert "shellcheck is not installed" in run.stdout
