"""Argument guards, run on the raw JSON before any tool sees it.

Arguments are data: names, numbers and one-line prose. Anything that looks like a pasted
log line, a stack trace or shell text is refused as invalid and never interpreted,
whichever argument it arrives in; names are then checked by the model's Kafka name rules.
Sizes are bounded before the input is parsed further.

The patterns run on RE2, which matches in time linear in the input: a guard built on a
backtracking engine would itself be the attack surface (a 12 KB argument shaped against
the log-line pattern cost Python's ``re`` half a second of the event loop's CPU).

The one exception is the user's request text a draft may carry: pasted text and line
breaks are its point, it is stored for reviewers and never interpreted, so only its size
and type are checked.
"""

import json
import re
from dataclasses import dataclass
from typing import Any, Protocol

import re2

from kcr.model.base import KubeModel
from kcr.model.request import MAX_REQUEST_TEXT

UNTRUSTED_TEXT = "request_text"


class GuardLimits(KubeModel):
    max_argument_bytes: int = 16_384
    max_string_length: int = 4096
    max_depth: int = 6
    max_items: int = 500
    max_request_text: int = MAX_REQUEST_TEXT


class ArgumentRejectedError(ValueError):
    """An argument broke a guard rule; ``field`` is its path, ``rule`` the rule's name."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"argument {field}: {message}")
        self.field = field
        self.rule = rule


class _Match(Protocol):
    def group(self, index: int) -> str: ...


class _Pattern(Protocol):
    def search(self, text: str) -> _Match | None: ...


def _compile(pattern: str) -> _Pattern:
    compiled: _Pattern = re2.compile(pattern)
    return compiled


_CONTROL = _compile(r"[\x00-\x1f\x7f]")
# Shell text by its real shapes: substitution, chaining, a command after a separator or a
# pipe, a redirect into a system path. Single characters ($, <, >, |, {) are ordinary prose
# ("lag > 10k", "costs $200"), and none of these shapes fits a legal Kafka name.
_COMMANDS = (
    r"sudo|rm|curl|wget|bash|sh|zsh|chmod|chown|kill|pkill|nc|ncat|eval|exec|mkfs|dd|"
    r"python3?|perl|base64|xargs"
)
_SHELL_SYNTAX = _compile(
    r"(?i)\$\(|\$\{|`|&&"
    rf"|[;|]\s*(?:{_COMMANDS})(?:[^\w.-]|$)"
    r"|>>?\s*/(?:etc|dev|proc|root|tmp|var|home)/"
)
_SHELL_COMMAND = _compile(r"(?i)^\s*sudo\s+\S")
_LOG_LINE = _compile(
    r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?([.,]\d+)?\S*\]?\s+\[?"
    r"(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL|SEVERE)\b",
)
_STACK_TRACE = _compile(
    r"(Exception in thread|Traceback \(most recent call last\)|"
    r"\bat [a-zA-Z_$][\w$]*(\.[\w$]+)+\([\w$]*\.(java|scala|kt):\d+\))"
)


# Kafka names, numbers and cursors: every rule above needs a character outside this set
# (whitespace, a control character or shell punctuation), so these skip the patterns. One
# character class with no alternation runs in linear time on Python's engine too.
_PLAIN = re.compile(r"[\w.:=+/-]*")


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: _Pattern
    message: str


_TEXT_RULES = (
    _Rule(
        "log-line",
        _LOG_LINE,
        "looks like a pasted log line (a timestamp followed by a log level); describe what "
        "you saw in words instead",
    ),
    _Rule(
        "stack-trace",
        _STACK_TRACE,
        "looks like a pasted stack trace; describe the error in words instead",
    ),
    _Rule(
        "shell-text",
        _SHELL_SYNTAX,
        "contains shell syntax ({found!r}); arguments are data and are never run as commands",
    ),
    _Rule(
        "shell-text",
        _SHELL_COMMAND,
        "looks like a shell command ({found!r}); arguments are data and are never run",
    ),
    _Rule(
        "control-character",
        _CONTROL,
        "contains a line break or control character; arguments are one-line values, and "
        "pasted logs or terminal output are not accepted",
    ),
)


def check_arguments(arguments: Any, limits: GuardLimits) -> None:
    """Raise :class:`ArgumentRejectedError` for the first argument that breaks a rule."""
    if arguments is None:
        return
    if not isinstance(arguments, dict):
        raise ArgumentRejectedError("(arguments)", "shape", "must be an object of named arguments")
    arguments = dict(arguments)
    _check_request_text(arguments.pop(UNTRUSTED_TEXT, None), limits)
    size = len(json.dumps(arguments, ensure_ascii=False).encode())
    if size > limits.max_argument_bytes:
        raise ArgumentRejectedError(
            "(arguments)",
            "size",
            f"the arguments are {size} bytes; at most {limits.max_argument_bytes} are accepted",
        )
    _walk(arguments, "", 0, limits)


def _check_request_text(text: Any, limits: GuardLimits) -> None:
    if text is None:
        return
    if not isinstance(text, str):
        raise ArgumentRejectedError(UNTRUSTED_TEXT, "shape", "must be a string")
    if len(text) > limits.max_request_text:
        raise ArgumentRejectedError(
            UNTRUSTED_TEXT,
            "size",
            f"is {len(text)} characters long; at most {limits.max_request_text} are kept: "
            "shorten it or leave it out",
        )


def _walk(value: Any, path: str, depth: int, limits: GuardLimits) -> None:
    if depth > limits.max_depth:
        raise ArgumentRejectedError(
            path or "(arguments)", "depth", f"nests deeper than {limits.max_depth} levels"
        )
    if isinstance(value, dict):
        _check_count(value, path, limits)
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            _check_text(str(key), child, limits)
            _walk(item, child, depth + 1, limits)
    elif isinstance(value, list):
        _check_count(value, path, limits)
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", depth + 1, limits)
    elif isinstance(value, str):
        _check_text(value, path, limits)


def _check_count(value: dict[str, Any] | list[Any], path: str, limits: GuardLimits) -> None:
    if len(value) > limits.max_items:
        raise ArgumentRejectedError(
            path or "(arguments)",
            "size",
            f"has {len(value)} items; at most {limits.max_items} are accepted",
        )


def _check_text(text: str, path: str, limits: GuardLimits) -> None:
    if len(text) > limits.max_string_length:
        raise ArgumentRejectedError(
            path,
            "size",
            f"is {len(text)} characters long; at most {limits.max_string_length} are accepted",
        )
    if _PLAIN.fullmatch(text):
        return
    for rule in _TEXT_RULES:
        match = rule.pattern.search(text)
        if match is not None:
            found = match.group(0).strip() or match.group(0)
            raise ArgumentRejectedError(path, rule.name, rule.message.format(found=found))
