"""Schema changes of a topic through the Confluent Schema Registry REST API (read-only).

Most registries serve this API (Confluent's, Karapace, Apicurio under
``/apis/ccompat/v7``). A topic's subjects follow the default TopicNameStrategy
(``<topic>-key``, ``<topic>-value``). The Confluent API has no registration time; Apicurio
serves it on its native API beside the ccompat path (``createdOn`` of each version), so
for an Apicurio URL the times are read there, and otherwise the evidence says they are
unknown rather than guessing.
"""

from datetime import datetime
from typing import Any

import httpx
from pydantic import Field

from kcr.model import Evidence, EvidenceKind, TimeWindow
from kcr.model.base import KubeModel

MAX_VERSIONS = 20
CCOMPAT = "/apis/ccompat/"
NATIVE = ("/apis/registry/v3", "/apis/registry/v2")
"""Apicurio 3's native API, then Apicurio 2's: the same versions list with ``createdOn``."""


class SchemaRegistryError(Exception):
    """The registry could not be read; the message says what to check."""


class SchemaVersion(KubeModel):
    version: int
    id: int
    schema_type: str = "AVRO"
    registered_at: datetime | None = Field(
        default=None, description="When this version was registered, if the registry says"
    )


class SubjectHistory(KubeModel):
    subject: str
    versions: list[SchemaVersion] = Field(description="Newest last, at most 20")


class SchemaHistory(KubeModel):
    topic: str
    url: str
    subjects: list[SubjectHistory]
    observed_at: datetime


class SchemaRegistryClient:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self._url = url.rstrip("/")
        self._http = httpx.AsyncClient(timeout=timeout)
        prefix, _, _ = self._url.partition(CCOMPAT)
        self._native = tuple(prefix + api for api in NATIVE) if CCOMPAT in self._url else ()

    @property
    def url(self) -> str:
        return self._url

    async def history(self, topic: str, now: datetime) -> SchemaHistory:
        subjects = await self._get(f"{self._url}/subjects")
        if not isinstance(subjects, list):
            raise SchemaRegistryError(f"{self._url}/subjects did not answer a list")
        found = []
        for subject in (f"{topic}-key", f"{topic}-value"):
            if subject in subjects:
                found.append(await self._subject(subject))
        return SchemaHistory(topic=topic, url=self._url, subjects=found, observed_at=now)

    async def close(self) -> None:
        await self._http.aclose()

    async def _subject(self, subject: str) -> SubjectHistory:
        numbers = await self._get(f"{self._url}/subjects/{subject}/versions")
        times = await self._registration_times(subject)
        versions = []
        for number in sorted(int(n) for n in numbers)[-MAX_VERSIONS:]:
            body = await self._get(f"{self._url}/subjects/{subject}/versions/{number}")
            versions.append(
                SchemaVersion(
                    version=number,
                    id=int(body.get("id", 0)),
                    schema_type=str(body.get("schemaType", "AVRO")),
                    registered_at=times.get(number),
                )
            )
        return SubjectHistory(subject=subject, versions=versions)

    async def _registration_times(self, subject: str) -> dict[int, datetime]:
        """Apicurio's native ``createdOn`` per version; nothing for other registries."""
        body: Any = None
        for native in self._native:
            try:
                body = await self._get(
                    f"{native}/groups/default/artifacts/{subject}/versions",
                    params={"limit": "100"},
                )
                break
            except SchemaRegistryError:
                if native == self._native[-1]:
                    raise
        times = {}
        for entry in body.get("versions", []) if isinstance(body, dict) else []:
            if str(entry.get("version", "")).isdigit() and entry.get("createdOn"):
                times[int(entry["version"])] = datetime.fromisoformat(
                    str(entry["createdOn"]).replace("Z", "+00:00")
                )
        return times

    async def _get(self, url: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = await self._http.get(url, params=params)
            response.raise_for_status()
            return response.json()
        except httpx.HTTPError as error:
            raise SchemaRegistryError(
                f"the schema registry at {self._url} could not be read ({type(error).__name__}: "
                f"{error}); check the KafkaCluster's schemaRegistryUrl"
            ) from None
        except ValueError:
            raise SchemaRegistryError(f"{url} did not answer JSON") from None


def schema_evidence(history: SchemaHistory) -> Evidence:
    """The versions as one claim; its window spans the registration times it cites."""
    times = [v.registered_at for s in history.subjects for v in s.versions if v.registered_at]
    value = "; ".join(
        f"{s.subject}: "
        + ", ".join(
            f"v{v.version} (id {v.id}"
            + (f", registered {v.registered_at.isoformat()})" if v.registered_at else ")")
            for v in s.versions
        )
        for s in history.subjects
    )
    return Evidence(
        kind=EvidenceKind.SCHEMA,
        source=f"schema-registry {history.url}: GET /subjects/<subject>/versions"[:256],
        query=f"schema_history topic={history.topic}",
        observed_value=(value or f"no subjects for {history.topic}")[:4096],
        time_window=TimeWindow(
            start=min(times, default=history.observed_at), end=history.observed_at
        ),
        captured_at=history.observed_at,
    )
