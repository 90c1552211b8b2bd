"""Incident history: the team's notes on past incidents, searchable and linked to findings.

A note is a markdown file with YAML front matter, usually mounted from a ConfigMap:

    ---
    time: 2026-10-02T14:05:00Z
    services: [checkout]
    topics: [orders]
    kinds: [HotPartition]        # optional: finding kinds it was about
    resolution: keyed by region instead of customer id
    ---
    # Orders lagged behind one hot partition
    ...

A finding links the notes that share its topic or its kind, most specific and newest
first, so the assistant can say "this looks like the incident of 2 October".
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import Field, ValidationError

from kcr.mcp.runbooks import slugify, words
from kcr.model import explain
from kcr.model.base import KubeModel

MAX_NOTE_BYTES = 64 * 1024
MAX_NOTES = 1000
MAX_LINKS = 3
SNIPPET_CHARACTERS = 240

Names = Annotated[list[Annotated[str, Field(max_length=249)]], Field(max_length=50)]


class FrontMatter(KubeModel):
    time: datetime
    services: Names = Field(default_factory=list)
    topics: Names = Field(default_factory=list)
    kinds: Names = Field(default_factory=list)
    resolution: Annotated[str, Field(min_length=1, max_length=2048)]


@dataclass(frozen=True)
class IncidentNote:
    slug: str
    title: str
    front: FrontMatter
    text: str
    origin: str


class IncidentRef(KubeModel):
    """A past incident a finding resembles, and why."""

    incident: str
    title: str
    time: datetime
    resolution: str
    matched_on: list[str] = Field(description="topic:<name> and/or kind:<finding kind>")


class IncidentError(ValueError):
    """A note cannot be read; the message names the file and what is wrong."""


def parse_note(slug: str, text: str, origin: str) -> IncidentNote:
    if not text.startswith("---\n"):
        raise IncidentError(f"{origin}: starts without front matter (a line '---')")
    head, separator, body = text[4:].partition("\n---\n")
    if not separator:
        raise IncidentError(f"{origin}: front matter has no closing '---' line")
    try:
        front = FrontMatter.model_validate(yaml.safe_load(head) or {})
    except yaml.YAMLError as error:
        raise IncidentError(f"{origin}: front matter is not YAML: {error}") from None
    except ValidationError as error:
        raise IncidentError(f"{origin}: " + "; ".join(explain(error))) from None
    title = next((line[2:].strip() for line in body.splitlines() if line.startswith("# ")), slug)
    return IncidentNote(slug=slug, title=title, front=front, text=body.strip(), origin=origin)


class IncidentLibrary:
    def __init__(self, notes: list[IncidentNote] | None = None) -> None:
        self._notes = sorted(notes or [], key=lambda n: n.front.time, reverse=True)

    @classmethod
    def load(cls, directory: Path | None) -> "IncidentLibrary":
        if directory is None:
            return cls()
        if not directory.is_dir():
            raise IncidentError(f"incidents directory {directory} does not exist")
        notes = []
        for entry in sorted(directory.iterdir())[:MAX_NOTES]:
            if entry.suffix != ".md" or not entry.is_file():
                continue
            data = entry.read_bytes()[: MAX_NOTE_BYTES + 1]
            if len(data) > MAX_NOTE_BYTES:
                raise IncidentError(f"{entry}: larger than {MAX_NOTE_BYTES} bytes")
            notes.append(parse_note(slugify(entry.stem), data.decode("utf-8"), str(entry)))
        return cls(notes)

    def all(self) -> list[IncidentNote]:
        return list(self._notes)

    def like(self, kind: str, topic: str | None) -> list[IncidentRef]:
        """Notes sharing the topic or the kind: both first, then newest first."""
        found = []
        for note in self._notes:
            matched = []
            if topic is not None and topic in note.front.topics:
                matched.append(f"topic:{topic}")
            if kind in note.front.kinds:
                matched.append(f"kind:{kind}")
            if matched:
                found.append((len(matched), note, matched))
        found.sort(key=lambda f: -f[0])  # stable: newest first within each rank
        return [
            IncidentRef(
                incident=note.slug,
                title=note.title,
                time=note.front.time,
                resolution=note.front.resolution,
                matched_on=matched,
            )
            for _, note, matched in found[:MAX_LINKS]
        ]

    def search(self, query: str, limit: int) -> list[tuple[IncidentNote, float, str]]:
        """Term frequency over the note; title, topics, services and resolution count 3x."""
        terms = words(query)
        if not terms:
            return []
        hits = []
        for note in self._notes:
            body = Counter(words(note.text))
            front = Counter(
                words(
                    " ".join(
                        [
                            note.title,
                            *note.front.topics,
                            *note.front.services,
                            note.front.resolution,
                        ]
                    )
                )
            )
            score = sum(body[t] + 3 * front[t] for t in terms) / (1 + len(terms))
            if score > 0:
                hits.append((note, round(score, 3), _snippet(note.text, terms)))
        hits.sort(key=lambda h: (-h[1], -h[0].front.time.timestamp()))
        return hits[:limit]


def _snippet(text: str, terms: list[str]) -> str:
    flat = " ".join(text.split())
    lowered = flat.lower()
    starts = [lowered.find(t) for t in terms if t in lowered]
    start = max(0, min(starts) - 60) if starts else 0
    return flat[start : start + SNIPPET_CHARACTERS]
