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


def identity_file(name: str, **tags: str) -> dict[str, object]:
    return {
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "apiVersion": "2023-01-31",
        "name": name,
        "location": "westus2",
        **({"tags": tags} if tags else {}),
    }


def tag(path: Path, **tags: str) -> None:
    def edit(document: object) -> None:
        resource = document[0] if isinstance(document, list) else document
        assert isinstance(resource, dict)
        resource.setdefault("tags", {}).update(tags)

    edit_json(path, edit)  # type: ignore[arg-type]


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def test_branches_that_applied_different_resources_several_times_merge_cleanly_and_plan_clean(
    repo: Path, cli: Callable[..., Run], tmp_path: Path
) -> None:
    base = load_state(repo / "aibplan.state.json")
    assert base is not None
    # One branch: a new identity, applied three times (the last one a saved plan).
    git(repo, "checkout", "-qb", "add-identity")
    write(repo / "ci-identity.json", identity_file("ciRunner"))
    assert cli("apply", "--auto-approve", str(repo)).exit_code == 0
    write(repo / "ci-identity.json", identity_file("ciRunner", team="ci"))
    assert cli("apply", "--auto-approve", str(repo)).exit_code == 0
    write(repo / "ci-identity.json", identity_file("ciRunner", team="ci", cost="shared"))
    plan_file = tmp_path / "identity.plan"
    assert cli("plan", "--out", str(plan_file), str(repo)).exit_code == 0
    assert cli("apply", str(plan_file)).exit_code == 0
    commit(repo, "identity for CI")
    theirs = load_state(repo / "aibplan.state.json")
    assert theirs is not None and theirs.serial > base.serial + 3

    # The other branch, from main: a new gallery, a tag on an existing one, and a build recorded.
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "team-gallery")
    write(
        repo / "team-gallery.json",
        {
            "type": "Microsoft.Compute/galleries",
            "apiVersion": "2024-03-03",
            "name": "teamImages",
            "location": "westus2",
        },
    )
    tag(repo / "gallery.json", cost="images")
    run = cli("apply", "--auto-approve", str(repo))
    assert run.exit_code == 0 and "1 added, 1 changed" in run.stdout, run.stdout
    assert cli("run", "imageTemplate.ubuntu2204", str(repo)).exit_code == 0
    commit(repo, "team gallery, and a build")
    ours = load_state(repo / "aibplan.state.json")
    assert ours is not None and ours.serial == base.serial + 3

    merged = git(repo, "merge", "--no-edit", "add-identity", check=False)
    assert merged.returncode == 0 and "CONFLICT" not in merged.stdout, merged.stdout + merged.stderr
    state = load_state(repo / "aibplan.state.json")
    assert state is not None
    assert {"identity.ciRunner", "gallery.teamImages"} <= set(state.by_address)
    assert state.get("imageTemplate.ubuntu2204").extra  # type: ignore[union-attr]
    assert state.serial == max(ours.serial, theirs.serial)
    for flags in ((), ("--no-refresh",)):
        run = cli("plan", "--detailed-exitcode", *flags, str(repo))
        assert run.exit_code == 0, run.stdout + run.stderr
        assert "AIB8101" not in run.stdout + run.stderr
    # The next apply writes the merged state under a higher serial.
    (repo / "ci-identity.json").unlink()
    assert cli("apply", "--auto-approve", str(repo)).exit_code == 0
    after = load_state(repo / "aibplan.state.json")
    assert after is not None and after.serial == state.serial + 1
    assert after.removed == {"identity.ciRunner": after.serial}


