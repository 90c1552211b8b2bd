"""kcr's one Kubernetes client: JSON over httpx, for the operator, the MCP server and the plugin.

Each call names what kcr was doing, so a failure reads as a sentence a person can act on
(:mod:`kcr.kube.errors`); each has a timeout; at most :data:`MAX_CONCURRENT_REQUESTS` are
in flight. Credentials come from a ``login`` callable, asked again once when the API
server answers 401 (a rotated service-account token, an expired exec-plugin token).
"""

import asyncio
import base64
import logging
import ssl
from collections.abc import Callable
from typing import Any

import httpx

from kcr.kube.config import Credentials
from kcr.kube.errors import KubeError, answered, network_reason, unreachable
from kcr.kube.resources import KubeObject

log = logging.getLogger(__name__)

MAX_CONCURRENT_REQUESTS = 20
"""Requests in flight to the API server at once; the others wait their turn here.

A thousand requests reviewed at once would otherwise all queue in the HTTP client's
connection pool, which scans its whole queue each time a connection frees: the operator
spent its time in that scan, and its requests timed out while queued."""

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
MAX_MESSAGE_CHARS = 500


class KubeClient:
    """One connection pool to one API server, as one identity."""

    def __init__(
        self,
        login: Callable[[], Credentials],
        *,
        timeout: float,
        user_agent: str = "kcr",
        credentials: Credentials | None = None,
    ) -> None:
        """``credentials``: already loaded by the caller; ``login`` is then asked only
        after a 401."""
        self._login = login
        self._timeout = timeout
        self._user_agent = user_agent
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)
        self._relogin = asyncio.Lock()
        self._credentials = credentials or login()
        self._http = self._connect(self._credentials)
        self._retired: list[httpx.AsyncClient] = []

    @property
    def server(self) -> str:
        return self._credentials.server

    async def get(self, path: str, doing: str, **params: str) -> KubeObject:
        return await self._json("GET", path, doing, params=params)

    async def find(self, path: str, doing: str) -> KubeObject | None:
        """The object, or None when it does not exist (404)."""
        response = await self._send("GET", path, doing, missing_ok=True)
        return None if response.status_code == 404 else _body(response, doing)

    async def list_objects(self, path: str, doing: str, **params: str) -> list[KubeObject]:
        items: list[KubeObject] = (await self.get(path, doing, **params)).get("items") or []
        return items

    async def create(self, path: str, body: KubeObject, doing: str) -> KubeObject:
        return await self._json("POST", path, doing, body=body)

    async def merge_patch(self, path: str, patch: KubeObject, doing: str) -> KubeObject:
        """RFC 7386: objects merge, lists are replaced, ``None`` removes a key."""
        return await self._json("PATCH", path, doing, body=patch, content_type=MERGE_PATCH)

    async def json_patch(self, path: str, operations: list[KubeObject], doing: str) -> KubeObject:
        """RFC 6902: a failed ``test`` operation is refused whole (HTTP 422)."""
        return await self._json("PATCH", path, doing, body=operations, content_type=JSON_PATCH)

    async def aclose(self) -> None:
        for http in [*self._retired, self._http]:
            await http.aclose()
        self._retired.clear()

    async def _json(
        self,
        method: str,
        path: str,
        doing: str,
        *,
        body: Any = None,
        content_type: str | None = None,
        params: dict[str, str] | None = None,
    ) -> KubeObject:
        response = await self._send(
            method, path, doing, body=body, content_type=content_type, params=params
        )
        return _body(response, doing)

    async def _send(
        self,
        method: str,
        path: str,
        doing: str,
        *,
        body: Any = None,
        content_type: str | None = None,
        params: dict[str, str] | None = None,
        missing_ok: bool = False,
    ) -> httpx.Response:
        headers = {"Content-Type": content_type} if content_type else None
        # The serving certificate may name another host than the URL (kubeconfig's
        # tls-server-name): httpcore then checks it against that name.
        server_name = self._credentials.tls_server_name
        extensions = {"sni_hostname": server_name} if server_name else None
        for attempt in range(2):  # bounded: one login again after a 401
            credentials = self._credentials
            try:
                async with self._slots:
                    response = await self._http.request(
                        method,
                        path,
                        json=body,
                        headers=headers,
                        params=params,
                        extensions=extensions,
                    )
            except httpx.RequestError as error:
                raise unreachable(error, self.server, doing) from error
            if response.status_code == 401 and attempt == 0:
                await self._login_again(credentials, doing)
                continue
            break
        if response.is_error and not (missing_ok and response.status_code == 404):
            raise answered(response.status_code, _message(response), doing)
        return response

    async def _login_again(self, seen: Credentials, doing: str) -> None:
        """Once for all the calls that met the same 401; the login may run an exec plugin."""
        async with self._relogin:
            if self._credentials is not seen:
                return  # another call logged in again meanwhile
            log.info("the API server refused the credentials; logging in again")
            try:
                fresh = await asyncio.to_thread(self._login)
            except Exception as error:
                raise KubeError(f"{doing}: logging in again after HTTP 401: {error}") from error
            if _same_connection(seen, fresh):
                self._http.headers.pop("Authorization", None)
                self._http.headers.update(_auth_headers(fresh))
            else:  # calls in flight finish on the old pool; it closes with this client
                self._retired.append(self._http)
                self._http = self._connect(fresh)
            self._credentials = fresh

    def _connect(self, credentials: Credentials) -> httpx.AsyncClient:
        try:
            verify = _tls(credentials)
        except OSError as error:  # ssl.SSLError too: a CA or key file that is not one
            files = [credentials.ca_file, credentials.cert_file, credentials.key_file]
            raise KubeError(
                f"cannot use the TLS files {', '.join(f for f in files if f) or '(in memory)'} "
                f"for the Kubernetes API server {credentials.server}: {network_reason(error)}"
            ) from error
        return httpx.AsyncClient(
            base_url=credentials.server,
            headers={"User-Agent": self._user_agent, **_auth_headers(credentials)},
            verify=verify,
            proxy=credentials.proxy,
            timeout=self._timeout,
            limits=httpx.Limits(
                max_connections=MAX_CONCURRENT_REQUESTS,
                max_keepalive_connections=MAX_CONCURRENT_REQUESTS,
            ),
        )


