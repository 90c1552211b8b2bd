"""What every kcr component needs to talk to the Kubernetes API, written once.

``errors`` and ``resources`` import nothing heavy, so the operator's httpx client and the
MCP server's port protocol can use them; ``config`` and ``objects`` wrap the official
``kubernetes`` client that the kubectl plugin and the MCP server share.
"""
