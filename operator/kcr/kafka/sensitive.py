"""Which configuration keys hold secrets, judged by name, whatever the broker says.

A broker flags its own secrets sensitive, but a plugin's key may come unflagged. Snapshots
are stored on the custom resource and configurations are shown over MCP, so a key that
names a secret (``sasl.jaas.config``, passwords, keys, tokens, credentials) is never
stored or shown in clear.
"""

import re

_SENSITIVE_KEY = re.compile(
    r"(jaas|password|passwd|secret|token|credential|private|(^|[._-])key($|[._-])|"
    r"keystore|truststore\.certificates|apikey|api[._-]key|\.pem$|sasl\.)",
    re.IGNORECASE,
)


def is_sensitive_key(key: str) -> bool:
    return bool(_SENSITIVE_KEY.search(key))
