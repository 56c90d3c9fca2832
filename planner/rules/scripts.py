"""AIB34xx customize and AIB35xx validate.inVMValidations: the steps that run inside the build VM.

Customizers and in-VM validators share their shapes (Shell, PowerShell, File), so one set of checks
serves both; each is registered twice, once per list, with the ids 34xx and 35xx.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..diagnostics import Severity
from ..model import Resource
from . import Finding, Rule, RuleContext, get
from .facts import LINUX, WINDOWS, intended_os, script_steps
from .fields import findings_for

_T = ("imageTemplate",)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$")
_WINDOWS_ONLY = ("WindowsRestart", "WindowsUpdate")
_WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")
_SECRETS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[?&]sig=[A-Za-z0-9%+/=]{10,}"), "a SAS token (sig=)"),
    (re.compile(r"AccountKey=[A-Za-z0-9+/=]{20,}", re.IGNORECASE), "a storage account key"),
    (re.compile(r"https?://[^/\s:@'\"]+:[^/\s@'\"]+@"), "a password in a URL"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{16,}=*"), "a bearer token"),
    (re.compile(r"\b(?:ghp|gho|ghs|github_pat)_[A-Za-z0-9_]{20,}"), "a GitHub token"),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "an AWS access key"),
    (
        re.compile(
            r"(?i)(?:password|passwd|pwd|secret|token|api[_-]?key|client[_-]?secret)\s*[=:]\s*"
            r"[\"']?(?![$%{(<])[^\s\"';&|]{6,}"
        ),
        "a password, token or key",
    ),
    (
        re.compile(r"(?i)-(?:Password|Secret|Token)\s+[\"']?(?![$(])[^\s\"']{6,}"),
        "a password or token argument",
    ),
    (re.compile(r"(?i)ConvertTo-SecureString\s+[\"'][^\"']+[\"']\s+-AsPlainText"), "a plain-text secret"),
    (re.compile(r"(?i)\bnet\s+user\s+\S+\s+(?![*$%/])\S{6,}"), "a password (net user)"),
)
# Every secret pattern above needs one of these (in lower case): a cheap test before the patterns.
_SECRET_WORDS = re.compile(
    r"sig=|accountkey|@|bearer|gh[pos]_|github_pat_|akia|pass|pwd|secret|token|api.?key|securestring|net\s+user"
)
_ROOT_COMMANDS = ("apt-get", "apt", "yum", "dnf", "tdnf", "zypper", "snap", "systemctl", "useradd", "usermod")
_SEGMENT = re.compile(r"&&|\|\||;|\|")
# sudo bash -c "...": all of the command runs as root
_ROOT_SHELL = re.compile(r"\bsudo\b.*\b(?:bash|sh|su)\b.*\s-c\b")


def _has(step: Mapping[str, Any], key: str) -> bool:
    value = step.get(key)
    return bool(value) if isinstance(value, (str, list)) else value is not None


def unique_names(where: str) -> Callable[[Resource, RuleContext], Iterator[Finding]]:
    def check(resource: Resource, context: RuleContext) -> Iterator[Finding]:
        seen: dict[str, int] = {}
        for path, step in script_steps(resource, where, context):
            name = step.get("name")
            if isinstance(name, str) and name:
                if name in seen:
                    yield Finding(
                        f"the name '{name}' is used twice (also by step {seen[name]})", (*path, "name")
                    )
                else:
                    seen[name] = int(path[-1])

    return check


def one_source(where: str) -> Callable[[Resource, RuleContext], Iterator[Finding]]:
    def check(resource: Resource, context: RuleContext) -> Iterator[Finding]:
        for path, step in script_steps(resource, where, context):
            if step.get("type") not in ("Shell", "PowerShell"):
                continue
            # 'script' was the previews' scriptUri (2019-02-01-preview); a later version reports it itself
            uri, inline = _has(step, "scriptUri") or _has(step, "script"), _has(step, "inline")
            if uri and inline:
                yield Finding("give either scriptUri or inline, not both", path)
            elif not uri and not inline:
                yield Finding(f"a {step['type']} step needs scriptUri or inline (exactly one)", path)

    return check


def os_suits(where: str) -> Callable[[Resource, RuleContext], Iterator[Finding]]:
    def check(resource: Resource, context: RuleContext) -> Iterator[Finding]:
        os_name = None
        checked = (*_WINDOWS_ONLY, "Shell") if where == "customize" else ("Shell",)
        for path, step in script_steps(resource, where, context):
            kind = step.get("type")
            if kind not in checked:
                continue
            os_name = os_name or intended_os(resource, context) or "unknown"
            if os_name == LINUX and kind in _WINDOWS_ONLY:
                yield Finding(
                    f"{kind} runs only on Windows, and the source is Linux",
                    (*path, "type"),
                    hint="there is no Linux restart customizer; reboot from a Shell step",
                )
            elif os_name == WINDOWS and kind == "Shell":
                yield Finding(
                    "Shell runs only on Linux, and the source is Windows",
                    (*path, "type"),
                    hint='use "type": "PowerShell"',
                )

    return check


def check_restart_timeout(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for path, step in script_steps(resource, "customize", context):
        value = step.get("restartTimeout")
        if step.get("type") == "WindowsRestart" and isinstance(value, str) and not _DURATION.match(value):
            yield Finding(
                f"restartTimeout '{value}' is not a duration",
                (*path, "restartTimeout"),
                hint="a number and a unit, such as 5m, 90s or 2h",
            )


def file_steps(where: str) -> Callable[[Resource, RuleContext], Iterator[Finding]]:
    def check(resource: Resource, context: RuleContext) -> Iterator[Finding]:
        os_name: str | None = None
        for path, step in script_steps(resource, where, context):
            if step.get("type") != "File":
                continue
            for key in ("sourceUri", "destination"):
                if not _has(step, key):
                    yield Finding(f"a File step needs '{key}'", path, severity=Severity.ERROR)
            destination = step.get("destination")
            if not isinstance(destination, str) or not destination:
                continue
            os_name = os_name or intended_os(resource, context) or "unknown"
            at = (*path, "destination")
            windows_path = bool(_WINDOWS_PATH.match(destination))
            if not windows_path and not destination.startswith("/"):
                yield Finding(
                    f"'{destination}' is not an absolute path",
                    at,
                    severity=Severity.ERROR,
                    hint="give the full path and file name, such as /tmp/app.tar.gz",
                )
            elif destination.endswith(("/", "\\")):
                yield Finding(
                    "the destination is a folder: give the full path and file name",
                    at,
                    severity=Severity.ERROR,
                )
            elif os_name == WINDOWS and not windows_path:
                yield Finding(f"'{destination}' is not a Windows path, and the source is Windows", at)
            elif os_name != WINDOWS and not windows_path and not destination.startswith("/tmp/"):
                yield Finding(
                    f"'{destination}': on Linux Image Builder can only write under /tmp",
                    at,
                    hint="copy to /tmp, then move the file with a Shell step using sudo",
                )

    return check


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
                if _has(step, key) and not _has(step, "sha256Checksum"):
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
    def check(resource: Resource, context: RuleContext) -> Iterator[Finding]:
        for path, step in script_steps(resource, where, context):
            for key, value in step.items():
                if isinstance(value, str) and key != "sha256Checksum":
                    texts: list[tuple[str | int, str]] = [(key, value)]
                elif isinstance(value, list):
                    texts = [(i, v) for i, v in enumerate(value) if isinstance(v, str)]
                else:
                    continue
                for place, text in texts:
                    if not _SECRET_WORDS.search(text.lower()):
                        continue
                    at = (*path, key) if place == key else (*path, key, place)
                    for pattern, what in _SECRETS:
                        if pattern.search(text):
                            yield Finding(
                                f"this looks like {what}: the template's contents are readable by anyone "
                                "who can read the template",
                                at,
                                hint="move it into a script in Azure Storage, read with the template's "
                                "identity",
                            )
                            break

    return check


def run_as_system(where: str) -> Callable[[Resource, RuleContext], Iterator[Finding]]:
    def check(resource: Resource, context: RuleContext) -> Iterator[Finding]:
        for path, step in script_steps(resource, where, context):
            if step.get("runAsSystem") is True and step.get("runElevated") is not True:
                yield Finding(
                    "runAsSystem needs runElevated: true",
                    (*path, "runAsSystem"),
                    hint='add "runElevated": true',
                )

    return check


def check_sudo(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for path, step in script_steps(resource, "customize", context):
        inline = step.get("inline")
        if step.get("type") != "Shell" or not isinstance(inline, list):
            continue
        for index, command in enumerate(inline):
            if not isinstance(command, str) or _ROOT_SHELL.search(command):
                continue
            for segment in _SEGMENT.split(command):
                words = segment.split()
                while words and "=" in words[0] and not words[0].startswith("-"):
                    words = words[1:]  # VAR=value prefixes
                if words and words[0] in _ROOT_COMMANDS and "sudo" not in segment.split():
                    yield Finding(
                        f"'{words[0]}' needs root: the Shell customizer does not run as root",
                        (*path, "inline", index),
                        hint=f"write 'sudo {words[0]} ...'",
                    )
                    break


def check_deprovision_override(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for path, step in script_steps(resource, "customize", context):
        destination = step.get("destination")
        if step.get("type") != "File" or not isinstance(destination, str):
            continue
        name = re.split(r"[\\/]", destination)[-1]
        if name.lower() == "deprovisioningscript.sh" and destination != "/tmp/DeprovisioningScript.sh":
            yield Finding(
                "Image Builder only reads /tmp/DeprovisioningScript.sh (this exact path and case)",
                (*path, "destination"),
            )
        elif name.lower() == "deprovisioningscript.ps1" and destination.lower().replace("/", "\\") != (
            "c:\\deprovisioningscript.ps1"
        ):
            yield Finding("Image Builder only reads c:\\DeprovisioningScript.ps1", (*path, "destination"))


def check_validate_block(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    validate = get(resource.body, "properties", "validate")
    if not isinstance(validate, dict):
        return
    steps = validate.get("inVMValidations")
    if not steps:
        yield Finding("validate has no inVMValidations: nothing is validated", ("properties", "validate"))
    if validate.get("sourceValidationOnly") is True and resource.properties.get("customize"):
        yield Finding(
            "sourceValidationOnly validates the source image as it is: the customizers are not run",
            ("properties", "validate", "sourceValidationOnly"),
        )


def _pair(
    where: str,
    offset: int,
    severity: Severity,
    summary: str,
    section: str,
    check: Any,
    example: str,
    **kw: Any,
) -> Rule:
    base = 3400 if where == "customize" else 3500
    versions = kw.pop("versions", "all" if where == "customize" else ">= 2022-02-14")
    return Rule(
        f"AIB{base + offset}", severity, summary, section, _T, check, versions=versions, example=example, **kw
    )


def _both(
    offset: int,
    severity: Severity,
    summary: str,
    sections: tuple[str, str],
    make: Any,
    example: str,
    also: tuple[str, ...] = (),
) -> tuple[Rule, Rule]:
    return (
        _pair(
            "customize",
            offset,
            severity,
            f"customize: {summary}",
            sections[0],
            make("customize"),
            example,
            also=also,
        ),
        _pair(
            "validate",
            offset,
            severity,
            f"inVMValidations: {summary}",
            sections[1],
            make("validate"),
            example,
        ),
    )


_V = "api-validate"
RULES: tuple[Rule, ...] = (
    _pair(
        "customize",
        1,
        Severity.ERROR,
        "customizer types are known in the api version",
        "properties-customize",
        findings_for("AIB3401"),
        '"type": "Bash"',
    ),
    _pair(
        "validate",
        1,
        Severity.ERROR,
        "validator types are known in the api version (File from 2022-07-01)",
        _V,
        findings_for("AIB3501"),
        '"type": "WindowsRestart" in inVMValidations',
    ),
    *_both(
        2,
        Severity.ERROR,
        "step names are unique",
        ("properties-customize", _V),
        unique_names,
        'two steps named "install"',
    ),
    *_both(
        3,
        Severity.ERROR,
        "Shell and PowerShell steps give exactly one of scriptUri or inline",
        ("shell-customizer", _V),
        one_source,
        '{"type": "Shell", "name": "x"}',
    ),
    *_both(
        4,
        Severity.WARNING,
        "Windows-only steps on a Windows source, Shell on a Linux source",
        ("windows-restart-customizer", _V),
        os_suits,
        '{"type": "WindowsRestart"} on an Ubuntu source',
        also=("linux-restart", "windows-update-customizer"),
    ),
    _pair(
        "customize",
        5,
        Severity.ERROR,
        "restartTimeout is a duration (5m, 2h)",
        "windows-restart-customizer",
        check_restart_timeout,
        '"restartTimeout": "5 minutes"',
    ),
    *_both(
        6,
        Severity.WARNING,
        "File steps give sourceUri and an absolute destination (error), under /tmp on Linux (warning)",
        ("file-customizer", _V),
        file_steps,
        '"destination": "/etc/motd"',
    ),
    *_both(
        7,
        Severity.ERROR,
        "sha256Checksum is 64 hexadecimal digits",
        ("shell-customizer", _V),
        checksums,
        '"sha256Checksum": "abc123"',
    ),
    *_both(
        8,
        Severity.WARNING,
        "a scriptUri or sourceUri comes with its sha256Checksum",
        ("shell-customizer", _V),
        checksum_missing,
        '"scriptUri": "https://..." without sha256Checksum',
    ),
    *_both(
        9,
        Severity.WARNING,
        "script URIs are https:// URLs",
        ("shell-customizer", _V),
        uris,
        '"scriptUri": "http://example.com/setup.sh"',
    ),
    *_both(
        10,
        Severity.WARNING,
        "inline commands and URIs carry no secrets (SAS sig=, passwords, tokens, keys)",
        ("properties-customize", _V),
        secrets,
        '"inline": ["curl https://...?sv=2022&sig=abc..."]',
    ),
    *_both(
        11,
        Severity.ERROR,
        "runAsSystem only with runElevated",
        ("powershell-customizer", _V),
        run_as_system,
        '"runAsSystem": true without "runElevated": true',
    ),
    _pair(
        "customize",
        12,
        Severity.WARNING,
        "Shell commands that need root use sudo",
        "super-user-privileges",
        check_sudo,
        '"inline": ["apt-get install -y nginx"]',
    ),
    _pair(
        "customize",
        13,
        Severity.WARNING,
        "a deprovisioning override uses the exact file name Image Builder reads",
        "overriding-the-commands",
        check_deprovision_override,
        '"destination": "/tmp/deprovisioningScript.sh"',
        also=("generalize", "default-sysprep-command", "default-linux-deprovision-command"),
    ),
    _pair(
        "validate",
        20,
        Severity.WARNING,
        "validate has in-VM validations and sourceValidationOnly has no customizers",
        _V,
        check_validate_block,
        '"validate": {"sourceValidationOnly": true} with customize',
    ),
)
RULES = tuple(sorted(RULES, key=lambda r: r.id))
