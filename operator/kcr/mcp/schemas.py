"""Schema changes of a topic through the Confluent Schema Registry REST API (read-only).

Most registries serve this API (Confluent's, Karapace, Apicurio under
``/apis/ccompat/v7``). A topic's subjects follow the default TopicNameStrategy
(``<topic>-key``, ``<topic>-value``). The Confluent API has no registration time; Apicurio
serves it on its native API beside the ccompat path (``createdOn`` of each version), so
for an Apicurio URL the times are read there, and otherwise the evidence says they are
unknown rather than guessing.

A schema a producer failed to register is checked the way the registry judged it: against
the subject's latest version under the subject's compatibility rule (``POST
/compatibility/subjects/<subject>/versions/<n>``), which registers nothing.
"""

from datetime import datetime
from enum import StrEnum
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


class SchemaRejectedError(SchemaRegistryError):
    """The registry cannot parse the schema it was given (HTTP 422): the caller's input."""


class SchemaType(StrEnum):
    AVRO = "AVRO"
    JSON = "JSON"
    PROTOBUF = "PROTOBUF"


class SchemaPart(StrEnum):
    """Which of a topic's subjects (TopicNameStrategy): ``<topic>-value`` or ``<topic>-key``."""

    VALUE = "value"
    KEY = "key"


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


class SchemaCompatibility(KubeModel):
    """Whether a schema may become the subject's next version, as the registry judges it."""

    topic: str
    subject: str
    url: str
    schema_type: SchemaType
    compatible: bool
    latest_version: int | None = Field(
        description="The version it was checked against; none when the subject has none yet"
    )
    latest_id: int | None = None
    compatibility_level: str | None = Field(
        default=None, description="The subject's rule (BACKWARD, FULL, NONE...), if known"
    )
    messages: list[str] = Field(description="Why it is or is not, in the registry's words")
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

    async def compatibility(
        self, topic: str, part: SchemaPart, schema: str, schema_type: SchemaType, now: datetime
    ) -> SchemaCompatibility:
        """``schema`` against the subject's latest version, by the subject's own rule."""
        subject = f"{topic}-{part.value}"
        check = SchemaCompatibility(
            topic=topic,
            subject=subject,
            url=self._url,
            schema_type=schema_type,
            compatible=True,
            latest_version=None,
            messages=[f"{subject} has no version yet: any valid schema registers as version 1"],
            observed_at=now,
        )
        base = self._url
        latest = await self._request(
            "GET", f"{base}/subjects/{subject}/versions/latest", missing=True
        )
        if latest is None:
            return check
        version = int(latest["version"])
        body = {"schema": schema} | (
            {} if schema_type is SchemaType.AVRO else {"schemaType": schema_type.value}
        )
        answer = await self._request(
            "POST",
            f"{base}/compatibility/subjects/{subject}/versions/{version}",
            params={"verbose": "true"},
            json=body,
        )
        messages = answer.get("messages") or ([answer["reason"]] if answer.get("reason") else [])
        return check.model_copy(
            update={
                "compatible": answer.get("is_compatible") is True,
                "latest_version": version,
                "latest_id": int(latest.get("id", 0)),
                "compatibility_level": await self._level(subject),
                "messages": [str(m) for m in messages],
            }
        )

    async def _level(self, subject: str) -> str | None:
        """The subject's own rule, else the registry's default."""
        for path in (f"/config/{subject}", "/config"):
            body = await self._request("GET", self._url + path, missing=True)
            if isinstance(body, dict) and body.get("compatibilityLevel"):
                return str(body["compatibilityLevel"])
        return None

    async def _request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, str] | None = None,
        missing: bool = False,
    ) -> Any:
        """The answer as JSON; None for a 404 where ``missing``; a 422 is the schema's fault."""
        try:
            response = await self._http.request(method, url, params=params, json=json)
        except httpx.HTTPError as error:
            raise self._unreadable(error) from None
        if response.status_code == 404 and missing:
            return None
        if response.status_code == 422:
            raise SchemaRejectedError(
                f"the schema registry cannot read the schema: {_message(response)}"
            )
        try:
            response.raise_for_status()
            return response.json()
        except httpx.HTTPError as error:
            raise self._unreadable(error, _message(response)) from None
        except ValueError:
            raise SchemaRegistryError(f"{url} did not answer JSON") from None

    def _unreadable(self, error: httpx.HTTPError, detail: str = "") -> SchemaRegistryError:
        return SchemaRegistryError(
            f"the schema registry at {self._url} could not be read ({type(error).__name__}: "
            f"{detail or error}); check the KafkaCluster's schemaRegistryUrl"
        )

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
        return await self._request("GET", url, params=params)


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", response.text))[:500]
    except (ValueError, AttributeError):
        return response.text[:500]


def compatibility_evidence(check: SchemaCompatibility) -> Evidence:
    """The registry's verdict on one schema against one version, at the moment it was asked."""
    version = check.latest_version
    against = f"version {version} (id {check.latest_id})" if version is not None else "no version"
    verdict = "compatible" if check.compatible else "NOT compatible"
    level = check.compatibility_level or "unknown"
    return Evidence(
        kind=EvidenceKind.SCHEMA,
        source=(
            f"schema-registry {check.url}: POST /compatibility/subjects/{check.subject}/"
            f"versions/{version if version is not None else 'latest'}"
        )[:256],
        query=(
            f"check_schema_compatibility topic={check.topic} subject={check.subject} "
            f"version={version if version is not None else 'none'}"
        ),
        observed_value=(
            f"{check.schema_type.value} schema {verdict} with {check.subject} {against} under "
            f"compatibility {level}: {'; '.join(check.messages) or _silent(check)}"
        )[:4096],
        time_window=TimeWindow.at(check.observed_at),
        captured_at=check.observed_at,
    )


def _silent(check: SchemaCompatibility) -> str:
    if check.compatible:
        return "it would register as the next version"
    return "the registry gave no reason"


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
