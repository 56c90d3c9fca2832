"""Every file in the stack folder is accounted for: read, or ignored with a reason `validate -v` shows, or
an error. A file left out without a word is a resource the next apply destroys.

The scenarios use real folders, links, permissions, a named pipe and a device, and run the aibplan program
as a separate process (with a deadline, and with its memory capped where a bad reader would read without
end).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from planner.stack.loader.loading import MAX_FILE_BYTES
from tests.helpers import cloud_count
from tests.helpers.processes import aibplan, aibplan_here, applied_example, error_lines

CI_IDENTITY = {
    "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "apiVersion": "2023-01-31",
    "name": "ciRunner",
    "location": "westus2",
}
ONE_GIB = 1 << 30


@pytest.fixture(scope="module")
def quickstart_applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return applied_example("quickstart", tmp_path_factory.mktemp("applied"))


@pytest.fixture
def root(quickstart_applied: Path, tmp_path: Path) -> Path:
    """A copy of the applied quickstart (files, state, local cloud) for one test."""
    return Path(shutil.copytree(quickstart_applied, tmp_path / "quickstart", symlinks=True))


def listing(done: subprocess.CompletedProcess[str]) -> list[str]:
    """The `-v` lines that account for the stack folder's paths."""
    return [line for line in done.stderr.splitlines() if line.startswith(("read    ", "ignored "))]


