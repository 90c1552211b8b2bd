"""Protected topics: glob patterns in the cluster policy (``__*``, ``payments.*``).

Kafka's own internal topics count as protected whatever the policy lists, because a
change to them (``__consumer_offsets``, ``__transaction_state``, a schema registry's
``_schemas``) breaks every client of the cluster at once.
"""

from fnmatch import fnmatchcase

from kcr.model import ClusterPolicy

INTERNAL_TOPIC_PATTERNS = ("__*", "_schemas")


def protected_patterns(policy: ClusterPolicy) -> list[str]:
    return list(dict.fromkeys([*policy.protected_topics, *INTERNAL_TOPIC_PATTERNS]))


def protected_matches(topics: list[str], policy: ClusterPolicy) -> list[str]:
    """Each affected topic that a protected pattern names, with the first such pattern."""
    found = []
    for topic in topics:
        pattern = next((p for p in protected_patterns(policy) if fnmatchcase(topic, p)), None)
        if pattern is not None:
            found.append(f"{topic} (matches {pattern!r})")
    return found


def prefix_reaches(prefix: str, pattern: str) -> bool:
    """Whether some topic name starting with ``prefix`` matches the glob ``pattern``.

    Runs the glob as a small automaton over the prefix: if any state is still alive after
    the last character, the rest of the glob can be completed by some longer name.
    """
    parts = _glob_parts(pattern)
    states = _closure({0}, parts)
    for char in prefix:
        following = set()
        for state in states:
            if state == len(parts):
                continue
            part = parts[state]
            if part == "*":
                following.add(state)
            elif fnmatchcase(char, part):
                following.add(state + 1)
        states = _closure(following, parts)
        if not states:
            return False
    return True


def _closure(states: set[int], parts: list[str]) -> set[int]:
    """A ``*`` may match nothing, so the state after it is reachable too."""
    reached = set(states)
    pending = list(states)
    while pending:
        state = pending.pop()
        if state < len(parts) and parts[state] == "*" and state + 1 not in reached:
            reached.add(state + 1)
            pending.append(state + 1)
    return reached


def _glob_parts(pattern: str) -> list[str]:
    """``a*[bc]?`` → ``['a', '*', '[bc]', '?']``; each part but ``*`` matches one character."""
    parts = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        end = pattern.find("]", index + 2) if char == "[" else -1
        if end != -1:
            parts.append(pattern[index : end + 1])
            index = end + 1
        else:
            parts.append("[[]" if char == "[" else char)
            index += 1
    return parts
