"""The assistant's side of the demo: an MCP client over streamable HTTP with a bearer token.

It sees exactly what any MCP client would: the tools the server lists for its principal,
their structured results, and refusals as tool errors. Every call is narrated.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from kcr.embedded.narration import Narrator

CALL_TIMEOUT_SECONDS = 30.0


class ToolCallError(RuntimeError):
    """The server answered a tool call with an error; the message is the server's."""


@dataclass
class Assistant:
    client: Client
    principal: str
    narrator: Narrator

    async def tools(self) -> list[str]:
        listed = await self.client.list_tools()
        return sorted(tool.name for tool in listed.tools)

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.narrator.tool_call(self.principal, tool, arguments)
        result = await self.client.call_tool(
            tool, arguments, read_timeout_seconds=CALL_TIMEOUT_SECONDS
        )
        if result.is_error:
            text = " ".join(getattr(block, "text", "") for block in result.content)
            raise ToolCallError(f"{tool} failed: {text or 'no message'}")
        if not isinstance(result.structured_content, dict):
            raise ToolCallError(f"{tool} returned no structured content")
        return result.structured_content


@asynccontextmanager
async def connect(
    url: str, token: str, principal: str, narrator: Narrator
) -> AsyncIterator[Assistant]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=CALL_TIMEOUT_SECONDS) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield Assistant(client=client, principal=principal, narrator=narrator)
