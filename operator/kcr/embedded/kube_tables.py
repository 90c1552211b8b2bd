"""Server-side tables, as the API server renders a CRD's ``additionalPrinterColumns``.

``kubectl get`` asks for ``application/json;as=Table``; an API server answers with the
CRD's printer columns (PHASE, RISK, CHANGE, TARGET, REQUESTED-BY, APPROVED-BY, AGE for a
KafkaChangeRequest) after NAME. The column paths kcr uses are simple JSONPath: dotted
fields, and a list filtered on one field (``.status.conditions[?(@.type=="Ready")].status``).
"""

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

FILTERED = re.compile(
    r'^(?P<list>[^\[]*)\[\?\(@\.(?P<key>\w+)=="(?P<value>[^"]*)"\)\](?P<rest>.*)$'
)
TABLE = "as=Table"


def wants_table(accept: str) -> bool:
    return TABLE in accept


def _dotted(value: Any, path: str) -> Any:
    for part in [p for p in path.split(".") if p]:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def evaluate(obj: dict[str, Any], path: str) -> Any:
    """The value at a printer column's JSONPath, or None when it is absent."""
    filtered = FILTERED.match(path)
    if filtered is None:
        return _dotted(obj, path)
    items = _dotted(obj, filtered["list"])
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and str(item.get(filtered["key"])) == filtered["value"]:
            return _dotted(item, filtered["rest"])
    return None


def age(timestamp: Any, now: datetime) -> str:
    """``kubectl``'s short age: 45s, 12m, 5h, 3d."""
    if not isinstance(timestamp, str):
        return "<unknown>"
    try:
        then = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "<invalid>"
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 3 * 3600:
        return f"{seconds // 60}m"
    if seconds < 48 * 3600:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def printer_columns(crd: dict[str, Any], version: str) -> list[dict[str, Any]]:
    for served in crd.get("spec", {}).get("versions", []):
        if served.get("name") == version:
            columns: list[dict[str, Any]] = served.get("additionalPrinterColumns", [])
            return columns
    return []


def _cell(obj: dict[str, Any], column: dict[str, Any], now: datetime) -> Any:
    value = evaluate(obj, column["jsonPath"])
    if column.get("type") == "date":
        return age(value, now)
    if value is None:
        return "<none>" if column.get("type") == "string" else None
    return value


def table(
    objects: Iterable[dict[str, Any]], columns: list[dict[str, Any]], now: datetime | None = None
) -> dict[str, Any]:
    """A ``meta.k8s.io/v1`` Table: NAME, then the printer columns, one row per object."""
    now = now or datetime.now(UTC)
    definitions = [
        {"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0}
    ] + [
        {
            "name": c["name"],
            "type": c.get("type", "string"),
            "format": c.get("format", ""),
            "description": c.get("description", ""),
            "priority": c.get("priority", 0),
        }
        for c in columns
    ]
    rows = [
        {
            "cells": [obj.get("metadata", {}).get("name"), *(_cell(obj, c, now) for c in columns)],
            "object": {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj.get("metadata", {}),
            },
        }
        for obj in objects
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": ""},
        "columnDefinitions": definitions,
        "rows": rows,
    }
