"""SARIF 2.1.0 for code-scanning UIs (GitHub shows each result on its file and line).

One run; `tool.driver.rules` describes every registered rule (id, name, short and full description, help,
default level, the reference section) plus any other code that appears in the results, so every result's
`ruleIndex` points at its rule. Artifact URIs are relative to `%SRCROOT%`, the folder aibplan ran in.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, Severity, format_path
from ..rules import Rule
from ..rules.suppress import Suppressed

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_INFORMATION_URI = "https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-json"


def _tool_version() -> str:
    try:
        return version("aibplan")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0"


def _descriptor(rule: Rule) -> dict[str, Any]:
    sections = ", ".join((rule.section, *rule.also))
    text = f"{rule.summary}. Reference section: {sections}. Api versions: {rule.versions}."
    markdown = (
        f"**{rule.id}** {rule.summary}.\n\nReference section: `{sections}`; api versions: {rule.versions}."
    )
    if rule.example:
        markdown += f"\n\nFails: `{rule.example}`"
    return {
        "id": rule.id,
        "name": rule.id,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": text},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"section": rule.section, "versions": rule.versions, "stage": rule.stage},
    }


def _unregistered(code: str, severity: Severity) -> dict[str, Any]:
    text = f"{code}: reported by aibplan while loading or planning"
    return {
        "id": code,
        "name": code,
        "shortDescription": {"text": text},
        "fullDescription": {"text": text},
        "help": {"text": text},
        "defaultConfiguration": {"level": _LEVEL[severity]},
    }


def _uri(file: str, base: Path, cwd: Path) -> str:
    full = Path(file) if Path(file).is_absolute() else base / file
    try:
        relative = os.path.relpath(full, cwd)
    except ValueError:
        return full.resolve().as_uri()
    return Path(relative).as_posix() if not relative.startswith("..") else full.resolve().as_uri()


def _result(d: Diagnostic, index: int, base: Path, cwd: Path) -> dict[str, Any]:
    message = d.message + (f" (hint: {d.hint})" if d.hint else "")
    result: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": index,
        "level": _LEVEL[d.severity],
        "message": {"text": message},
    }
    if d.file:
        location: dict[str, Any] = {"artifactLocation": {"uri": _uri(d.file, base, cwd)}}
        if not location["artifactLocation"]["uri"].startswith("file:"):
            location["artifactLocation"]["uriBaseId"] = "%SRCROOT%"
        if d.line is not None:
            location["region"] = {"startLine": d.line, "startColumn": d.column or 1}
        place: dict[str, Any] = {"physicalLocation": location}
        if d.address:
            name = d.address + (f".{format_path(d.path)}" if d.path else "")
            place["logicalLocations"] = [{"fullyQualifiedName": name, "kind": "resource"}]
        result["locations"] = [place]
    if d.address:
        result["partialFingerprints"] = {"aibplan/v1": f"{d.code}:{d.address}:{format_path(d.path)}"}
    return result


def _suppressed(item: Suppressed, index: int, base: Path, cwd: Path) -> dict[str, Any]:
    result = _result(item.diagnostic, index, base, cwd)
    suppression: dict[str, Any] = {"kind": item.by.kind, "status": "accepted"}
    if item.by.reason:
        suppression["justification"] = item.by.reason
    result["suppressions"] = [suppression]
    return result


def render_sarif(
    diagnostics: Sequence[Diagnostic],
    rules: Sequence[Rule],
    *,
    base: Path,
    cwd: Path | None = None,
    suppressed: Sequence[Suppressed] = (),
) -> dict[str, Any]:
    """The SARIF log for `diagnostics` (file names relative to `base`), describing `rules`; the findings the
    stack turned off are results too, each with its `suppressions` (code-scanning UIs hide them)."""
    cwd = cwd or Path.cwd()
    descriptors = [_descriptor(rule) for rule in rules]
    index = {rule.id: i for i, rule in enumerate(rules)}
    every = [*diagnostics, *(item.diagnostic for item in suppressed)]
    for d in every:
        if d.code not in index:
            index[d.code] = len(descriptors)
            descriptors.append(_unregistered(d.code, d.severity))
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "aibplan",
                        "version": _tool_version(),
                        "informationUri": _INFORMATION_URI,
                        "rules": descriptors,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": cwd.resolve().as_uri() + "/"}},
                "results": [_result(d, index[d.code], base, cwd) for d in diagnostics]
                + [_suppressed(item, index[item.diagnostic.code], base, cwd) for item in suppressed],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