def as_restricted_user() -> Sequence[str]:
    """How to run the program so that file permissions apply to it. Root reads a chmod 000 folder anyway,
    so as root the program runs without the two capabilities that let it (setpriv, util-linux)."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root, and without setpriv root cannot be kept out of a chmod 000 folder")
    wrapper = (setpriv, "--bounding-set=-dac_override,-dac_read_search", "--")
    probe = subprocess.run([*wrapper, "true"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"running as root, and setpriv cannot drop capabilities here: {probe.stderr.strip()}")
    return wrapper


def test_validate_v_lists_what_was_read_and_what_was_ignored_and_why(root: Path) -> None:
    (root / "README.md").write_text("# images\n")
    (root / "ci").mkdir()
    (root / "ci" / "prod.parameters.json").write_text(json.dumps({"parameters": {}}))
    done = aibplan("validate", "-v", ".", cwd=root)
    assert done.returncode == 0, done.stderr
    assert listing(done) == [
        "ignored .aibplan/: hidden",
        "ignored README.md: not a .json file",
        "read    aibplan.json: the stack's settings",
        "ignored aibplan.state.json: the state file (read as the state, not as resources)",
        "ignored ci/prod.parameters.json: named like a parameters file (read only when given with "
        "--var-file)",
        "read    gallery.json: a resource file",
        "read    identity.json: a resource file",
        "read    permissions.json: a resource file",
        "ignored scripts/install-tools.sh: not a .json file",
        "ignored scripts/motd.txt: not a .json file",
        "read    ubuntu2204.json: a resource file",
    ]
    assert listing(aibplan_here("validate", ".", cwd=root)) == []


def test_an_unreadable_folder_is_an_error_and_nothing_it_held_is_destroyed(root: Path) -> None:
    wrapper = as_restricted_user()
    (root / "team").mkdir()
    (root / "team" / "ci-identity.json").write_text(json.dumps(CI_IDENTITY))
    aibplan_here("apply", "--auto-approve", ".", cwd=root)
    assert cloud_count(root) == 8
    (root / "team").chmod(0)
    try:
        for command in (("validate", "."), ("apply", "--auto-approve", ".")):
            done = aibplan(*command, cwd=root, wrapper=wrapper)
            assert done.returncode == 1, done.stdout + done.stderr
            assert "error AIB0002 cannot read the folder team: permission denied" in done.stderr
        assert cloud_count(root) == 8
        (root / "team").chmod(0o755)
        (root / "team" / "ci-identity.json").chmod(0)
        done = aibplan("apply", "--auto-approve", ".", cwd=root, wrapper=wrapper)
        assert done.returncode == 1
        assert "error AIB0002 cannot read team/ci-identity.json: permission denied" in done.stderr
        assert cloud_count(root) == 8
    finally:
        (root / "team").chmod(0o755)
        (root / "team" / "ci-identity.json").chmod(0o644)


def test_a_linked_folder_is_followed_and_a_loop_is_read_once(root: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared-identities"
    shared.mkdir()
    (shared / "ci-identity.json").write_text(json.dumps(CI_IDENTITY))
    (root / "team").symlink_to(shared, target_is_directory=True)
    (shared / "back").symlink_to(shared, target_is_directory=True)
    (root / "team-again").symlink_to(root / "team", target_is_directory=True)

    done = aibplan("validate", "-v", ".", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "Success! 8 resource(s) checked" in done.stdout
    lines = listing(done)
    assert f"read    team/: a folder (a link to {shared}), followed" in lines
    assert "read    team/ci-identity.json: a resource file" in lines
    assert (
        "ignored team/back/: a link back to a folder above it (a loop) to team, which is read once" in lines
    )
    assert "ignored team-again/: a second way to team, which is read once" in lines

    done = aibplan("apply", "--auto-approve", ".", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "Resources: 1 added, 0 changed, 0 replaced, 0 destroyed." in done.stdout
    assert cloud_count(root) == 8


def test_a_link_to_nothing_is_an_error(root: Path, tmp_path: Path) -> None:
    """A linked folder whose target went away (an unmounted share, a moved checkout): its resources would
    otherwise be destroyed by the next apply."""
    (root / "team").symlink_to(tmp_path / "gone", target_is_directory=True)
    done = aibplan("apply", "--auto-approve", ".", cwd=root)
    assert done.returncode == 1
    assert f"error AIB0002 cannot read team (a link to {tmp_path / 'gone'}): no such file or directory" in (
        done.stderr
    )
    assert cloud_count(root) == 7


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(root: Path) -> None:
    os.mkfifo(root / "pipe.json")
    done = aibplan("validate", ".", cwd=root, timeout=120)
    assert done.returncode == 1
    assert "error AIB0002 cannot read pipe.json: it is a named pipe (FIFO), not a file" in done.stderr
    assert stat.S_ISFIFO(os.stat(root / "pipe.json").st_mode)

    (root / "pipe.json").unlink()
    (root / "aibplan.state.json").unlink()
    os.mkfifo(root / "aibplan.state.json")
    done = aibplan("plan", ".", cwd=root, timeout=120)
    assert done.returncode == 1
    assert error_lines(done) == [
        "Error: cannot read state file aibplan.state.json: aibplan.state.json is not a regular file"
    ]


def test_a_file_linked_to_dev_zero_is_refused_without_reading_it(root: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("this system has no /dev/zero")
    (root / "zeros.json").symlink_to("/dev/zero")
    done = aibplan("validate", ".", cwd=root, timeout=120, max_memory=ONE_GIB)
    assert done.returncode == 1, done.stderr[-2000:]
    [line] = [x for x in error_lines(done) if "AIB0002" in x]
    assert "cannot read zeros.json (a link to /dev/zero): it is a character device, not a file" in line


def test_an_absurdly_large_file_is_refused_before_it_is_read(root: Path) -> None:
    with open(root / "backup-of-disk.json", "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk space used
    done = aibplan("validate", ".", cwd=root, timeout=120, max_memory=ONE_GIB)
    assert done.returncode == 1
    expected = (
        "error AIB0002 cannot read backup-of-disk.json: it is 64 MiB; a stack file may hold 64 MiB at most"
    )
    assert expected in done.stderr


def test_resources_in_a_file_left_out_for_its_name_are_a_warning(root: Path) -> None:
    (root / "build.plan.json").write_text(json.dumps(CI_IDENTITY))
    (root / "team.jsonc").write_text("// the team's identity\n" + json.dumps([CI_IDENTITY]))
    done = aibplan("plan", "-v", ".", cwd=root)
    assert done.returncode == 0, done.stderr
    shown = done.stdout + done.stderr
    for line in (
        "warning AIB0011 build.plan.json holds resources but is not read: its name ends in .plan.json",
        "warning AIB0011 team.jsonc holds resources but is not read: only files ending in .json are read",
        "hint: rename it to NAME.json to manage its resources",
    ):
        assert line in shown, shown
    assert "ignored build.plan.json: named like a saved plan (aibplan plan --out)" in listing(done)
