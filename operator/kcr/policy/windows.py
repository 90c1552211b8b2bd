"""Change windows: when a change of a given risk may start executing."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kcr.model import ChangeWindow, ClusterPolicy, Risk
from kcr.model.cluster import Weekday

_DAYS = list(Weekday)


@dataclass(frozen=True)
class WindowVerdict:
    open: bool
    message: str
    next_open: datetime | None = None


def change_window(policy: ClusterPolicy, risk: Risk, now: datetime) -> WindowVerdict:
    if not policy.change_windows:
        return WindowVerdict(True, "no change windows are configured")
    if not risk.at_least(policy.change_windows_from_risk):
        return WindowVerdict(
            True, f"{risk} changes are not bound to change windows on this cluster"
        )
    for window in policy.change_windows:
        if _inside(window, now):
            return WindowVerdict(True, f"inside the change window {_describe(window)}")
    starts = [s for w in policy.change_windows if (s := _next_start(w, now)) is not None]
    upcoming = min(starts, default=None)
    when = f"; the next one opens at {upcoming.isoformat()}" if upcoming else ""
    return WindowVerdict(False, f"outside every change window{when}", upcoming)


def _inside(window: ChangeWindow, now: datetime) -> bool:
    local = now.astimezone(ZoneInfo(window.time_zone))
    for days_back in (0, 1):
        start_day = local - timedelta(days=days_back)
        if _DAYS[start_day.weekday()] not in window.days:
            continue
        start = start_day.replace(
            hour=window.start.hour, minute=window.start.minute, second=0, microsecond=0
        )
        length = _length(window)
        if start <= local < start + length:
            return True
    return False


def _length(window: ChangeWindow) -> timedelta:
    start = timedelta(hours=window.start.hour, minutes=window.start.minute)
    end = timedelta(hours=window.end.hour, minutes=window.end.minute)
    return end - start if end > start else end - start + timedelta(days=1)


def _next_start(window: ChangeWindow, now: datetime) -> datetime | None:
    local = now.astimezone(ZoneInfo(window.time_zone))
    for days_ahead in range(8):
        day = local + timedelta(days=days_ahead)
        if _DAYS[day.weekday()] not in window.days:
            continue
        start = day.replace(
            hour=window.start.hour, minute=window.start.minute, second=0, microsecond=0
        )
        if start > local:
            return start
    return None


def _describe(window: ChangeWindow) -> str:
    days = ",".join(d.value for d in window.days)
    return f"{days} {window.start:%H:%M}-{window.end:%H:%M} {window.time_zone}"
