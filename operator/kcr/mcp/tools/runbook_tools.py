"""Runbook search and section fetch: the team's own words next to the cluster's numbers."""

from typing import Annotated

from pydantic import Field

from kcr.mcp.gate.calls import ToolInvalidError
from kcr.mcp.tools.env import ToolEnv
from kcr.model.base import KubeModel

MAX_SECTION_CHARACTERS = 20_000

Query = Annotated[str, Field(min_length=1, max_length=256, description="Words to look for")]
Slug = Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
HitLimit = Annotated[int, Field(ge=1, le=20)]


class RunbookHit(KubeModel):
    runbook: str
    section: str
    title: str
    heading: str
    score: float
    snippet: str


class RunbookSearchResult(KubeModel):
    hits: list[RunbookHit]
    runbooks: list[str] = Field(description="Every runbook the server knows")


async def search_runbooks(env: ToolEnv, query: Query, limit: HitLimit = 5) -> RunbookSearchResult:
    """Runbook sections that match the words, best first; fetch one with fetch_runbook_section."""
    library = env.services.runbooks
    hits = library.search(query, limit)
    return RunbookSearchResult(
        hits=[
            RunbookHit(
                runbook=h.runbook.slug,
                section=h.section.slug,
                title=h.runbook.title,
                heading=h.section.heading,
                score=h.score,
                snippet=h.snippet,
            )
            for h in hits
        ],
        runbooks=[r.slug for r in library.all()],
    )


class RunbookSection(KubeModel):
    runbook: str
    section: str
    title: str
    heading: str
    text: str
    truncated: bool = False
    sections: list[str] = Field(description="Every section of this runbook")
    origin: str


async def fetch_runbook_section(env: ToolEnv, runbook: Slug, section: Slug) -> RunbookSection:
    """One section of a runbook, as markdown."""
    book = env.services.runbooks.get(runbook)
    if book is None:
        known = ", ".join(r.slug for r in env.services.runbooks.all())
        raise ToolInvalidError(f"no runbook {runbook!r}; known runbooks: {known}")
    found = book.section(section)
    if found is None:
        known = ", ".join(s.slug for s in book.sections)
        raise ToolInvalidError(
            f"runbook {runbook} has no section {section!r}; its sections: {known}"
        )
    return RunbookSection(
        runbook=book.slug,
        section=found.slug,
        title=book.title,
        heading=found.heading,
        text=found.text[:MAX_SECTION_CHARACTERS],
        truncated=len(found.text) > MAX_SECTION_CHARACTERS,
        sections=[s.slug for s in book.sections],
        origin=book.origin,
    )