def test_a_branch_that_has_not_seen_another_branchs_apply_neither_calls_it_drift_nor_reverts_it(
    repo: Path, cli: Callable[..., Run]
) -> None:
    git(repo, "checkout", "-qb", "retag")
    tag(repo / "ubuntu2204.json", owner="image-team")
    assert cli("apply", "--auto-approve", str(repo)).exit_code == 0
    commit(repo, "the template belongs to the image team")

    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "elsewhere")
    said = "imageTemplate.ubuntu2204 was changed by an apply on branch retag ("
    run = cli("plan", "--detailed-exitcode", str(repo))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "No changes." in run.stdout and "changed outside" not in run.stdout
    shown = run.stdout + run.stderr
    assert said in shown and "left as that apply made it; merge it to take it in" in shown
    drift = cli("drift", str(repo))
    assert drift.exit_code == 0 and said in drift.stdout + drift.stderr
    applied = cli("apply", "--auto-approve", str(repo))
    assert applied.exit_code == 0 and "No changes." in applied.stdout
    cloud = cli("sim", "show", "imageTemplate.ubuntu2204", str(repo))
    assert '"owner": "image-team"' in cloud.stdout, "the other branch's change stands"

    # This branch changing the template too is stopped until the other branch is merged.
    tag(repo / "ubuntu2204.json", owner="someone-else")
    stopped = cli("plan", str(repo))
    assert stopped.exit_code == 1
    shown = stopped.stdout + stopped.stderr
    assert said in shown and "this branch changes it too: merge that branch first" in shown
    git(repo, "checkout", "--", "ubuntu2204.json")

    merged = git(repo, "merge", "--no-edit", "retag", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    clean = cli("plan", "--detailed-exitcode", str(repo))
    assert clean.exit_code == 0 and "AIB8101" not in clean.stdout + clean.stderr, clean.stdout + clean.stderr


def test_a_resource_destroyed_on_another_branch_is_not_created_again(
    repo: Path, cli: Callable[..., Run]
) -> None:
    write(repo / "ci-identity.json", identity_file("ciRunner"))
    assert cli("apply", "--auto-approve", str(repo)).exit_code == 0
    commit(repo, "identity for CI")
    git(repo, "checkout", "-qb", "drop-identity")
    (repo / "ci-identity.json").unlink()
    assert cli("apply", "--auto-approve", str(repo)).exit_code == 0
    commit(repo, "no CI identity any more")

    git(repo, "checkout", "-q", "main")
    run = cli("plan", "--detailed-exitcode", str(repo))
    assert run.exit_code == 0, run.stdout + run.stderr
    shown = run.stdout + run.stderr
    assert "identity.ciRunner was destroyed by an apply on branch drop-identity (" in shown
    assert "not created again" in shown and "deleted outside" not in shown


def refused_naming(cli: Callable[..., Run], repo: Path) -> str:
    """What every command says of a state file with conflict markers (the same, and no traceback)."""
    said = set()
    for command in (("plan",), ("apply", "--auto-approve"), ("state", "list")):
        run = cli(*command, str(repo))
        assert run.exit_code == 1
        assert "merge-conflict marker" in run.stderr and "Resolve the conflict" in run.stderr
        assert "Traceback" not in run.stderr
        said.add(run.stderr)
    assert len(said) == 1
    return said.pop()


def test_a_conflicted_merge_names_the_resource_both_branches_changed(
    repo: Path, cli: Callable[..., Run]
) -> None:
    # One branch builds the template (its build record), the other retags it: both change its entry.
    git(repo, "checkout", "-qb", "build")
    assert cli("run", "imageTemplate.ubuntu2204", str(repo)).exit_code == 0
    commit(repo, "a build")
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "retag")
    tag(repo / "ubuntu2204.json", owner="beta")
    assert cli("apply", "--auto-approve", str(repo)).exit_code == 0
    commit(repo, "owner beta")
    merged = git(repo, "merge", "--no-edit", "build", check=False)
    assert (
        merged.returncode != 0 and "CONFLICT (content): Merge conflict in aibplan.state.json" in merged.stdout
    )
    said = refused_naming(cli, repo)
    assert "(1 conflict(s), in imageTemplate.ubuntu2204)" in said, said


def test_a_conflict_between_two_new_resources_names_them_not_their_neighbour(
    repo: Path, cli: Callable[..., Run]
) -> None:
    # Both branches add an identity that sorts right after identity.aibBuilder: the same place in the list.
    for branch, name in (("ci-a", "ciRunnerA"), ("ci-b", "ciRunnerB")):
        git(repo, "checkout", "-q", "main")
        git(repo, "checkout", "-qb", branch)
        write(repo / f"{name}.json", identity_file(name))
        assert cli("apply", "--auto-approve", str(repo)).exit_code == 0
        commit(repo, name)
    merged = git(repo, "merge", "--no-edit", "ci-a", check=False)
    assert merged.returncode != 0 and "CONFLICT" in merged.stdout
    said = refused_naming(cli, repo)
    assert (
        "in identity.ciRunnerB, identity.ciRunnerA)" in said
        or "in identity.ciRunnerA, identity.ciRunnerB)" in said
    )
    assert "identity.aibBuilder" not in said and "imageDefinition" not in said
