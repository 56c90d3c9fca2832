"""Running the shell steps of a CI example as its runner would, for tests/azure/test_ci_workflows.py.

A job of a GitHub Actions workflow or an Azure Pipelines pipeline is read from its YAML; its condition
and each step's are evaluated (the small part of each expression language the examples use); `run:`,
`script:` and AzureCLI@2 `inlineScript:` steps run in order with bash, in the checked-out repository,
with the environment the runner gives them (the workflow's, the job's and the step's variables, the
runner's own such as GITHUB_OUTPUT or BUILD_REASON, `${{ }}` and `$(...)` values filled in from test
values). Other steps (checkout, setup-python, sign-in, artifact upload) are the runner's own: they are
not run, but an upload whose condition holds must find its file. After a failed step only steps whose
condition says so run, as on the real runners.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STEP_SECONDS = 600


@dataclass
class StepRun:
    name: str
    outcome: str  # success, failure or skipped
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobRun:
    steps: list[StepRun]
    # Files the job's artifact steps upload (their conditions held).
    artifacts: list[Path]

    @property
    def ok(self) -> bool:
        return all(s.outcome != "failure" for s in self.steps)

    def step(self, name: str) -> StepRun:
        return next(s for s in self.steps if s.name == name)

    def log(self) -> str:
        return "\n".join(
            f"== {s.name}: {s.outcome} ({s.exit_code})\n{s.stdout}{s.stderr}" for s in self.steps
        )


def _bash(script: str, cwd: Path, env: Mapping[str, str], *, errexit: bool, folder: Path) -> StepRun:
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"step-{len(list(folder.iterdir()))}.sh"
    file.write_text(script)
    command = ["bash", "--noprofile", "--norc", *(["-e"] if errexit else []), str(file)]
    done = subprocess.run(
        command, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=STEP_SECONDS
    )
    outcome = "success" if done.returncode == 0 else "failure"
    return StepRun("", outcome, done.returncode, done.stdout, done.stderr)


# -- expressions -------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\)|,|\[|\])|(?P<word>[\w.\-]+))"
)


def _tokens(text: str) -> list[str]:
    out, position = [], 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"cannot read the expression {text!r} at {position}")
        out.append(match.group().strip())
        position = match.end()
    return out


class _Expression:
    """A recursive-descent reader of both dialects: GitHub's (`a == 'x' && always()`, `steps.plan.outcome`)
    and Azure's (`and(eq(variables['Build.Reason'], 'PullRequest'), succeeded())`)."""

    def __init__(self, text: str, lookup: Callable[[str], Any], functions: Mapping[str, Callable[..., Any]]):
        self.tokens = _tokens(text)
        self.index = 0
        self.lookup = lookup
        self.functions = functions

    def value(self) -> Any:
        result = self._or()
        if self.index != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.index]!r}")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self.tokens[self.index]
        if expected is not None and token != expected:
            raise ValueError(f"expected {expected!r}, got {token!r}")
        self.index += 1
        return token

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            left = left or right
        return left

    def _and(self) -> Any:
        left = self._unary()
        while self._peek() == "&&":
            self._take()
            right = self._unary()
            left = left and right
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not self._unary()
        left = self._primary()
        if self._peek() in ("==", "!="):
            operator = self._take()
            equal = _same(left, self._primary())
            return equal if operator == "==" else not equal
        return left

    def _primary(self) -> Any:
        token = self._take()
        if token == "(":
            inner = self._or()
            self._take(")")
            return inner
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        if self._peek() == "(":
            self._take("(")
            args = []
            while self._peek() != ")":
                args.append(self._or())
                if self._peek() == ",":
                    self._take(",")
            self._take(")")
            return self.functions[token.lower()](*args)
        if self._peek() == "[":
            self._take("[")
            key = self._primary()
            self._take("]")
            return self.lookup(f"{token}.{key}")
        if token in ("true", "false"):
            return token == "true"
        return self.lookup(token)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return bool(a == b)


