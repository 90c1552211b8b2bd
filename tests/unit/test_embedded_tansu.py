"""Starting tansu: a broker that never answers is tried on fresh ports a bounded number of
times, and the refusal names every port it tried."""

import re
import shutil
import time

import pytest

from kcr.embedded import tansu


@pytest.fixture
def exits_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A "broker" that exits before it listens, as one that lost its port's race would."""
    binary = shutil.which("false")
    assert binary is not None
    monkeypatch.setattr(tansu, "tansu_binary", lambda: binary)


@pytest.mark.usefixtures("exits_at_once")
def test_a_start_that_never_answers_tries_fresh_ports_then_says_which() -> None:
    began = time.monotonic()
    with pytest.raises(tansu.TansuError, match="did not become ready within 5s") as refused:
        tansu.start_tansu(ready_timeout=5.0)
    ports = re.findall(r"port (\d+): no output", str(refused.value))
    assert len(ports) == tansu.START_ATTEMPTS
    assert time.monotonic() - began < 5.0, "an exited broker is not waited for"


@pytest.mark.usefixtures("exits_at_once")
def test_a_start_on_a_given_port_is_tried_once() -> None:
    with pytest.raises(tansu.TansuError) as refused:
        tansu.start_tansu(port=tansu.free_port(), ready_timeout=5.0)
    assert len(re.findall(r"port \d+: ", str(refused.value))) == 1
