"""The kcr-approvals ValidatingAdmissionPolicy, evaluated as the API server evaluates it.

``object``, ``oldObject``, ``request`` and ``params`` are bound as Kubernetes binds them;
variables are computed in order into ``variables``; each failing validation yields its
message (``messageExpression`` when it has one). Used by the policy's own tests and by
the emulated API server that the kubectl plugin's tests talk to.
"""

from pathlib import Path
from typing import Any

import celpy
import yaml
from celpy import celtypes

ROOT = Path(__file__).resolve().parents[2]
POLICY = yaml.safe_load((ROOT / "manifests/admission/policy.yaml").read_text())
PARAMS = yaml.safe_load((ROOT / "manifests/admission/params.yaml").read_text())


# Kubernetes adds cel-go's strings extension to every policy; cel-python has only the
# standard library, so these follow the extension's documented semantics.
def _split(text: Any, separator: Any, limit: Any = None) -> celtypes.ListType:
    if limit is None or int(limit) < 0:
        parts = str(text).split(str(separator))
    elif int(limit) == 0:
        parts = []
    else:
        parts = str(text).split(str(separator), int(limit) - 1)
    return celtypes.ListType([celtypes.StringType(p) for p in parts])


def _trim(text: Any) -> celtypes.StringType:
    return celtypes.StringType(str(text).strip())


def _lower_ascii(text: Any) -> celtypes.StringType:
    return celtypes.StringType("".join(c.lower() if c.isascii() else c for c in str(text)))


def _join(items: Any, separator: Any = "") -> celtypes.StringType:
    return celtypes.StringType(str(separator).join(str(i) for i in items))


KUBERNETES_STRINGS = {"split": _split, "trim": _trim, "lowerAscii": _lower_ascii, "join": _join}
ENVIRONMENT = celpy.Environment()


def program(expression: str) -> celpy.Runner:
    return ENVIRONMENT.program(ENVIRONMENT.compile(expression), functions=KUBERNETES_STRINGS)


VARIABLES = [(v["name"], program(v["expression"])) for v in POLICY["spec"]["variables"]]
VALIDATIONS = POLICY["spec"]["validations"]
RULES = [program(v["expression"]) for v in VALIDATIONS]
MESSAGES = [
    program(v["messageExpression"]) if "messageExpression" in v else None for v in VALIDATIONS
]


def _evaluate(runner: celpy.Runner, activation: dict[str, Any], what: str) -> Any:
    result = runner.evaluate(activation)
    if isinstance(result, celpy.CELEvalError):
        raise AssertionError(f"{what} failed to evaluate: {result}")
    return result


def matches(resource: str, operation: str) -> bool:
    rules = POLICY["spec"]["matchConstraints"]["resourceRules"]
    return any(resource in r["resources"] and operation in r["operations"] for r in rules)


def denials(
    *,
    operation: str,
    user: str,
    groups: list[str],
    obj: dict[str, Any],
    old: dict[str, Any] | None,
    params: dict[str, Any] = PARAMS,
) -> dict[int, str]:
    """Rule index → message, for every validation the request fails."""
    activation: dict[str, Any] = {
        "object": celpy.json_to_cel(obj),
        "oldObject": celpy.json_to_cel(old),
        "request": celpy.json_to_cel(
            {
                "operation": operation,
                "namespace": obj["metadata"].get("namespace", ""),
                "userInfo": {"username": user, "groups": groups},
            }
        ),
        "params": celpy.json_to_cel(params),
    }
    variables = celtypes.MapType()
    activation["variables"] = variables
    for name, runner in VARIABLES:
        variables[celtypes.StringType(name)] = _evaluate(runner, activation, name)
    denied = {}
    for index, (rule, runner, message) in enumerate(zip(VALIDATIONS, RULES, MESSAGES, strict=True)):
        if not _evaluate(runner, activation, f"validation {index}"):
            text = (
                rule.get("message")
                if message is None
                else _evaluate(message, activation, f"message {index}")
            )
            denied[index] = " ".join(str(text).split())
    return denied