# -- GitHub Actions ----------------------------------------------------------------------------------------


@dataclass
class GitHubRunner:
    """One workflow run: the event's context (`github.*` values), secrets, the runner's base environment."""

    workflow: Mapping[str, Any]
    workdir: Path
    base_env: Mapping[str, str]
    github: Mapping[str, str]
    secrets: Mapping[str, str] = field(default_factory=dict)
    # Test values for some of the workflow's own `env:` (where aibplan is installed from).
    overrides: Mapping[str, str] = field(default_factory=dict)

    def run_job(self, job_id: str, scratch: Path) -> JobRun | None:
        """The job's steps in order; None when the job's `if:` does not hold for this event."""
        job = self.workflow["jobs"][job_id]
        steps: dict[str, StepRun] = {}
        if "if" in job and not self._holds(job["if"], steps, failed=False):
            return None
        env = {**self.base_env, **self._runner_env(scratch)}
        env.update(self._values(self.workflow.get("env", {}), steps))
        env.update(self.overrides)
        env.update(self._values(job.get("env", {}), steps))
        runs: list[StepRun] = []
        artifacts: list[Path] = []
        failed = False
        for index, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or f"step {index}"
            condition = step.get("if", "success()")
            if not self._holds(str(condition), steps, failed=failed):
                run = StepRun(name, "skipped")
            elif "run" in step:
                step_env = {**env, **self._values(step.get("env", {}), steps)}
                output = scratch / f"output-{index}"
                output.write_text("")
                step_env["GITHUB_OUTPUT"] = str(output)
                run = _bash(step["run"], self.workdir, step_env, errexit=True, folder=scratch / "scripts")
                run.name = name
                run.outputs = dict(
                    line.split("=", 1) for line in output.read_text().splitlines() if "=" in line
                )
            else:
                run = StepRun(name, "success")
                if str(step.get("uses", "")).startswith("actions/upload-artifact"):
                    artifacts.append(self.workdir / step["with"]["path"])
            runs.append(run)
            if "id" in step:
                steps[step["id"]] = run
            failed = failed or run.outcome == "failure"
        return JobRun(runs, artifacts)

    def _runner_env(self, scratch: Path) -> dict[str, str]:
        summary = scratch / "step-summary.md"
        summary.touch()
        return {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": self.github["event_name"],
            "GITHUB_REF": self.github.get("ref", ""),
            "GITHUB_REF_NAME": self.github.get("ref", "").rsplit("/", 1)[-1],
            "GITHUB_SHA": self.github.get("sha", ""),
            "GITHUB_REPOSITORY": self.github.get("repository", ""),
            "GITHUB_STEP_SUMMARY": str(summary),
        }

    def _lookup(self, steps: Mapping[str, StepRun]) -> Callable[[str], Any]:
        def lookup(name: str) -> Any:
            parts = name.split(".")
            if parts[0] == "github":
                return self.github.get(".".join(parts[1:]), "")
            if parts[0] == "secrets":
                return self.secrets.get(parts[1], "")
            if parts[0] == "steps":
                step = steps.get(parts[1])
                if step is None:
                    return ""
                return step.outcome if parts[2] == "outcome" else step.outputs.get(parts[3], "")
            if parts[0] == "env":
                return self.workflow.get("env", {}).get(parts[1], "")
            raise ValueError(f"no value for {name} in this test")

        return lookup

    def _holds(self, condition: str, steps: Mapping[str, StepRun], *, failed: bool) -> bool:
        text = condition.strip()
        if text.startswith("${{") and text.endswith("}}"):
            text = text[3:-2]
        if not re.search(r"\b(always|success|failure|cancelled)\(", text):
            text = f"success() && ({text})"
        functions = {
            "always": lambda: True,
            "success": lambda: not failed,
            "failure": lambda: failed,
            "cancelled": lambda: False,
        }
        return bool(_Expression(text, self._lookup(steps), functions).value())

    def _values(self, mapping: Mapping[str, Any], steps: Mapping[str, StepRun]) -> dict[str, str]:
        """`env:` values with their `${{ }}` filled in."""
        lookup = self._lookup(steps)

        def fill(match: re.Match[str]) -> str:
            return str(_Expression(match.group(1), lookup, {}).value())

        return {k: re.sub(r"\$\{\{(.*?)\}\}", fill, str(v)) for k, v in mapping.items()}


