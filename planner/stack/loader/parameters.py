"""Parameter values and their precedence, and the evaluator a deployment template's resources are read with.

Precedence, lowest first: a deployment template's `defaultValue`, `parameters` in aibplan.json, each
`--var-file` in the order given, each `--var NAME=VALUE` in the order given.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from state.jsontext import JsonLimitError, loads, lone_surrogate_path, unicode_text
from state.redact import remember_secrets

from ...diagnostics import Severity
from ..expressions import Evaluator, ExpressionError, Scope
from ..expressions.evaluator import string_leaves
from ..expressions.unknown import has_unknown
from ..model import CONFIG_FILE, StackConfig
from .alone import may_be_missing
from .loading import Loading, expression_diagnostic, read_json

# Rule ids (planner.rules.staged documents them): a value for a parameter no template declares; a value
# outside its declaration's allowedValues, minValue/maxValue or minLength/maxLength.
UNDECLARED_PARAMETER = "AIB0012"
PARAMETER_VALUE = "AIB0013"

# Parameter types whose values are secret (ARM's secure types).
SECURE_TYPES = ("securestring", "secureobject")


def parse_var(text: str) -> tuple[str, str]:
    """`NAME=VALUE` from the command line; raises ValueError with a usable message."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"--var {unicode_text(text)!r}: expected NAME=VALUE")
    if lone_surrogate_path(text) is not None:
        raise ValueError(
            f"--var {unicode_text(name.strip())}: the value is not UTF-8 text (a byte the shell passed as "
            "it was); give UTF-8 text"
        )
    return name.strip(), value


def parameter_pool(
    config: StackConfig, variables: Sequence[tuple[str, str]], var_files: Sequence[Path], loading: Loading
) -> tuple[dict[str, Any], dict[str, str]]:
    """Every parameter value the user supplied, keyed by name, with where each came from."""
    pool: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def give(name: str, value: Any, source: str) -> None:
        # ARM matches parameter names without case: a later `vmsize` replaces an earlier `vmSize`.
        for earlier in [key for key in pool if key.lower() == name.lower()]:
            del pool[earlier], sources[earlier]
        pool[name], sources[name] = value, source

    for name, value in config.parameters.items():
        give(name, value, CONFIG_FILE)
    for var_file in var_files:
        shown = str(var_file)
        data = read_json(var_file, shown, loading)
        if data is None:
            continue
        values = data.get("parameters") if isinstance(data, dict) and "parameters" in data else data
        if not isinstance(values, dict):
            loading.add(
                "AIB0009",
                Severity.ERROR,
                f"{shown} is not an ARM parameters file (no 'parameters' object)",
                file=shown,
            )
            continue
        for name, entry in values.items():
            if isinstance(entry, dict) and "value" in entry:
                give(name, entry["value"], shown)
            elif isinstance(entry, dict) and "reference" in entry:
                loading.add(
                    "AIB0009",
                    Severity.ERROR,
                    f"parameter '{name}' takes its value from a Key Vault "
                    "reference, which aibplan cannot resolve",
                    file=shown,
                    path=("parameters", name),
                    hint="pass the value with --var instead",
                )
                continue
            elif isinstance(data, dict) and "parameters" in data:
                loading.add(
                    "AIB0009",
                    Severity.ERROR,
                    f"parameter '{name}' needs a 'value'",
                    file=shown,
                    path=("parameters", name),
                )
                continue
            else:
                give(name, entry, shown)
    for name, value in variables:
        give(name, value, "--var")
    return pool, sources


def check_undeclared(pool: Mapping[str, Any], pool_sources: Mapping[str, str], loading: Loading) -> None:
    """AIB0012: a `--var` or `--var-file` value for a parameter that no template declares (and no resource
    file reads) is an error, as ARM refuses it; names match without case, as in ARM. Not checked when a
    file could not be read (what it declares is not known)."""
    if any(d.code in ("AIB0001", "AIB0002") for d, _ in loading.diagnostics):
        return
    declared = {name.lower() for name in loading.declared_parameters}
    for name, source in pool_sources.items():
        if source == CONFIG_FILE or name.lower() in declared:
            continue
        close = difflib.get_close_matches(name.lower(), sorted(declared), n=1, cutoff=0.6)
        named = [n for n in loading.declared_parameters if n.lower() == close[0]] if close else []
        hint = (
            f"did you mean '{named[0]}'?"
            if named
            else "declare it in the template's 'parameters', or drop the value"
        )
        if source == "--var":
            where: dict[str, Any] = {"file": ""}
        else:  # placed at the value in the file (an ARM parameters file holds it under "parameters")
            inside = '"parameters"' in loading.texts.get(source, "")
            where = {"file": source, "path": ("parameters", name) if inside else (name,)}
        loading.add(
            UNDECLARED_PARAMETER,
            Severity.ERROR,
            f"{source} gives a value for parameter '{name}', which no template in the stack declares",
            hint=hint,
            **where,
        )