def _auth_headers(credentials: Credentials) -> dict[str, str]:
    if credentials.authorization:
        return {"Authorization": credentials.authorization}
    if credentials.username and credentials.password:
        pair = f"{credentials.username}:{credentials.password}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}
    return {}


def _same_connection(old: Credentials, new: Credentials) -> bool:
    """Only who we are changed, not where or how TLS is set up."""
    keep = ("server", "ca_file", "ca_data", "insecure", "cert_file", "key_file", "proxy")
    return all(getattr(old, name) == getattr(new, name) for name in keep) and (
        old.tls_server_name == new.tls_server_name
    )


def _tls(credentials: Credentials) -> ssl.SSLContext | bool:
    if credentials.insecure:
        return False
    context = ssl.create_default_context(
        cafile=credentials.ca_file, cadata=credentials.ca_data or None
    )
    if credentials.cert_file and credentials.key_file:
        context.load_cert_chain(credentials.cert_file, credentials.key_file)
    return context


def _body(response: httpx.Response, doing: str) -> KubeObject:
    try:
        body = response.json()
    except ValueError as error:
        raise KubeError(
            f"{doing}: the API server answered HTTP {response.status_code} with something "
            f"other than JSON: {response.text[:MAX_MESSAGE_CHARS]}",
            status=response.status_code,
        ) from error
    if not isinstance(body, dict):
        raise KubeError(f"{doing}: the API server answered with a JSON {type(body).__name__}")
    return body


def _message(response: httpx.Response) -> str:
    """The ``Status`` object's message, as the API server (or its admission policy) wrote it."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])[: MAX_MESSAGE_CHARS * 4]
    return response.text[:MAX_MESSAGE_CHARS] or response.reason_phrase or "error"
