"""A state committed to git, changed on two branches by applies of different resources, merged by git.

Without a conflict the merged state loads and plans as "no changes"; with one, the error says what to do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from state import load_state
from tests.helpers import Run, edit_json

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, env={**os.environ, **GIT_ENV}, check=check
    )


def write(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


@pytest.fixture
def repo(example: Callable[[str], Path], cli: Callable[..., Run]) -> Path:
    root = example("quickstart")
    (root / ".gitignore").write_text(".aibplan/\n*.backup\n")
    git(root, "init", "-q", "-b", "main")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


def test_applies_of_different_resources_merge_cleanly_and_plan_as_no_changes(
    repo: Path, cli: Callable[..., Run]
) -> None:
    git(repo, "checkout", "-qb", "add-identity")
    write(
        repo / "ci-identity.json",
        {
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
            "apiVersion": "2023-01-31",
            "name": "ciRunner",
            "location": "westus2",
        },
    )
    assert cli("apply", "--auto-approve", str(repo)).exit_code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "identity for CI")

    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "add-gallery")
    write(
        repo / "team-gallery.json",
        {
            "type": "Microsoft.Compute/galleries",
            "apiVersion": "2024-03-03",
            "name": "teamImages",
            "location": "westus2",
        },
    )
    run = cli("apply", "--auto-approve", str(repo))
    assert run.exit_code == 0 and "1 added" in run.stdout
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "team gallery")

    merged = git(repo, "merge", "-q", "--no-edit", "add-identity", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    state = load_state(repo / "aibplan.state.json")
    assert state is not None
    assert {"identity.ciRunner", "gallery.teamImages"} <= set(state.by_address)
    for flags in ((), ("--no-refresh",)):
        run = cli("plan", "--detailed-exitcode", *flags, str(repo))
        assert run.exit_code == 0, run.stdout + run.stderr
    # The next apply writes the merged state under a higher serial.
    (repo / "ci-identity.json").unlink()
    assert cli("apply", "--auto-approve", str(repo)).exit_code == 0
    after = load_state(repo / "aibplan.state.json")
    assert after is not None and after.serial > state.serial


def test_a_conflicted_merge_says_how_to_resolve_it(repo: Path, cli: Callable[..., Run]) -> None:
    for branch, owner in (("team-a", "alpha"), ("team-b", "beta")):
        git(repo, "checkout", "-q", "main")
        git(repo, "checkout", "-qb", branch)
        edit_json(repo / "ubuntu2204.json", lambda d, o=owner: d["tags"].update(owner=o))  # type: ignore[misc]
        assert cli("apply", "--auto-approve", str(repo)).exit_code == 0
        git(repo, "commit", "-qam", f"owner {owner}")
    merged = git(repo, "merge", "--no-edit", "team-a", check=False)
    assert merged.returncode != 0 and "CONFLICT" in merged.stdout
    git(repo, "checkout", "--theirs", "--", "ubuntu2204.json")  # the stack takes one side
    for command in (("plan",), ("apply", "--auto-approve"), ("state", "list")):
        run = cli(*command, str(repo))
        assert run.exit_code == 1
        assert "merge-conflict marker" in run.stderr and "Resolve the conflict" in run.stderr
        assert "in imageTemplate.ubuntu2204" in run.stderr
        assert "Traceback" not in run.stderr
