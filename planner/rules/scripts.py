"""AIB34xx customize and AIB35xx validate.inVMValidations: the steps that run inside the build VM, their
types, names and shapes. What the steps download and carry (checksums, https, secrets) is checked in
`script_security`.

Customizers and in-VM validators share their shapes (Shell, PowerShell, File), so one set of checks
serves both; each is registered twice, once per list, with the ids 34xx and 35xx (`step_rule_pair`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..diagnostics import Severity
from ..stack.model import Resource
from . import Finding, Rule, RuleContext, get
from .facts import LINUX, WINDOWS, intended_os, script_steps
from .fields import findings_for

_T = ("imageTemplate",)
# The reference section of the inVMValidations rules.
VALIDATE_SECTION = "api-validate"
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$")
_WINDOWS_ONLY = ("WindowsRestart", "WindowsUpdate")
_WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")
_ROOT_COMMANDS = ("apt-get", "apt", "yum", "dnf", "tdnf", "zypper", "snap", "systemctl", "useradd", "usermod")
_SEGMENT = re.compile(r"&&|\|\||;|\|")
# sudo bash -c "...": all of the command runs as root
_ROOT_SHELL = re.compile(r"\bsudo\b.*\b(?:bash|sh|su)\b.*\s-c\b")


def has(step: Mapping[str, Any], key: str) -> bool:
    """The step gives `key`: a non-empty string or list, or any other value."""
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
            uri, inline = has(step, "scriptUri") or has(step, "script"), has(step, "inline")
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
                if not has(step, key):
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


def step_rule(
    where: str,
    offset: int,
    severity: Severity,
    summary: str,
    section: str,
    check: Any,
    example: str,
    **kw: Any,
) -> Rule:
    """The rule `offset` of one list: AIB34xx for customize, AIB35xx for inVMValidations."""
    base = 3400 if where == "customize" else 3500
    versions = kw.pop("versions", "all" if where == "customize" else ">= 2022-02-14")
    return Rule(
        f"AIB{base + offset}", severity, summary, section, _T, check, versions=versions, example=example, **kw
    )


def step_rule_pair(
    offset: int,
    severity: Severity,
    summary: str,
    sections: tuple[str, str],
    make: Any,
    example: str,
    also: tuple[str, ...] = (),
) -> tuple[Rule, Rule]:
    """The same check as a rule over customize and one over inVMValidations."""
    return (
        step_rule(
            "customize",
            offset,
            severity,
            f"customize: {summary}",
            sections[0],
            make("customize"),
            example,
            also=also,
        ),
        step_rule(
            "validate",
            offset,
            severity,
            f"inVMValidations: {summary}",
            sections[1],
            make("validate"),
            example,
        ),
    )


RULES: tuple[Rule, ...] = (
    step_rule(
        "customize",
        1,
        Severity.ERROR,
        "customizer types are known in the api version",
        "properties-customize",
        findings_for("AIB3401"),
        '"type": "Bash"',
    ),
    step_rule(
        "validate",
        1,
        Severity.ERROR,
        "validator types are known in the api version (File from 2022-07-01)",
        VALIDATE_SECTION,
        findings_for("AIB3501"),
        '"type": "WindowsRestart" in inVMValidations',
    ),
    *step_rule_pair(
        2,
        Severity.ERROR,
        "step names are unique",
        ("properties-customize", VALIDATE_SECTION),
        unique_names,
        'two steps named "install"',
    ),
    *step_rule_pair(
        3,
        Severity.ERROR,
        "Shell and PowerShell steps give exactly one of scriptUri or inline",
        ("shell-customizer", VALIDATE_SECTION),
        one_source,
        '{"type": "Shell", "name": "x"}',
    ),
    *step_rule_pair(
        4,
        Severity.WARNING,
        "Windows-only steps on a Windows source, Shell on a Linux source",
        ("windows-restart-customizer", VALIDATE_SECTION),
        os_suits,
        '{"type": "WindowsRestart"} on an Ubuntu source',
        also=("linux-restart", "windows-update-customizer"),
    ),
    step_rule(
        "customize",
        5,
        Severity.ERROR,
        "restartTimeout is a duration (5m, 2h)",
        "windows-restart-customizer",
        check_restart_timeout,
        '"restartTimeout": "5 minutes"',
    ),
    *step_rule_pair(
        6,
        Severity.WARNING,
        "File steps give sourceUri and an absolute destination (error), under /tmp on Linux (warning)",
        ("file-customizer", VALIDATE_SECTION),
        file_steps,
        '"destination": "/etc/motd"',
    ),
    *step_rule_pair(
        11,
        Severity.ERROR,
        "runAsSystem only with runElevated",
        ("powershell-customizer", VALIDATE_SECTION),
        run_as_system,
        '"runAsSystem": true without "runElevated": true',
    ),
    step_rule(
        "customize",
        12,
        Severity.WARNING,
        "Shell commands that need root use sudo",
        "super-user-privileges",
        check_sudo,
        '"inline": ["apt-get install -y nginx"]',
    ),
    step_rule(
        "customize",
        13,
        Severity.WARNING,
        "a deprovisioning override uses the exact file name Image Builder reads",
        "overriding-the-commands",
        check_deprovision_override,
        '"destination": "/tmp/deprovisioningScript.sh"',
        also=("generalize", "default-sysprep-command", "default-linux-deprovision-command"),
    ),
    step_rule(
        "validate",
        20,
        Severity.WARNING,
        "validate has in-VM validations and sourceValidationOnly has no customizers",
        VALIDATE_SECTION,
        check_validate_block,
        '"validate": {"sourceValidationOnly": true} with customize',
    ),
)
RULES = tuple(sorted(RULES, key=lambda r: r.id))
