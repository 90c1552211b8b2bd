"""A bare MCP SDK server with one trivial tool: the benches' measure of the framework itself.

``python bare_server.py stdio`` or ``python bare_server.py http PORT`` (127.0.0.1 only).
The tool returns a small structured result, as a read tool does, with no auth, audit,
guards or Kafka, so the difference to kcr is what kcr's own layer costs.
"""

import asyncio
import sys

import uvicorn
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel


class Answer(BaseModel):
    group: str
    total_lag: int


def build() -> MCPServer:
    server = MCPServer("bare")

    @server.tool()
    async def consumer_lag(group: str) -> Answer:
        """The same name and argument as kcr's tool, answered without looking."""
        return Answer(group=group, total_lag=0)

    return server


async def serve(transport: str, port: int) -> None:
    server = build()
    if transport == "stdio":
        await server.run_stdio_async()
        return
    app = server.streamable_http_app(host="127.0.0.1")
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    await uvicorn.Server(config).serve()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0))
