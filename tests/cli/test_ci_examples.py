"""The CI examples in examples/ci: valid YAML, the triggers, jobs and steps docs/ci.md promises, and every
aibplan command they run is a real command with real options, which the test runs against an applied
stack. tests/azure/test_ci_workflows.py runs the workflows' shell steps themselves, as their runners would."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from planner.cli import main
from tests.helpers import EXAMPLES, Run

CI = EXAMPLES / "ci"
WORKFLOWS = sorted(CI.glob("*.yml"))
_SHELL_KEYS = ("run", "script", "inlineScript")
_ENDS = {">", ">>", "|", "||", "&&", ";", "2>", "2>&1"}


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), path
    return document


def scripts(node: Any) -> Iterator[str]:
    """Every shell script in a workflow (run:, script:, inlineScript:), wherever it sits."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _SHELL_KEYS and isinstance(value, str):
                yield value
            else:
                yield from scripts(value)
    elif isinstance(node, list):
        for item in node:
            yield from scripts(item)


def aibplan_commands(path: Path) -> list[list[str]]:
    """Each `aibplan ...` invocation as an argument list, up to the first redirection or operator."""
    found = []
    for script in scripts(load(path)):
        for line in script.splitlines():
            line = line.strip()
            if not re.match(r"^aibplan\s", line):
                continue
            words = shlex.split(line.replace('"$STACK"', "STACK_DIR"))
            args: list[str] = []
            for word in words[1:]:
                if word in _ENDS:
                    break
                args.append(word)
            found.append(args)
    return found


def parse(args: list[str]) -> click.Context:
    """Parse `aibplan ARGS` with the real command line, without running it (unknown options fail)."""
    context = click.Context(main, info_name="aibplan")
    command = main.get_command(context, args[0])
    assert command is not None, f"aibplan has no command {args[0]!r}"
    return command.make_context(args[0], list(args[1:]), parent=context)


def test_there_is_a_github_and_an_azure_pipelines_example() -> None:
    assert [p.name for p in WORKFLOWS] == ["azure-pipelines.yml", "github-actions.yml"]


def test_the_github_workflow_plans_pull_requests_applies_main_one_at_a_time_and_checks_drift() -> None:
    workflow = load(CI / "github-actions.yml")
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"pull_request", "push", "schedule"} <= set(triggers)
    assert triggers["push"]["branches"] == ["main"]
    assert triggers["schedule"][0]["cron"].count(" ") == 4
    jobs = workflow["jobs"]
    assert "pull_request" in jobs["plan"]["if"] and "refs/heads/main" in jobs["apply"]["if"]
    assert jobs["apply"]["concurrency"]["cancel-in-progress"] is False
    assert jobs["apply"]["permissions"]["contents"] == "write"
    assert "schedule" in jobs["drift"]["if"]
    for job in jobs.values():
        install = next(s for s in job["steps"] if s.get("name") == "Install aibplan")
        assert install["run"] == 'python -m pip install "$AIBPLAN_SOURCE"'
    assert workflow["env"]["AIBPLAN_SOURCE"].startswith("git+https://")
    plan_steps = "\n".join(scripts(jobs["plan"]))
    assert "--out aibplan.plan" in plan_steps and "gh pr comment" in plan_steps
    assert "git push" in "\n".join(scripts(jobs["apply"]))


def test_the_azure_pipeline_does_the_same() -> None:
    pipeline = load(CI / "azure-pipelines.yml")
    assert pipeline["schedules"][0]["always"] is True and pipeline["pr"]["branches"]["include"] == ["main"]
    assert pipeline["trigger"]["branches"]["include"] == ["main"] and pipeline["lockBehavior"] == "sequential"
    jobs = {j.get("job", j.get("deployment")): j for j in pipeline["jobs"]}
    assert set(jobs) == {"plan", "apply", "drift"}
    assert "PullRequest" in jobs["plan"]["condition"] and "refs/heads/main" in jobs["apply"]["condition"]
    assert "environment" in jobs["apply"]
    plan_steps = "\n".join(scripts(jobs["plan"]))
    assert "pullRequests" in plan_steps and "AGENT_JOBSTATUS" in plan_steps
    assert "git push" in "\n".join(scripts(jobs["apply"]))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_every_aibplan_command_in_the_workflows_parses(workflow: Path) -> None:
    commands = aibplan_commands(workflow)
    assert {c[0] for c in commands} >= {"drift", "plan", "validate"}
    for args in commands:
        parse(args)  # raises click.UsageError / NoSuchOption for anything aibplan does not have


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_the_workflow_commands_run_against_an_applied_stack(
    workflow: Path, example: Callable[[str], Path], cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    monkeypatch.chdir(root.parent)
    for args in aibplan_commands(workflow):
        run = cli(*[str(root) if a == "STACK_DIR" else a for a in args])
        assert run.exit_code == 0, (args, run.stdout, run.stderr)
    assert (root.parent / "aibplan.plan").exists()
    # The saved plan the pull-request job uploads applies (it has nothing to do here).
    assert cli("apply", str(root.parent / "aibplan.plan")).exit_code == 0
    # Drift makes the drift step fail, as the workflows promise.
    cli("sim", "set-tag", str(root), "gallery.corpImages", "owner=portal")
    drift = next(a for a in aibplan_commands(workflow) if a[0] == "drift")
    run = cli(*[str(root) if a == "STACK_DIR" else a for a in drift])
    assert run.exit_code == 2 and "**Drift detected:** 1 changed." in run.stdout