def template_evaluator(
    data: dict[str, Any],
    scope: Scope,
    pool: Mapping[str, Any],
    pool_sources: Mapping[str, str],
    shown: str,
    loading: Loading,
) -> Evaluator | None:
    """What a deployment template's resources are evaluated with: its parameters given values (the pool's
    coerced to the declared type, else the defaultValue) and its variables; None when one cannot be."""
    declared = data.get("parameters") or {}
    variables = data.get("variables") or {}
    if not isinstance(declared, dict) or not isinstance(variables, dict):
        loading.add("AIB0008", Severity.ERROR, "'parameters' and 'variables' must be objects", file=shown)
        return None
    loading.declared_parameters.update(declared)
    given = {name.lower(): name for name in pool}
    values: dict[str, Any] = {}
    secure: set[str] = set()
    ok = True
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        ptype = str(spec.get("type", "string")).lower()
        if ptype in SECURE_TYPES:
            secure.add(name)
            # Known as secrets before anything can quote them (a diagnostic, an error).
            remember_secrets(string_leaves(pool.get(name)))
            remember_secrets(string_leaves(spec.get("defaultValue")))
        supplied = given.get(name.lower())
        if supplied is not None:
            try:
                values[name] = coerce(pool[supplied], ptype)
            except ValueError as exc:
                loading.add(
                    "AIB0009",
                    Severity.ERROR,
                    f"parameter '{name}' (from {pool_sources.get(supplied, '?')}): {exc}",
                    file=shown,
                    path=("parameters", name),
                )
                ok = False
                continue
        elif "defaultValue" in spec:
            try:
                default = Evaluator(scope, values, {}, allow_nondeterministic=True, secure=secure)
                where = ("parameters", name, "defaultValue")
                values[name] = default.evaluate_value(spec["defaultValue"], where)
                if default.made_unknowns and has_unknown(values[name]):
                    raise ExpressionError(
                        "a parameter's defaultValue cannot use reference(): it is known only after apply",
                        path=where,
                    )
                if default.secret_values & set(string_leaves(values[name])):
                    secure.add(name)  # computed from a secure parameter: as secret as it
            except ExpressionError as exc:
                if loading.alone and exc.missing in loading.unknown.get(shown, ()):
                    may_be_missing(
                        loading, shown, f"parameter '{name}'", f"its defaultValue needs {exc.missing}"
                    )
                    continue
                expression_diagnostic(exc, shown, (), loading)
                ok = False
                continue
        elif loading.alone:
            may_be_missing(loading, shown, f"parameter '{name}'", "it has no value and no defaultValue")
            continue
        else:
            loading.add(
                "AIB0009",
                Severity.ERROR,
                f"parameter '{name}' has no value and no defaultValue",
                file=shown,
                path=("parameters", name),
                hint=f"set it with --var {name}=VALUE, a --var-file, or 'parameters' in {CONFIG_FILE}",
            )
            ok = False
            continue
        problem = value_problem(values[name], spec, secret=name in secure)
        if problem is not None:
            source = pool_sources.get(supplied, "?") if supplied is not None else "its defaultValue"
            loading.add(
                PARAMETER_VALUE,
                Severity.ERROR,
                f"parameter '{name}' (from {source}) {problem}",
                file=shown,
                path=("parameters", name),
            )
            ok = False
    if not ok:
        return None
    evaluator = Evaluator(scope, values, variables, secure=secure)
    remember_secrets(evaluator.secret_values)
    return evaluator


def value_problem(value: Any, spec: Mapping[str, Any], *, secret: bool) -> str | None:
    """Why a parameter's value breaks its declaration's allowedValues, minValue/maxValue or
    minLength/maxLength, saying what is allowed (a secret value is never shown); None when it keeps them."""
    allowed = spec.get("allowedValues")
    if isinstance(allowed, list) and not _allowed(value, allowed):
        if secret:
            return f"is not one of its {len(allowed)} allowed values (a secure parameter: neither is shown)"
        return f"is {json.dumps(value)}; allowed values: {', '.join(map(str, allowed))}"
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = _bound(spec, "minValue"), _bound(spec, "maxValue")
        if (low is not None and value < low) or (high is not None and value > high):
            shown = "the value" if secret else str(value)
            return f"is {shown}; it must be {_between(low, high)} ({_named(low, high, 'Value')})"
    if isinstance(value, (str, list)):
        low, high = _bound(spec, "minLength"), _bound(spec, "maxLength")
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            unit = "characters" if isinstance(value, str) else "items"
            return (
                f"has {len(value)} {unit}; it must have {_between(low, high)} ({_named(low, high, 'Length')})"
            )
    return None


def _allowed(value: Any, allowed: list[Any]) -> bool:
    """ARM's allowedValues: the value is one of them (an array value: each of its items is)."""
    if isinstance(value, list):
        return all(item in allowed for item in value)
    return value in allowed


def _bound(spec: Mapping[str, Any], key: str) -> int | None:
    value = spec.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _between(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"from {low} to {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _named(low: int | None, high: int | None, what: str) -> str:
    return ", ".join(f"{side}{what}" for side, bound in (("min", low), ("max", high)) if bound is not None)


def coerce(value: Any, ptype: str) -> Any:
    """A supplied value as the parameter's declared type (`--var` values arrive as text). The error of a
    secure type never quotes the value."""
    try:
        return _coerce(value, ptype)
    except ValueError as exc:
        if ptype in SECURE_TYPES:
            raise ValueError(f"expected a {ptype} ({_EXPECTED[ptype]}); the value is not shown") from None
        raise exc from None


_EXPECTED = {"securestring": "a string", "secureobject": "a JSON object"}


def _coerce(value: Any, ptype: str) -> Any:
    if not isinstance(value, str) or ptype in ("string", "securestring"):
        if ptype in ("string", "securestring") and not isinstance(value, str):
            raise ValueError(f"expected a string, got {json.dumps(value)}")
        return value
    if ptype == "int":
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"expected an integer, got {value!r}") from None
    if ptype == "bool":
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(f"expected true or false, got {value!r}")
    if ptype in ("array", "object", "secureobject"):
        try:
            parsed = loads(value)
        except JsonLimitError as exc:
            raise ValueError(f"expected a JSON {ptype}: {exc.message}") from None
        except json.JSONDecodeError:
            raise ValueError(f"expected a JSON {ptype}, got {value!r}") from None
        if not isinstance(parsed, list if ptype == "array" else dict):
            raise ValueError(f"expected a JSON {ptype}, got {value!r}")
        return parsed
    return value
