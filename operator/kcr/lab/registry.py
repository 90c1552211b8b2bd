"""The lab's side of a schema registry: what a producer's serializer and a team's tooling send.

A serializer that registers its schema POSTs it to ``/subjects/<subject>/versions`` before
its first record; the registry answers the schema's id, or ``409 Conflict`` when the
subject's compatibility rule refuses it, and the producer writes nothing. The
Confluent-compatible API, as Confluent's, Karapace and Apicurio (``/apis/ccompat/v7``) serve it.
"""

from dataclasses import dataclass
from typing import Any

import httpx

TIMEOUT_SECONDS = 10.0
CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


@dataclass(frozen=True)
class Registration:
    """How the registry answered one registration: the status, the id or its message."""

    status: int
    schema_id: int | None
    message: str

    @property
    def accepted(self) -> bool:
        return self.status == 200 and self.schema_id is not None


class RegistryClient:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.AsyncClient(
            timeout=TIMEOUT_SECONDS, headers={"Content-Type": CONTENT_TYPE}
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def set_compatibility(self, subject: str, level: str) -> None:
        response = await self._http.put(
            f"{self.url}/config/{subject}", json={"compatibility": level}
        )
        response.raise_for_status()

    async def compatibility(self, subject: str) -> str | None:
        response = await self._http.get(f"{self.url}/config/{subject}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        level = response.json().get("compatibilityLevel")
        return str(level) if level else None

    async def register(self, subject: str, schema: str) -> Registration:
        """What a serializer's auto-registration does; a refusal is an answer, not an error."""
        response = await self._http.post(
            f"{self.url}/subjects/{subject}/versions", json={"schema": schema}
        )
        body = _json(response)
        if response.status_code == 200 and "id" in body:
            return Registration(200, int(body["id"]), "")
        return Registration(response.status_code, None, str(body.get("message", response.text)))

    async def versions(self, subject: str) -> list[int]:
        response = await self._http.get(f"{self.url}/subjects/{subject}/versions")
        if response.status_code == 404:
            return []
        response.raise_for_status()
        return sorted(int(v) for v in response.json())

    async def delete(self, subject: str) -> None:
        """Soft, then permanent (the API's two steps): a staging registry keeps nothing."""
        for params in ({}, {"permanent": "true"}):
            response = await self._http.delete(f"{self.url}/subjects/{subject}", params=params)
            if response.status_code != 404:
                response.raise_for_status()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
