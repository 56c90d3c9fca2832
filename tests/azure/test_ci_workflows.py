"""The CI examples run as shipped (docs/ci.md): each workflow's shell steps, in order, with the environment
its runner gives them (tests/helpers/workflows.py), in a git repository of a team's stack whose origin is a
bare repository, against the ARM emulator over TLS through the Azure provider.

What stands in for the hosted services: the runner's Python is a fresh virtual environment that has
aibplan's dependencies but not aibplan (the install step installs it, from a wheel built from this
repository's files, with no package index); `gh` is a script that records the comment it was asked to
post; Azure DevOps' pull-request API is a local HTTP server that records the thread it was sent.
"""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from providers.azure.provider import AzureProvider
from providers.base import ResourceRef
from tests.helpers import EXAMPLES, POLLING_INTERVAL, ROOT, SUBSCRIPTION, Emulator
from tests.helpers.workflows import AzureRunner, GitHubRunner, JobRun, path_with

GH = """#!/usr/bin/env python3
import json, sys
args = sys.argv[1:]
body = open(args[args.index("--body-file") + 1]).read() if "--body-file" in args else None
with open(__file__ + ".log", "a") as log:
    log.write(json.dumps({"args": args, "body": body}) + "\\n")
"""


@pytest.fixture(scope="session")
def aibplan_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """aibplan built from this repository's files, as pip builds it from a git URL."""
    where = tmp_path_factory.mktemp("aibplan-source")
    source = where / "aibplan"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("planner", "providers", "state"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    wheels = where / "wheels"
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*command, "--no-index", "-w", str(wheels), str(source)], check=True, timeout=600)
    (wheel,) = wheels.glob("aibplan-*.whl")
    return wheel


