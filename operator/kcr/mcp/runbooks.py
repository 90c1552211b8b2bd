"""Runbooks as markdown: shipped starters plus a directory of the team's own.

A runbook is one file; its ``# `` line is the title and each ``## `` heading opens a
section that tools cite as ``runbook#section``. A file in the extra directory replaces a
shipped runbook of the same name, so teams can adopt and adapt the starters.
"""

import re
from collections import Counter
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

MAX_RUNBOOK_BYTES = 256 * 1024
MAX_RUNBOOKS = 500
SNIPPET_CHARACTERS = 240

_WORD = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "to",
        "what",
        "when",
        "why",
        "with",
    ]
)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63] or "section"


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


@dataclass(frozen=True)
class Section:
    slug: str
    heading: str
    text: str


@dataclass(frozen=True)
class Runbook:
    slug: str
    title: str
    sections: tuple[Section, ...]
    origin: str

    def section(self, slug: str) -> Section | None:
        return next((s for s in self.sections if s.slug == slug), None)


@dataclass(frozen=True)
class Hit:
    runbook: Runbook
    section: Section
    score: float
    snippet: str


def parse_runbook(slug: str, text: str, origin: str) -> Runbook:
    title = slug
    sections: list[Section] = []
    heading = "Overview"
    lines: list[str] = []

    def close() -> None:
        body = "\n".join(lines).strip()
        if body:
            taken = {s.slug for s in sections}
            base = slugify(heading)
            chosen = base if base not in taken else f"{base}-{len(sections) + 1}"
            sections.append(Section(slug=chosen, heading=heading, text=body))

    for line in text.splitlines():
        if line.startswith("# ") and title == slug:
            title = line[2:].strip()
        elif line.startswith("## "):
            close()
            heading, lines = line[3:].strip(), []
        else:
            lines.append(line)
    close()
    return Runbook(slug=slug, title=title, sections=tuple(sections), origin=origin)


class RunbookLibrary:
    def __init__(self, runbooks: list[Runbook]) -> None:
        self._runbooks = {r.slug: r for r in runbooks}

    @classmethod
    def load(cls, extra_dir: Path | None = None) -> "RunbookLibrary":
        found = {r.slug: r for r in _read_dir(files("kcr.mcp").joinpath("runbooks"), "kcr")}
        if extra_dir is not None:
            if not extra_dir.is_dir():
                raise ValueError(f"runbooks directory {extra_dir} does not exist")
            found |= {r.slug: r for r in _read_dir(extra_dir, str(extra_dir))}
        return cls(sorted(found.values(), key=lambda r: r.slug)[:MAX_RUNBOOKS])

    def all(self) -> list[Runbook]:
        return list(self._runbooks.values())

    def get(self, slug: str) -> Runbook | None:
        return self._runbooks.get(slug)

    def search(self, query: str, limit: int) -> list[Hit]:
        """Term frequency over sections; a match in a title or heading counts three times."""
        terms = words(query)
        if not terms:
            return []
        hits = []
        for runbook in self._runbooks.values():
            title_words = Counter(words(runbook.title))
            for section in runbook.sections:
                body = Counter(words(section.text))
                heading = Counter(words(section.heading))
                score = sum(body[t] + 3 * heading[t] + 3 * title_words[t] for t in terms) / (
                    1 + len(terms)
                )
                if score > 0:
                    hits.append(Hit(runbook, section, round(score, 3), _snippet(section, terms)))
        hits.sort(key=lambda h: (-h.score, h.runbook.slug, h.section.slug))
        return hits[:limit]


def _read_dir(directory: Traversable | Path, origin: str) -> list[Runbook]:
    books = []
    for entry in sorted(directory.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".md") or not entry.is_file():
            continue
        data = entry.read_bytes()[: MAX_RUNBOOK_BYTES + 1]
        if len(data) > MAX_RUNBOOK_BYTES:
            raise ValueError(f"runbook {entry.name} is larger than {MAX_RUNBOOK_BYTES} bytes")
        slug = slugify(entry.name.removesuffix(".md"))
        books.append(parse_runbook(slug, data.decode("utf-8"), f"{origin}/{entry.name}"))
    return books


def _snippet(section: Section, terms: list[str]) -> str:
    text = " ".join(section.text.split())
    lowered = text.lower()
    starts = [lowered.find(t) for t in terms if lowered.find(t) >= 0]
    start = max(0, min(starts) - 60) if starts else 0
    snippet = text[start : start + SNIPPET_CHARACTERS]
    return (
        ("…" if start else "") + snippet + ("…" if start + SNIPPET_CHARACTERS < len(text) else "")
    )
