"""Incident history: notes with front matter, searched by words and linked from findings."""

from pathlib import Path

import pytest
from mcp import Client
from mcp_support import build, structured
from test_mcp_memory import fake_kafka

from kcr.mcp.incidents import IncidentError, IncidentLibrary

HOT_ORDERS = """---
time: 2026-10-02T14:05:00Z
services: [checkout]
topics: [orders]
kinds: [HotPartition]
resolution: re-keyed orders by region instead of customer id
---
# Orders lagged behind one hot partition

A single customer's batch import sent every record to partition 2 of orders.
"""

IDLE_PAYMENTS = """---
time: 2026-11-01T09:00:00Z
services: [billing]
topics: [payments]
kinds: [NoActiveConsumer]
resolution: restarted the billing consumers after a bad config push
---
# Billing stopped consuming
"""

UNRELATED = """---
time: 2026-11-20T09:00:00Z
services: [search]
topics: [clicks]
resolution: added a broker
---
# Disk filled on broker 3
"""


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    for name, text in [
        ("hot-orders.md", HOT_ORDERS),
        ("idle-payments.md", IDLE_PAYMENTS),
        ("disk.md", UNRELATED),
        ("README.txt", "not a note"),
    ]:
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.asyncio
async def test_findings_link_past_incidents_and_notes_are_searchable(notes: Path) -> None:
    built = build(await fake_kafka(), incidents=IncidentLibrary.load(notes))
    async with Client(built.mcp) as client:
        diagnosis = structured(await client.call_tool("explain_current_state", {"topic": "orders"}))
        found = structured(
            await client.call_tool("search_incidents", {"query": "hot partition orders"})
        )
    links = {f["kind"]: f["pastIncidents"] for f in diagnosis["findings"]}
    assert links["HotPartition"] == [
        {
            "incident": "hot-orders",
            "title": "Orders lagged behind one hot partition",
            "time": "2026-10-02T14:05:00Z",
            "resolution": "re-keyed orders by region instead of customer id",
            "matchedOn": ["topic:orders", "kind:HotPartition"],
        }
    ]
    assert [i["incident"] for i in links["NoActiveConsumer"]] == ["idle-payments"]
    assert found["notes"] == 3
    assert [h["incident"] for h in found["hits"]] == ["hot-orders"]
    assert found["hits"][0]["topics"] == ["orders"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("# no front matter\n", "starts without front matter", id="no-front-matter"),
        pytest.param("---\ntime: 2026-10-02\n", "no closing '---' line", id="unclosed"),
        pytest.param("---\ntime: yesterday\nresolution: fixed\n---\n# x\n", "time", id="bad-time"),
        pytest.param(
            "---\ntime: 2026-10-02T00:00:00Z\n---\n# x\n", "resolution", id="no-resolution"
        ),
    ],
)
def test_a_bad_note_is_refused_naming_the_file_and_field(
    tmp_path: Path, text: str, problem: str
) -> None:
    (tmp_path / "broken.md").write_text(text)
    with pytest.raises(IncidentError) as raised:
        IncidentLibrary.load(tmp_path)
    assert str(raised.value).startswith(f"{tmp_path / 'broken.md'}: ")
    assert problem in str(raised.value)