# -- Azure Pipelines ---------------------------------------------------------------------------------------


@dataclass
class AzureRunner:
    """One pipeline run: predefined variables (`Build.Reason`, `System.AccessToken`...) as test values."""

    pipeline: Mapping[str, Any]
    workdir: Path
    base_env: Mapping[str, str]
    predefined: Mapping[str, str]
    # Test values for some of the pipeline's own variables (where aibplan is installed from).
    overrides: Mapping[str, str] = field(default_factory=dict)

    def run_job(self, name: str, scratch: Path) -> JobRun | None:
        """The job's (or deployment's) steps in order; None when its condition does not hold."""
        job = next(j for j in self.pipeline["jobs"] if j.get("job", j.get("deployment")) == name)
        own = {k: str(v) for k, v in self.pipeline.get("variables", {}).items()}
        variables = {**self.predefined, **own, **self.overrides}
        if not self._holds(job.get("condition", "succeeded()"), variables, failed=False):
            return None
        steps = job["steps"] if "steps" in job else job["strategy"]["runOnce"]["deploy"]["steps"]
        env = dict(self.base_env)
        for key, value in variables.items():
            if key != "System.AccessToken":  # a secret: only where a step maps it
                env[key.upper().replace(".", "_")] = value
        runs: list[StepRun] = []
        artifacts: list[Path] = []
        failed = False
        for index, step in enumerate(steps):
            label = step.get("displayName") or step.get("task") or step.get("publish") or f"step {index}"
            script = step.get("script")
            if step.get("task") == "AzureCLI@2":
                script = step["inputs"]["inlineScript"]
            if not self._holds(step.get("condition", "succeeded()"), variables, failed=failed):
                run = StepRun(label, "skipped")
            elif script is not None:
                step_env = {**env, "AGENT_JOBSTATUS": "Failed" if failed else "Succeeded"}
                step_env.update({k: self._macros(str(v), variables) for k, v in step.get("env", {}).items()})
                run = _bash(
                    self._macros(script, variables), self.workdir, step_env, errexit=False, folder=scratch
                )
                run.name = label
            else:
                run = StepRun(label, "success")
                if "publish" in step:
                    artifacts.append(self.workdir / step["publish"])
            runs.append(run)
            failed = failed or run.outcome == "failure"
        return JobRun(runs, artifacts)

    @staticmethod
    def _macros(text: str, variables: Mapping[str, str]) -> str:
        """`$(Name)` of a known variable replaced (others, such as a shell's `$(command)`, stay)."""
        return re.sub(r"\$\(([\w.]+)\)", lambda m: variables.get(m.group(1), m.group(0)), text)

    @staticmethod
    def _holds(condition: str, variables: Mapping[str, str], *, failed: bool) -> bool:
        def lookup(name: str) -> Any:
            if name.startswith("variables."):
                return variables.get(name.split(".", 1)[1], "")
            raise ValueError(f"no value for {name} in this test")

        functions: dict[str, Callable[..., Any]] = {
            "eq": _same,
            "ne": lambda a, b: not _same(a, b),
            "and": lambda *a: all(a),
            "or": lambda *a: any(a),
            "not": lambda a: not a,
            "in": lambda a, *b: any(_same(a, x) for x in b),
            "succeeded": lambda: not failed,
            "failed": lambda: failed,
            "succeededorfailed": lambda: True,
            "always": lambda: True,
        }
        return bool(_Expression(condition, lookup, functions).value())


def path_with(*folders: Path) -> str:
    """A PATH of exactly `folders` (the runner's Python, the stand-ins for hosted tools, the system's)."""
    return os.pathsep.join(str(f) for f in folders)
