"""Which configuration keys hold secrets, judged by name, whatever the broker says.

A broker flags its own secrets sensitive, but a plugin's key may come unflagged. Snapshots
are stored on the custom resource and configurations are shown over MCP, so a key that
names a secret (``sasl.jaas.config``, passwords, keys, tokens, credentials) is never
stored or shown in clear.
"""

import re

from kcr.model.topic_configs import TOPIC_CONFIGS

_SENSITIVE_KEY = re.compile(
    r"(jaas|password|passwd|secret|token|credential|private|(^|[._-])key$|"
    r"keystore|truststore\.certificates|apikey|api[._-]key|\.pem$|sasl\.)",
    re.IGNORECASE,
)


def is_sensitive_key(key: str) -> bool:
    """A topic configuration kcr knows by name (``confluent.key.schema.validation``) holds
    no secret; any other key that names one is treated as one."""
    return key not in TOPIC_CONFIGS and bool(_SENSITIVE_KEY.search(key))
