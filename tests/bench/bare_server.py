"""A bare MCP SDK server: the benches' measure of the framework itself.

``python bare_server.py ANSWER.json stdio`` or ``python bare_server.py ANSWER.json http
PORT`` (127.0.0.1 only). Two tools, no auth, audit, guards or Kafka:

- ``trivial(group)``: a two-field answer, the SDK's own round trip;
- ``consumer_lag(group)``: kcr's ``LagResult`` read once from ``ANSWER.json``, so the
  client receives (and validates) the same answer as from kcr, and the difference to kcr
  is what kcr's own layer costs.
"""

import asyncio
import sys
from pathlib import Path

import uvicorn
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel

from kcr.mcp.tools.groups import LagResult


class Answer(BaseModel):
    group: str
    total_lag: int


def build(answer: LagResult) -> MCPServer:
    server = MCPServer("bare")

    @server.tool()
    async def trivial(group: str) -> Answer:
        """Answers without looking."""
        return Answer(group=group, total_lag=0)

    @server.tool()
    async def consumer_lag(group: str) -> LagResult:
        """kcr's answer, as it was when the server started."""
        return answer

    return server


async def serve(answer: Path, transport: str, port: int) -> None:
    server = build(LagResult.model_validate_json(answer.read_text()))
    if transport == "stdio":
        await server.run_stdio_async()
        return
    app = server.streamable_http_app(host="127.0.0.1")
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    await uvicorn.Server(config).serve()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0))
