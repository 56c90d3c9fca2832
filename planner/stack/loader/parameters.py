"""Parameter values and their precedence, and the evaluator a deployment template's resources are read with.

Precedence, lowest first: a deployment template's `defaultValue`, `parameters` in aibplan.json, each
`--var-file` in the order given, each `--var NAME=VALUE` in the order given.
"""

from __future__ import annotations

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
    pool: dict[str, Any] = dict(config.parameters)
    sources = {name: CONFIG_FILE for name in pool}
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
                pool[name] = entry["value"]
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
                pool[name] = entry
            sources[name] = shown
    for name, value in variables:
        pool[name] = value
        sources[name] = "--var"
    return pool, sources


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
        if name in pool:
            try:
                values[name] = coerce(pool[name], ptype)
            except ValueError as exc:
                loading.add(
                    "AIB0009",
                    Severity.ERROR,
                    f"parameter '{name}' (from {pool_sources.get(name, '?')}): {exc}",
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
        allowed = spec.get("allowedValues")
        if isinstance(allowed, list) and values[name] not in allowed:
            shown_values = (
                f"is not one of its {len(allowed)} allowed values (a secure parameter: neither is shown)"
                if name in secure
                else f"is {values[name]!r}; allowed values: {', '.join(map(str, allowed))}"
            )
            loading.add(
                "AIB0009",
                Severity.ERROR,
                f"parameter '{name}' {shown_values}",
                file=shown,
                path=("parameters", name),
            )
            ok = False
    if not ok:
        return None
    evaluator = Evaluator(scope, values, variables, secure=secure)
    remember_secrets(evaluator.secret_values)
    return evaluator


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
