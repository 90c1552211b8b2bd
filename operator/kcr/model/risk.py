"""Risk classes, ordered so policy can compare them."""

from enum import StrEnum


class Risk(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        return list(Risk).index(self)

    def at_least(self, other: "Risk") -> bool:
        return self.rank >= other.rank
