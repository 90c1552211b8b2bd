"""``search_incidents``: the team's notes on past incidents, by words, newest first on ties."""

from datetime import datetime
from typing import Annotated

from pydantic import Field

from kcr.mcp.tools.env import ToolEnv
from kcr.model.base import KubeModel

Query = Annotated[str, Field(min_length=1, max_length=256, description="Words to look for")]
HitLimit = Annotated[int, Field(ge=1, le=20)]


class IncidentHit(KubeModel):
    incident: str
    title: str
    time: datetime
    services: list[str]
    topics: list[str]
    resolution: str
    score: float
    snippet: str


class IncidentSearchResult(KubeModel):
    hits: list[IncidentHit]
    notes: int = Field(description="How many incident notes the server knows")


async def search_incidents(env: ToolEnv, query: Query, limit: HitLimit = 5) -> IncidentSearchResult:
    """Past incidents whose notes match the words (title, topics, services, resolution
    and text), with when they happened and how they were resolved."""
    library = env.services.incidents
    return IncidentSearchResult(
        hits=[
            IncidentHit(
                incident=note.slug,
                title=note.title,
                time=note.front.time,
                services=note.front.services,
                topics=note.front.topics,
                resolution=note.front.resolution,
                score=score,
                snippet=snippet,
            )
            for note, score, snippet in library.search(query, limit)
        ],
        notes=len(library.all()),
    )
