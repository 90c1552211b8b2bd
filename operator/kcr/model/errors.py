"""Turn pydantic's errors into one line per problem: the field path, then the rule."""

from pydantic import ValidationError

_PREFIXES = ("Value error, ", "Assertion failed, ")


def field_path(loc: tuple[int | str, ...], root: str = "") -> str:
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif "." in part or "/" in part:
            path += f"[{part!r}]"
        else:
            path += f".{part}" if path else part
    return path or "(object)"


def explain(error: ValidationError, root: str = "") -> list[str]:
    """Each line: ``spec.change.createTopic.partitions: must be ≥ 1, got 0``."""
    lines = []
    for item in error.errors(include_url=False):
        message = _plain(item["type"], item.get("ctx") or {}, item["msg"])
        loc = tuple(p for p in item["loc"] if not _is_union_tag(p))
        got = item.get("input")
        if item["type"] in _SHOW_INPUT and not isinstance(got, dict | list):
            message = f"{message}, got {got!r}"
        lines.append(f"{field_path(loc, root)}: {message}")
    return lines


def _plain(kind: str, ctx: dict[str, object], default: str) -> str:
    """pydantic's wording, rephrased as a rule where we know a better sentence."""
    rules = {
        "greater_than_equal": "must be at least {ge}",
        "less_than_equal": "must be at most {le}",
        "greater_than": "must be more than {gt}",
        "less_than": "must be less than {lt}",
        "string_too_long": "must be at most {max_length} characters",
        "string_too_short": "must be at least {min_length} characters",
        "too_long": "must have at most {max_length} items",
        "too_short": "must have at least {min_length} items",
        "missing": "is required",
        "extra_forbidden": "is not a field here (check the spelling)",
        "enum": "must be one of {expected}",
        "string_pattern_mismatch": "must match the pattern {pattern}",
    }
    if kind in rules:
        try:
            return rules[kind].format(**ctx)
        except KeyError:
            return default
    for prefix in _PREFIXES:
        default = default.removeprefix(prefix)
    return default


_SHOW_INPUT = {
    "greater_than_equal",
    "less_than_equal",
    "greater_than",
    "less_than",
    "string_too_long",
    "string_too_short",
    "string_pattern_mismatch",
    "enum",
    "literal_error",
    "int_parsing",
    "int_from_float",
}


def _is_union_tag(part: int | str) -> bool:
    return isinstance(part, str) and (part.startswith("function-") or part in {"literal[True]"})