@dataclass
class Team:
    """A team's repository (a clone of `origin`, on main) with its stack in images/golden."""

    work: Path
    origin: Path
    stack: Path
    env: dict[str, str]
    scratch: Path
    # The wheel the install steps install (AIBPLAN_SOURCE's test value).
    wheel: Path

    def git(self, *args: str, cwd: Path | None = None) -> str:
        done = subprocess.run(
            ["git", *args], cwd=cwd or self.work, env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def origin_file(self, path: str) -> str:
        return self.git("--git-dir", str(self.origin), "show", f"main:{path}", cwd=self.origin)

    def folder(self, name: str) -> Path:
        self.scratch.mkdir(exist_ok=True)
        folder = self.scratch / name
        folder.mkdir()
        return folder


def runner_python(folder: Path) -> Path:
    """A virtual environment with aibplan's dependencies (this interpreter's, minus aibplan): its bin."""
    venv = folder / "runner-python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    deps = folder / "site-packages"
    deps.mkdir()
    own = Path(sysconfig.get_paths()["purelib"])
    for entry in own.iterdir():
        if not entry.name.lower().startswith(("aibplan", "__editable__")):
            (deps / entry.name).symlink_to(entry)
    (target,) = venv.glob("lib/python*/site-packages")
    (target / "dependencies.pth").write_text(str(deps) + "\n")
    return venv / "bin"


@pytest.fixture
def team(tmp_path: Path, emulator: Emulator, aibplan_wheel: Path) -> Team:
    home = tmp_path / "home"
    home.mkdir()
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "gh").write_text(GH)
    (tools / "gh").chmod(0o755)
    runner_bin = runner_python(tmp_path)
    env = {
        # The runner's Python first; none of this test's own (aibplan must come from the install step).
        "PATH": path_with(runner_bin, tools, Path("/usr/local/bin"), Path("/usr/bin"), Path("/bin")),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "LANG": "C.UTF-8",
        # What the sign-in step gives aibplan: here, the emulator.
        "AIBPLAN_AZURE_BASE_URL": emulator.endpoint,
        "AIBPLAN_AZURE_CA_BUNDLE": str(emulator.ca_file),
        "AIBPLAN_AZURE_CREDENTIAL": "emulator",
        "AIBPLAN_AZURE_POLLING_INTERVAL": str(POLLING_INTERVAL),
        "AIBPLAN_RETRY_BASE_DELAY": "0.01",
        # The runner installs with no package index: the dependencies are there, aibplan comes from its wheel.
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    origin = tmp_path / "origin.git"
    work = tmp_path / "work"
    stack = work / "images" / "golden"
    setup = Team(work, origin, stack, env, tmp_path / "runs", aibplan_wheel)
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(origin)], check=True, env=env)
    subprocess.run(
        ["git", "clone", "--quiet", str(origin), str(work)], check=True, env=env, capture_output=True
    )
    shutil.copytree(
        EXAMPLES / "quickstart", stack, ignore=shutil.ignore_patterns(".aibplan", "aibplan.state*")
    )
    config = {
        "subscriptionId": SUBSCRIPTION,
        "resourceGroup": emulator.new_group(),
        "location": "westus2",
        "provider": "azure",
    }
    (stack / "aibplan.json").write_text(json.dumps(config, indent=2) + "\n")
    (work / ".gitignore").write_text(".aibplan/\nplan.md\ndrift.md\naibplan.plan\n")
    setup.git("add", ".")
    setup.git("-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "--quiet", "-m", "images")
    setup.git("push", "--quiet", "origin", "main")
    return setup


def comments(team: Team) -> list[dict[str, Any]]:
    """What the `gh` stand-in was asked to post, in order."""
    log = team.work.parent / "tools" / "gh.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def workflow(name: str) -> dict[str, Any]:
    document = yaml.safe_load((EXAMPLES / "ci" / name).read_text())
    assert isinstance(document, dict)
    return document


def github(team: Team, event: str, ref: str) -> GitHubRunner:
    context = {
        "event_name": event,
        "ref": ref,
        "sha": team.git("rev-parse", "HEAD"),
        "repository": "contoso/images",
        "token": "test-token",
        "event.pull_request.number": "7" if event == "pull_request" else "",
    }
    overrides = {"AIBPLAN_SOURCE": str(team.wheel)}
    return GitHubRunner(workflow("github-actions.yml"), team.work, team.env, context, overrides=overrides)


def state_resources(text: str) -> list[str]:
    """The quickstart's own resources in a state file (its role kinds, named by guid, left out)."""
    return [
        r["address"]
        for r in json.loads(text)["resources"]
        if not r.get("removed") and not r["address"].startswith("role")
    ]


def drift_the_gallery(emulator: Emulator, team: Team) -> None:
    """Someone tags the gallery in the portal."""
    group = json.loads((team.stack / "aibplan.json").read_text())["resourceGroup"]
    gallery = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.Compute/galleries/"
    ref = ResourceRef(gallery + "corpImages", "Microsoft.Compute/galleries", "2024-03-03")
    provider = AzureProvider(emulator.settings())
    try:
        provider.update(ref, {"tags": {"owner": "portal"}})
    finally:
        provider.close()


def assert_ok(run: JobRun | None) -> JobRun:
    assert run is not None, "the job did not run"
    assert run.ok, run.log()
    return run


def test_the_github_workflow_plans_pull_requests_applies_main_and_checks_drift(
    team: Team, emulator: Emulator
) -> None:
    # A pull request: a read-only plan, its artifact and its comment; nothing else runs.
    pr = github(team, "pull_request", "refs/pull/7/merge")
    assert pr.run_job("apply", team.folder("pr-apply")) is None
    assert pr.run_job("drift", team.folder("pr-drift")) is None
    run = assert_ok(pr.run_job("plan", team.folder("pr")))
    assert "Successfully installed aibplan-0.1.0" in run.step("Install aibplan").stdout
    assert run.step("Plan").outputs == {"exitcode": "2"}
    assert [a.name for a in run.artifacts] == ["aibplan.plan"] and run.artifacts[0].is_file()
    (posted,) = comments(team)
    assert posted["args"] == [
        "pr",
        "comment",
        "7",
        "--body-file",
        "plan.md",
        "--edit-last",
        "--create-if-none",
    ]
    assert "**Plan:** 7 to add, 0 to change, 0 to replace, 0 to destroy." in posted["body"]
    assert not (team.stack / "aibplan.state.json").exists(), "a pull request's plan wrote the state"
    assert not list(team.stack.glob(".aibplan/*lock*")), "a pull request's plan took the state lock"

    # A pull request that breaks the stack: no plan, and no empty comment.
    (team.stack / "gallery.json").write_text("[{")
    run = pr.run_job("plan", team.folder("pr-broken"))
    assert run is not None and not run.ok
    assert [run.step(s).outcome for s in ("Validate", "Plan", "actions/upload-artifact@v4")] == [
        "failure",
        "skipped",
        "skipped",
    ]
    comment_step = run.step("Comment the plan on the pull request")
    assert comment_step.outcome == "success" and "no comment was posted" in comment_step.stdout
    assert len(comments(team)) == 1
    team.git("checkout", "--", ".")

    # The merge to main: the apply, and the state committed back to main.
    main = github(team, "push", "refs/heads/main")
    assert main.run_job("plan", team.folder("main-plan")) is None
    run = assert_ok(main.run_job("apply", team.folder("main")))
    assert "Apply complete! Resources: 7 added" in run.step("Apply").stdout
    assert state_resources(team.origin_file("images/golden/aibplan.state.json")) == [
        "gallery.corpImages",
        "identity.aibBuilder",
        "imageDefinition.corpImages/ubuntu2204",
        "imageTemplate.ubuntu2204",
    ]
    message = team.git("--git-dir", str(team.origin), "log", "-1", "--format=%s", "main", cwd=team.origin)
    assert message.startswith("aibplan: state after applying ") and message.endswith("[skip ci]")
    head = team.git("--git-dir", str(team.origin), "rev-parse", "main", cwd=team.origin)

    # A second run on main has nothing to do and commits nothing.
    run = assert_ok(github(team, "push", "refs/heads/main").run_job("apply", team.folder("main-again")))
    assert "The state did not change." in run.step("Commit the state back").stdout
    assert team.git("--git-dir", str(team.origin), "rev-parse", "main", cwd=team.origin) == head

    # The nightly drift check: clean, then failing once someone changed the gallery in the portal.
    nightly = github(team, "schedule", "refs/heads/main")
    assert_ok(nightly.run_job("drift", team.folder("night-1")))
    drift_the_gallery(emulator, team)
    run = nightly.run_job("drift", team.folder("night-2"))
    assert run is not None and not run.ok
    step = run.step("Compare the cloud with the state")
    assert step.exit_code == 2 and "::error title=Drift::" in step.stdout


class _DevOps(http.server.BaseHTTPRequestHandler):
    """Azure DevOps' pull-request threads API, as far as the pipeline uses it: POST records the thread."""

    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.received.append(
            {
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "body": json.loads(self.rfile.read(length)),
            }
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def devops() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Handler", (_DevOps,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", received
    finally:
        server.shutdown()
        server.server_close()


def azure_pipeline(team: Team, reason: str, branch: str, collection: str) -> AzureRunner:
    predefined = {
        "Build.Reason": reason,
        "Build.SourceBranch": branch,
        "Build.SourceBranchName": branch.rsplit("/", 1)[-1],
        "Build.SourceVersion": team.git("rev-parse", "HEAD"),
        "Build.Repository.ID": "repo-1",
        "System.CollectionUri": collection,
        "System.TeamProject": "images",
        "System.PullRequest.PullRequestId": "7" if reason == "PullRequest" else "",
        "System.AccessToken": "test-token",
    }
    overrides = {"AIBPLAN_SOURCE": str(team.wheel)}
    return AzureRunner(workflow("azure-pipelines.yml"), team.work, team.env, predefined, overrides)


def test_the_azure_pipeline_plans_pull_requests_applies_main_and_checks_drift(
    team: Team, emulator: Emulator, devops: tuple[str, list[dict[str, Any]]]
) -> None:
    collection, threads = devops
    pr = azure_pipeline(team, "PullRequest", "refs/pull/7/merge", collection)
    assert pr.run_job("apply", team.folder("pr-apply")) is None
    assert pr.run_job("drift", team.folder("pr-drift")) is None
    run = assert_ok(pr.run_job("plan", team.folder("pr")))
    assert [a.name for a in run.artifacts] == ["aibplan.plan"] and run.artifacts[0].is_file()
    (thread,) = threads
    assert thread["path"] == "/images/_apis/git/repositories/repo-1/pullRequests/7/threads?api-version=7.1"
    assert thread["authorization"] == "Bearer test-token"
    assert "**Plan:** 7 to add" in thread["body"]["comments"][0]["content"]
    assert not (team.stack / "aibplan.state.json").exists()

    (team.stack / "gallery.json").write_text("[{")
    run = pr.run_job("plan", team.folder("pr-broken"))
    assert run is not None and not run.ok
    assert run.step("Publish the saved plan").outcome == "skipped"
    comment_step = run.step("Comment the plan on the pull request")
    assert comment_step.outcome == "success" and "no comment was posted" in comment_step.stdout
    assert len(threads) == 1
    team.git("checkout", "--", ".")

    main = azure_pipeline(team, "IndividualCI", "refs/heads/main", collection)
    assert main.run_job("plan", team.folder("main-plan")) is None
    assert_ok(main.run_job("apply", team.folder("main")))
    assert len(state_resources(team.origin_file("images/golden/aibplan.state.json"))) == 4
    message = team.git("--git-dir", str(team.origin), "log", "-1", "--format=%s", "main", cwd=team.origin)
    assert message.endswith("***NO_CI***")

    nightly = azure_pipeline(team, "Schedule", "refs/heads/main", collection)
    assert_ok(nightly.run_job("drift", team.folder("night-1")))
    drift_the_gallery(emulator, team)
    run = nightly.run_job("drift", team.folder("night-2"))
    assert run is not None and not run.ok and run.step("Drift check").exit_code == 2
