"""The MCP tools, one module per family; each tool is a plain async function of a ToolEnv.

Keeping tools free of MCP types lets the benchmark and the tests call the very function
the server registers, and keeps the SDK at the edge (:mod:`kcr.mcp.tools.registry`).
"""
