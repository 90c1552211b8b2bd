"""The verdict on one scenario: fixed criteria over what was observed. Pure.

Judged on evidence and bounded proposals, not on confidence: the true cause first with
evidence that names its source, query and time window; the right kind of change (or none,
and then the runbook section the owning team follows instead), with the risk and
irreversibility a reviewer must see and a rollback plan; the outcome the gates allow, read
back from the broker; and the time and tool calls it took, recorded.
"""

from dataclasses import dataclass, field

from kcr.lab.scenario import HEALTHY, Check, Expectation
from kcr.model import Phase


@dataclass(frozen=True)
class EvidenceSeen:
    source: str
    query: str
    window: str
    """The time window as read (``start/end``, or the one moment); empty when missing."""


@dataclass(frozen=True)
class FindingSeen:
    kind: str
    summary: str
    evidence: tuple[EvidenceSeen, ...]
    proposal: str | None = None
    runbook: str = ""
    """``runbook#section`` the finding points to; empty when it names none."""
    subject: str = ""
    """What the finding is about (``topic/<name>``, ``broker/<id>``); empty when unnamed."""

    @property
    def about_a_broker(self) -> bool:
        return about_a_broker(self.subject)


def about_a_broker(subject: str) -> bool:
    """A finding about a broker's own health (latency, disk), whichever incident was asked
    about: the lab reports it beside the verdict and its assistant drafts nothing for it."""
    return subject.startswith("broker/")


@dataclass(frozen=True)
class DraftSeen:
    name: str
    kind: str
    risk: str | None
    irreversible: bool
    rollback_steps: int
    irreversible_reasons: tuple[str, ...] = ()


@dataclass
class Observation:
    findings: list[FindingSeen] = field(default_factory=list)
    draft: DraftSeen | None = None
    phase: str | None = None
    """The drafted request's last phase; None without a draft."""
    read_back: list[Check] = field(default_factory=list)
    seconds_to_diagnosis: float | None = None
    tool_calls: int = 0
    error: str = ""


@dataclass
class Verdict:
    scenario: str
    checks: list[Check]
    skipped: str = ""

    @property
    def passed(self) -> bool:
        return not self.skipped and all(c.passed for c in self.checks)

    @property
    def label(self) -> str:
        if self.skipped:
            return "SKIPPED"
        return "PASS" if self.passed else "FAIL"


def judge(scenario: str, expected: Expectation, seen: Observation) -> Verdict:
    checks = [
        _cause(expected, seen),
        _evidence(expected, seen),
        _proposal_kind(expected, seen),
        *_runbook(expected, seen),
        *_bounded(expected, seen),
        _outcome(expected, seen),
        *seen.read_back,
        _recorded(seen),
    ]
    if seen.error:
        checks.append(Check("run", False, seen.error))
    return Verdict(scenario, checks)


def _cause(expected: Expectation, seen: Observation) -> Check:
    judged = _judged(expected, seen)
    estate = [f"{f.kind} {f.subject}" for f in seen.findings if f not in judged]
    also = f"; also on the brokers: {', '.join(estate)}" if estate else ""
    if expected.cause == HEALTHY:
        blamed = ", ".join(f.kind for f in judged)
        return Check("cause ranked first", not blamed, (blamed or "healthy, as it is") + also)
    if not judged:
        return Check("cause ranked first", False, f"no finding; expected {expected.cause}{also}")
    top = judged[0]
    return Check(
        "cause ranked first",
        top.kind == expected.cause,
        f"#1 {top.kind}: {top.summary}"
        + ("" if top.kind == expected.cause else f" (expected {expected.cause})")
        + also,
    )


def _judged(expected: Expectation, seen: Observation) -> list[FindingSeen]:
    """The findings the verdict ranks: those about what the scenario asked about. A finding
    about a broker's own health (a slow broker on a loaded machine, a shared staging
    cluster) is the estate's, reported beside the verdict, unless it is the expected cause."""
    return [f for f in seen.findings if not f.about_a_broker or f.kind == expected.cause]


def _evidence(expected: Expectation, seen: Observation) -> Check:
    findings = _judged(expected, seen)
    if expected.cause == HEALTHY and not findings:
        return Check("evidence: source, query, window", True, "nothing to cite: healthy")
    if not findings:
        return Check("evidence: source, query, window", False, "no finding to cite evidence")
    top = findings[0]
    if not top.evidence:
        return Check("evidence: source, query, window", False, f"{top.kind} cites no evidence")
    missing = [
        f"evidence {index + 1} lacks {', '.join(what)}"
        for index, item in enumerate(top.evidence)
        if (
            what := [
                n
                for n, v in (
                    ("source", item.source),
                    ("query", item.query),
                    ("window", item.window),
                )
                if not v.strip()
            ]
        )
    ]
    first = top.evidence[0]
    return Check(
        "evidence: source, query, window",
        not missing,
        "; ".join(missing) or f"{first.source} · {first.query} · {first.window}",
    )


def _proposal_kind(expected: Expectation, seen: Observation) -> Check:
    want = expected.proposal if expected.proposal else "no Kafka change"
    got = seen.draft.kind if seen.draft else "no Kafka change"
    return Check("proposal kind", want == got, f"drafted {got}; expected {want}")


def _runbook(expected: Expectation, seen: Observation) -> list[Check]:
    """Where the fix is not a Kafka change, the owning team still needs what to do."""
    if expected.proposal is not None or expected.cause == HEALTHY:
        return []
    judged = _judged(expected, seen)
    top = judged[0] if judged else None
    return [
        Check(
            "runbook for a fix outside Kafka",
            bool(top and top.runbook),
            (top.runbook or f"{top.kind} names no runbook section") if top else "no finding",
        )
    ]


def _bounded(expected: Expectation, seen: Observation) -> list[Check]:
    draft = seen.draft
    if draft is None or expected.proposal is None:
        return []
    risk_ok = expected.risk is None or draft.risk == expected.risk.value
    checks = [
        Check(
            "risk",
            risk_ok,
            f"{draft.risk}" + ("" if risk_ok else f" (expected {expected.risk})"),
        ),
        Check(
            "irreversibility",
            draft.irreversible == expected.irreversible,
            ("irreversible: " + "; ".join(draft.irreversible_reasons))
            if draft.irreversible
            else "reversible",
        ),
    ]
    planned = draft.rollback_steps > 0 or (draft.irreversible and draft.irreversible_reasons)
    checks.append(
        Check(
            "rollback plan",
            bool(planned),
            f"{draft.rollback_steps} rollback step(s)"
            + (
                f", {len(draft.irreversible_reasons)} said to be irreversible"
                if draft.irreversible_reasons
                else ""
            ),
        )
    )
    return checks


def _outcome(expected: Expectation, seen: Observation) -> Check:
    if expected.proposal is None:
        return Check(
            "outcome",
            seen.draft is None,
            "nothing drafted, nothing written"
            if seen.draft is None
            else f"{seen.draft.name} was drafted ({seen.phase})",
        )
    wanted = [p.value for p in expected.outcomes] if expected.approve else [Phase.REJECTED.value]
    return Check(
        "outcome",
        seen.phase in wanted,
        f"{seen.phase or 'no request'}; expected {' or '.join(wanted)}",
    )


def _recorded(seen: Observation) -> Check:
    ok = seen.seconds_to_diagnosis is not None and seen.tool_calls > 0
    time_text = (
        f"{seen.seconds_to_diagnosis:.1f}s" if seen.seconds_to_diagnosis is not None else "none"
    )
    return Check(
        "time and calls recorded", ok, f"diagnosis after {time_text}, {seen.tool_calls} calls"
    )
