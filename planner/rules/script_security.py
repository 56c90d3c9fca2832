"""AIB3407-3410 and AIB3507-3510: what customizer and validator steps download and carry. Downloaded files
are verified by their checksum and fetched over https, and no secret is written into a step (anyone who
can read the template reads it). Registered for both lists, like the rules in `scripts`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

from state.secrets import find_secrets

from ..diagnostics import Severity
from ..stack.model import Resource
from . import Finding, Rule, RuleContext
from .facts import script_steps
from .scripts import VALIDATE_SECTION, has, step_rule_pair

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def checksums(where: str) -> Callable[[Resource, RuleContext], Iterator[Finding]]:
    def check(resource: Resource, context: RuleContext) -> Iterator[Finding]:
        for path, step in script_steps(resource, where, context):
            value = step.get("sha256Checksum")
            if not isinstance(value, str) or not value:
                continue
            at = (*path, "sha256Checksum")
            if _SHA256.match(value):
                continue
            if _SHA256.match(value.lower()):
                yield Finding("write the checksum in lower case", at, severity=Severity.WARNING)
            else:
                yield Finding(
                    f"sha256Checksum has {len(value)} characters; it must be 64 hexadecimal digits",
                    at,
                    hint="sha256sum FILE (Linux) or Get-FileHash FILE (PowerShell) prints it",
                )

    return check


def checksum_missing(where: str) -> Callable[[Resource, RuleContext], Iterator[Finding]]:
    def check(resource: Resource, context: RuleContext) -> Iterator[Finding]:
        for path, step in script_steps(resource, where, context):
            for key in ("scriptUri", "sourceUri"):
                if has(step, key) and not has(step, "sha256Checksum"):
                    yield Finding(
                        f"{key} without sha256Checksum: the downloaded file is not verified",
                        (*path, key),
                        hint='add "sha256Checksum": the file\'s SHA-256 in hexadecimal',
                    )

    return check


def uris(where: str) -> Callable[[Resource, RuleContext], Iterator[Finding]]:
    def check(resource: Resource, context: RuleContext) -> Iterator[Finding]:
        for path, step in script_steps(resource, where, context):
            for key in ("scriptUri", "sourceUri"):
                value = step.get(key)
                secure = isinstance(value, str) and value.startswith("https://") and len(value) > 8
                if not isinstance(value, str) or not value or secure:
                    continue
                parts = urlsplit(value)
                if parts.scheme == "http":
                    yield Finding(
                        f"{key} uses http://: the script can be changed on the way",
                        (*path, key),
                        hint="use https://",
                        severity=Severity.WARNING,
                    )
                elif parts.scheme != "https" or not parts.netloc:
                    yield Finding(
                        f"{key} '{value}' is not an https:// URL",
                        (*path, key),
                        hint="Image Builder downloads it: give a URL (Azure Storage, GitHub, ...)",
                        severity=Severity.ERROR,
                    )

    return check


def secrets(where: str) -> Callable[[Resource, RuleContext], Iterator[Finding]]:
    """Texts of a step that hold a secret: a form from the one table (`state.secrets`, which the redactor
    reads too) or the value of a secure parameter (the loader marks what is computed from one)."""

    def check(resource: Resource, context: RuleContext) -> Iterator[Finding]:
        carried = [v for v in resource.secret_values if v]
        for path, step in script_steps(resource, where, context):
            for key, value in step.items():
                if isinstance(value, str) and key != "sha256Checksum":
                    texts: list[tuple[str | int, str]] = [(key, value)]
                elif isinstance(value, list):
                    texts = [(i, v) for i, v in enumerate(value) if isinstance(v, str)]
                else:
                    continue
                for place, text in texts:
                    what = _secret_in(text, carried)
                    if what is not None:
                        at = (*path, key) if place == key else (*path, key, place)
                        yield Finding(
                            f"this looks like {what}: the template's contents are readable by anyone "
                            "who can read the template",
                            at,
                            hint="move it into a script in Azure Storage, read with the template's identity",
                        )

    return check


def _secret_in(text: str, carried: list[str]) -> str | None:
    if any(value in text for value in carried):
        return "the value of a secure parameter (securestring/secureObject)"
    found = next(find_secrets(text), None)
    return None if found is None else found.form.what


RULES: tuple[Rule, ...] = (
    *step_rule_pair(
        7,
        Severity.ERROR,
        "sha256Checksum is 64 hexadecimal digits",
        ("shell-customizer", VALIDATE_SECTION),
        checksums,
        '"sha256Checksum": "abc123"',
    ),
    *step_rule_pair(
        8,
        Severity.WARNING,
        "a scriptUri or sourceUri comes with its sha256Checksum",
        ("shell-customizer", VALIDATE_SECTION),
        checksum_missing,
        '"scriptUri": "https://..." without sha256Checksum',
    ),
    *step_rule_pair(
        9,
        Severity.WARNING,
        "script URIs are https:// URLs",
        ("shell-customizer", VALIDATE_SECTION),
        uris,
        '"scriptUri": "http://example.com/setup.sh"',
    ),
    *step_rule_pair(
        10,
        Severity.WARNING,
        "inline commands and URIs carry no secrets (SAS sig=, passwords, tokens, keys, secure parameters)",
        ("properties-customize", VALIDATE_SECTION),
        secrets,
        '"inline": ["curl https://...?sv=2022&sig=abc..."]',
    ),
)
RULES = tuple(sorted(RULES, key=lambda r: r.id))
