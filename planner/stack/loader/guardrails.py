"""Guardrails written in the stack (docs/guardrails.md), read and checked: `lifecycle` and `rules` in
aibplan.json, and a resource's `metadata.aibplan.lifecycle`.

    "lifecycle": {"imageDefinition.corpImages/ubuntu2204": {"preventDestroy": true},
                  "imageTemplate.ubuntu2204": {"ignoreChanges": ["tags.owner", "properties.vmProfile"]}},
    "rules": {"AIB3408": "off",
              "AIB3409": {"off": ["imageTemplate.ubuntu2204"], "reason": "the script is ours"}}

A setting that cannot be understood is an error (AIB0003 in aibplan.json, AIB0020 in a resource file),
never silently dropped: a guardrail that does not hold is worse than none.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from providers.catalog import BY_KIND

from ...diagnostics import JsonPath, Severity
from ..model import Lifecycle, RuleSetting
from .loading import Loading

CONFIG_CODE = "AIB0003"
RESOURCE_CODE = "AIB0020"
RULE_ID = re.compile(r"^AIB\d{4}$")
_LIFECYCLE_KEYS = ("preventDestroy", "ignoreChanges")
_ADDRESS = re.compile(r"^(?P<kind>[A-Za-z]+)\.[^\s.][^\s]*$")
# A path segment: a name, `[0]`, `["a.b"]` or `['a.b']`.
_SEGMENT = re.compile(
    r"""\.?(?:(?P<name>[^.\[\]"']+)|\[(?P<index>\d+)\]|\[(?P<q>["'])(?P<key>.*?)(?P=q)\])"""
)


def parse_path(text: str) -> JsonPath | None:
    """`properties.customize[0].inline` -> ("properties", "customize", 0, "inline"); a key with dots is
    written `tags["a.b"]`. None when `text` is not such a path."""
    out: list[str | int] = []
    position = 0
    while position < len(text):
        match = _SEGMENT.match(text, position)
        if match is None or match.end() == position or (position == 0 and text.startswith(".")):
            return None
        if match["name"] is not None:
            out.append(match["name"])
        elif match["index"] is not None:
            out.append(int(match["index"]))
        else:
            out.append(match["key"])
        position = match.end()
    return tuple(out) if out and isinstance(out[0], str) else None


def config_lifecycles(value: Any, shown: str, loading: Loading) -> dict[str, Lifecycle]:
    """aibplan.json's `lifecycle`: {ADDRESS: {"preventDestroy": bool, "ignoreChanges": [PATH, ...]}}."""
    if not isinstance(value, dict):
        _error(
            loading, CONFIG_CODE, "'lifecycle' must be an object of resource addresses", shown, ("lifecycle",)
        )
        return {}
    found: dict[str, Lifecycle] = {}
    for address, settings in value.items():
        where: JsonPath = ("lifecycle", address)
        match = _ADDRESS.match(address)
        if match is None or match["kind"] not in BY_KIND:
            _error(
                loading,
                CONFIG_CODE,
                f"lifecycle: '{address}' is not a resource address (KIND.NAME, KIND one of "
                f"{', '.join(sorted(BY_KIND))})",
                shown,
                where,
            )
            continue
        lifecycle = read_lifecycle(settings, shown, where, CONFIG_CODE, loading)
        if lifecycle is not None:
            found[address] = lifecycle
    return found


def resource_lifecycle(
    metadata: Any, shown: str, pointer: JsonPath, address: str, loading: Loading
) -> Lifecycle | None:
    """A resource's `metadata.aibplan.lifecycle` (None when it has none)."""
    if not isinstance(metadata, dict) or "aibplan" not in metadata:
        return None
    ours = metadata["aibplan"]
    where: JsonPath = ("metadata", "aibplan")
    if not isinstance(ours, dict) or set(ours) - {"lifecycle"}:
        _error(
            loading,
            RESOURCE_CODE,
            'metadata.aibplan holds only "lifecycle": {"preventDestroy": ..., "ignoreChanges": [...]}',
            shown,
            where,
            pointer=pointer,
            address=address,
        )
        return None
    if "lifecycle" not in ours:
        return None
    return read_lifecycle(
        ours["lifecycle"],
        shown,
        (*where, "lifecycle"),
        RESOURCE_CODE,
        loading,
        pointer=pointer,
        address=address,
    )


def read_lifecycle(
    value: Any,
    shown: str,
    where: JsonPath,
    code: str,
    loading: Loading,
    *,
    pointer: JsonPath = (),
    address: str | None = None,
) -> Lifecycle | None:
    """One lifecycle object; None (reported) when any part of it cannot be used."""

    def error(message: str, at: JsonPath) -> None:
        _error(loading, code, message, shown, at, pointer=pointer, address=address)

    if not isinstance(value, dict):
        error('a lifecycle is an object: {"preventDestroy": true, "ignoreChanges": ["tags"]}', where)
        return None
    ok = True
    for key in value:
        if key not in _LIFECYCLE_KEYS:
            close = difflib.get_close_matches(key, _LIFECYCLE_KEYS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            error(
                f"unknown lifecycle setting '{key}' (allowed: preventDestroy, ignoreChanges){hint}",
                (*where, key),
            )
            ok = False
    prevent = value.get("preventDestroy", False)
    if not isinstance(prevent, bool):
        error("preventDestroy must be true or false", (*where, "preventDestroy"))
        ok = False
    paths: list[JsonPath] = []
    ignored = value.get("ignoreChanges", [])
    if not isinstance(ignored, list):
        error('ignoreChanges is a list of paths, such as ["tags.owner", "properties.vmProfile"]', where)
        return None
    for index, text in enumerate(ignored):
        path = parse_path(text) if isinstance(text, str) else None
        if path is None or path[0] not in ("tags", "identity", "properties", "location", "sku"):
            error(
                f"ignoreChanges[{index}]: {text!r} is not a path in the resource's body (such as "
                '"tags.owner", "properties.vmProfile.vmSize", "properties.customize[0]", \'tags["a.b"]\')',
                (*where, "ignoreChanges", index),
            )
            ok = False
            continue
        paths.append(path)
    if not ok:
        return None
    return Lifecycle(prevent, tuple(paths), shown)


def config_rules(value: Any, shown: str, loading: Loading) -> dict[str, RuleSetting]:
    """aibplan.json's `rules`: {"AIB3408": "off"} or {"AIB3408": {"off": true or [ADDRESS...], ...}}."""
    allowed = 'allowed: "off", or {"off": true or ["imageTemplate.NAME", ...], "reason": "why"}'
    if not isinstance(value, dict):
        _error(loading, CONFIG_CODE, f"'rules' must be an object of rule ids ({allowed})", shown, ("rules",))
        return {}
    found: dict[str, RuleSetting] = {}
    for rule, setting in value.items():
        where: JsonPath = ("rules", rule)
        if not RULE_ID.match(rule):
            _error(
                loading,
                CONFIG_CODE,
                f"rules: '{rule}' is not a rule id (AIB followed by 4 digits)",
                shown,
                where,
            )
            continue
        if setting == "off":
            found[rule] = RuleSetting()
            continue
        off = setting.get("off") if isinstance(setting, dict) else None
        reason = setting.get("reason") if isinstance(setting, dict) else None
        extra = set(setting) - {"off", "reason"} if isinstance(setting, dict) else set()
        addresses_ok = (
            isinstance(off, list) and off and all(isinstance(a, str) and _ADDRESS.match(a) for a in off)
        )
        if (
            not isinstance(setting, dict)
            or extra
            or not (off is True or addresses_ok)
            or not (reason is None or (isinstance(reason, str) and reason.strip()))
        ):
            _error(loading, CONFIG_CODE, f"rules.{rule}: {allowed}", shown, where)
            continue
        addresses = tuple(off) if isinstance(off, list) else None
        found[rule] = RuleSetting(addresses, reason.strip() if isinstance(reason, str) else None)
    return found


def _error(
    loading: Loading,
    code: str,
    message: str,
    shown: str,
    path: JsonPath,
    *,
    pointer: JsonPath = (),
    address: str | None = None,
) -> None:
    loading.add(code, Severity.ERROR, message, file=shown, path=path, pointer=pointer, address=address)
