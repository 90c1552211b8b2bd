"""The scorecard: a table in the terminal and an HTML page with one chart per scenario.

The chart is inline SVG (no script, no CDN): the watched group's lag over the run as a
line, the request's phases as coloured bands under it, and each stage's gate as a mark.
"""

import html
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from kcr.lab.runner import Result

WIDTH, HEIGHT, BAND = 640, 160, 18
PHASE_COLOURS = {
    "AwaitingApproval": "#c9a227",
    "Approved": "#8fbc8f",
    "Executing": "#4682b4",
    "Succeeded": "#2e8b57",
    "RollingBack": "#d2691e",
    "RolledBack": "#b22222",
    "Rejected": "#808080",
    "Invalid": "#800080",
}


def print_scorecard(console: Console, results: list[Result]) -> None:
    table = Table(title="kcr lab scorecard", title_justify="left")
    for column in ("scenario", "verdict", "seconds", "to diagnosis", "tool calls", "failed checks"):
        table.add_column(column, overflow="fold")
    for result in results:
        verdict = result.verdict
        seen = result.observation
        failed = "; ".join(f"{c.name}: {c.detail}" for c in verdict.checks if not c.passed)
        table.add_row(
            result.name,
            verdict.label,
            f"{result.seconds:.1f}",
            f"{seen.seconds_to_diagnosis:.1f}s" if seen.seconds_to_diagnosis is not None else "-",
            str(seen.tool_calls),
            verdict.skipped or failed or "-",
        )
    console.print(table)


def write_html(path: Path, results: list[Result], started: datetime, seconds: float) -> None:
    passed = sum(r.verdict.passed for r in results)
    sections = "\n".join(_section(r) for r in results)
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>kcr lab</title>"
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}"
        "td,th{padding:2px 8px;text-align:left;vertical-align:top}"
        ".PASS{color:#2e8b57}.FAIL{color:#b22222}.SKIPPED{color:#808080}</style></head><body>"
        f"<h1>kcr lab</h1><p>{started.isoformat(timespec='seconds')}: {passed} of "
        f"{len(results)} scenarios passed in {seconds:.0f}s.</p>{sections}</body></html>\n"
    )


def _section(result: Result) -> str:
    verdict = result.verdict
    rows = "".join(
        f"<tr><td class='{'PASS' if c.passed else 'FAIL'}'>{'✔' if c.passed else '✘'}</td>"
        f"<td>{html.escape(c.name)}</td><td>{html.escape(c.detail)}</td></tr>"
        for c in verdict.checks
    )
    return (
        f"<h2>{html.escape(result.title)} <span class='{verdict.label}'>{verdict.label}</span></h2>"
        f"<p>{html.escape(result.name)}: {result.seconds:.1f}s, "
        f"{result.observation.tool_calls} tool calls</p>{chart(result)}<table>{rows}</table>"
        f"{_gates(result)}"
    )


def _gates(result: Result) -> str:
    """Each stage's gate as the operator recorded it: why a change went on or rolled back."""
    stages = ((result.status.get("plan") or {}).get("stages")) or []
    items = "".join(
        f"<li>{html.escape(str(stage.get('name')))}: gate {html.escape(str(state))}"
        f"{': ' + html.escape(str(stage.get('gateResult'))) if stage.get('gateResult') else ''}"
        "</li>"
        for stage in stages
        if (state := stage.get("gateState")) not in (None, "Pending")
    )
    message = result.status.get("message")
    if not items and not message:
        return ""
    said = f"<p>{html.escape(str(message))}</p>" if message else ""
    return f"<h3>The request's gates</h3><ul>{items}</ul>{said}"


def chart(result: Result) -> str:
    """Lag over time, phases as bands and gates as marks, in one inline SVG."""
    samples = result.samples
    if not samples:
        return "<p>no samples</p>"
    end = max(s.seconds for s in samples) or 1.0
    lags = [s.lag for s in samples if s.lag is not None]
    top = max(lags) if lags else 1
    plot = HEIGHT - BAND - 20

    def x(seconds: float) -> float:
        return 40 + (WIDTH - 50) * seconds / end

    points = " ".join(
        f"{x(s.seconds):.1f},{10 + plot - plot * s.lag / max(top, 1):.1f}"
        for s in samples
        if s.lag is not None
    )
    bands = []
    for index, sample in enumerate(samples[:-1]):
        if sample.phase:
            colour = PHASE_COLOURS.get(sample.phase, "#b0c4de")
            bands.append(
                f"<rect x='{x(sample.seconds):.1f}' y='{HEIGHT - BAND}' "
                f"width='{max(0.5, x(samples[index + 1].seconds) - x(sample.seconds)):.1f}' "
                f"height='{BAND - 4}' fill='{colour}'><title>{sample.phase}</title></rect>"
            )
    gates = _gate_marks(result, x)
    legend = " ".join(
        f"<tspan fill='{c}'>■ {p}</tspan>"
        for p, c in PHASE_COLOURS.items()
        if any(s.phase == p for s in samples)
    )
    return (
        f"<svg width='{WIDTH}' height='{HEIGHT + 16}' role='img' "
        "xmlns='http://www.w3.org/2000/svg' style='border:1px solid #ddd'>"
        f"<text x='4' y='14' font-size='10'>lag {top:,}</text>"
        f"<text x='4' y='{10 + plot}' font-size='10'>0</text>"
        f"<polyline fill='none' stroke='#4169e1' stroke-width='1.5' points='{points}'/>"
        f"{''.join(bands)}{gates}"
        f"<text x='40' y='{HEIGHT + 12}' font-size='10'>{legend} · {end:.0f}s</text></svg>"
    )


def _gate_marks(result: Result, x: object) -> str:
    stages = ((result.status.get("plan") or {}).get("stages")) or []
    if result.started_at is None:
        return ""
    marks = []
    for stage in stages:
        began = stage.get("bakeStartedAt")
        state = stage.get("gateState")
        if not began or state not in ("Succeeded", "Failed"):
            continue
        at = (datetime.fromisoformat(began) - result.started_at).total_seconds()
        colour = "#2e8b57" if state == "Succeeded" else "#b22222"
        position = x(at)  # type: ignore[operator]
        marks.append(
            f"<line x1='{position:.1f}' x2='{position:.1f}' y1='10' y2='{HEIGHT - BAND}' "
            f"stroke='{colour}' stroke-dasharray='3,2'><title>gate after stage "
            f"{html.escape(str(stage.get('name')))}: {state}</title></line>"
        )
    return "".join(marks)
