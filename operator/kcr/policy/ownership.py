"""Which team owns a topic or consumer group, by the KafkaCluster's ownership map."""

from collections.abc import Callable, Iterable

from kcr.model import Ownership


def owner_of_topic(owners: Iterable[Ownership], topic: str) -> Ownership | None:
    return _longest(owners, topic, lambda o: o.topic_prefixes)


def owner_of_group(owners: Iterable[Ownership], group: str) -> Ownership | None:
    return _longest(owners, group, lambda o: o.group_prefixes)


def _longest(
    owners: Iterable[Ownership], name: str, prefixes_of: Callable[[Ownership], list[str]]
) -> Ownership | None:
    """The most specific entry wins, as in routing tables."""
    best: tuple[int, Ownership] | None = None
    for owner in owners:
        for prefix in prefixes_of(owner):
            if name.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), owner)
    return best[1] if best else None
