"""Protected topics: glob patterns in the cluster policy (``__*``, ``payments.*``)."""

from fnmatch import fnmatchcase

from kcr.model import ClusterPolicy


def protected_matches(topics: list[str], policy: ClusterPolicy) -> list[str]:
    """Each affected topic that a protected pattern names, with the first such pattern."""
    found = []
    for topic in topics:
        pattern = next((p for p in policy.protected_topics if fnmatchcase(topic, p)), None)
        if pattern is not None:
            found.append(f"{topic} (matches {pattern!r})")
    return found
