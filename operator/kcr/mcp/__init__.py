"""The kcr MCP server: evidence-citing read tools and draft tools that never execute.

Every call maps to an authenticated caller with roles and a tenant scope; the middleware
refuses (and audits) before a tool runs, so a tool body only ever sees allowed calls.
"""

import kcr.kinds  # noqa: F401  (registers the built-in change kinds)
