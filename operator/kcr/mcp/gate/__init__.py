"""The gate every MCP request passes before a tool runs: who is calling, may they, how often.

Transport auth (bearer tokens, TokenReview, OIDC), the caller's identity and scope,
argument guards, rate limits, and the hash-chained audit record of every call live here;
the tools behind the gate read only the :class:`~kcr.mcp.gate.calls.CallContext` it opens.
"""
