"""The plan cache (operations.plan_cache): a plan that proposes nothing, asked again with nothing changed, is
answered after the cloud is read again; any change of any input makes the plan in full, and what a plan
then says is what a plan made with no cache says.

Each plan runs in its own process, as a user's does: `--verbose` says when the cache answered."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from planner.execution.state_access import StackState
from planner.operations import plan_cache
from planner.operations.read_only import PlanRequest, StackRequest
from planner.operations.stack_settings import settings_only
from providers.base import ResourceRef
from tests.helpers import EXAMPLES
from tests.helpers.processes import aibplan, applied_example

ANSWERED = "plan cache: the stack, the state and the cloud are as the last plan found them"
CACHE = Path(".aibplan") / plan_cache.CACHE_FILE


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return applied_example("quickstart", tmp_path_factory.mktemp("applied"))


@pytest.fixture
def stack(applied: Path, tmp_path: Path) -> Path:
    """The applied quickstart (its state and its local cloud), one copy per test, with the cache kept."""
    root = tmp_path / "quickstart"
    shutil.copytree(applied, root, symlinks=True)
    first = plan(root, "--detailed-exitcode")
    assert first.returncode == 0, first.stdout + first.stderr
    assert ANSWERED not in first.stderr
    assert (root / CACHE).is_file()
    return root


def plan(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return aibplan("plan", "--verbose", *args, cwd=root, env=env)


def fresh(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The same plan made with no cache to answer it."""
    (root / CACHE).unlink(missing_ok=True)
    done = plan(root, *args, env=env)
    assert ANSWERED not in done.stderr
    return done


def test_the_same_plan_again_is_answered_and_says_the_same(stack: Path) -> None:
    made = fresh(stack, "--detailed-exitcode")
    again = plan(stack, "--detailed-exitcode")
    assert again.returncode == 0
    assert ANSWERED in again.stderr
    assert again.stdout == made.stdout
    assert "No changes." in again.stdout


def test_every_view_of_an_answered_plan_is_the_view_of_the_plan_made_in_full(stack: Path) -> None:
    for view in (("--json",), ("--format", "markdown")):
        made = fresh(stack, *view)
        again = plan(stack, *view)
        assert ANSWERED in again.stderr
        assert again.stdout == made.stdout
        assert again.returncode == made.returncode == 0


def _edit_gallery(root: Path) -> None:
    gallery = root / "gallery.json"
    gallery.write_text(gallery.read_text().replace('"description": "', '"description": "Changed: ', 1))


def _add_identity(root: Path) -> None:
    identity = json.loads((root / "identity.json").read_text())
    identity["name"] = identity["name"] + "-second"
    (root / "second-identity.json").write_text(json.dumps(identity))


def _rename_file(root: Path) -> None:
    (root / "identity.json").rename(root / "the-identity.json")


def _move_into_folder(root: Path) -> None:
    (root / "more").mkdir()
    (root / "identity.json").rename(root / "more" / "identity.json")


def _remove_file(root: Path) -> None:
    (root / "permissions.json").unlink()


def _jsonc_with_resources(root: Path) -> None:
    shutil.copy(root / "identity.json", root / "extra.jsonc")


def _settings_comment(root: Path) -> None:
    settings = root / "aibplan.json"
    settings.write_text("// the same settings, said again\n" + settings.read_text())


def _other_file(root: Path) -> None:
    (root / "NOTES.md").write_text("not read, but seen\n")


def _state_entry_removed(root: Path) -> None:
    done = aibplan("state", "rm", "identity.aibBuilder", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr


def _cloud_changed(root: Path) -> None:
    done = aibplan("sim", "set-tag", "gallery.corpImages", "owner=portal", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr


def _cloud_deleted(root: Path) -> None:
    done = aibplan("sim", "delete", "identity.aibBuilder", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "flip",
    [
        _edit_gallery,
        _add_identity,
        _rename_file,
        _move_into_folder,
        _remove_file,
        _jsonc_with_resources,
        _settings_comment,
        _other_file,
        _state_entry_removed,
        _cloud_changed,
        _cloud_deleted,
    ],
    ids=lambda flip: flip.__name__.strip("_"),
)
def test_a_change_of_any_input_makes_the_plan_in_full(stack: Path, flip: Callable[[Path], None]) -> None:
    flip(stack)
    after = plan(stack, "--detailed-exitcode")
    assert ANSWERED not in after.stderr
    made = fresh(stack, "--detailed-exitcode")
    assert (after.returncode, after.stdout) == (made.returncode, made.stdout)


def test_what_the_flips_change_is_seen(stack: Path) -> None:
    _edit_gallery(stack)
    edited = plan(stack, "--detailed-exitcode")
    assert edited.returncode == 2 and "1 to change" in edited.stdout
    _cloud_changed(stack)
    drifted = plan(stack)
    assert "changed outside of aibplan" in drifted.stdout.lower() or "owner" in drifted.stdout


@pytest.mark.parametrize(
    "options",
    [
        ("--no-refresh",),
        ("--refresh-only",),
        ("--destroy",),
        ("--target", "gallery.corpImages"),
        ("--replace", "identity.aibBuilder"),
    ],
    ids=lambda options: options[0].strip("-"),
)
def test_other_options_are_another_plan(stack: Path, options: tuple[str, ...]) -> None:
    other = plan(stack, *options)
    assert ANSWERED not in other.stderr
    made = fresh(stack, *options)
    assert (other.returncode, other.stdout) == (made.returncode, made.stdout)


def test_an_environment_variable_of_aibplan_is_an_input(stack: Path) -> None:
    other = plan(stack, env={"AIBPLAN_PARALLELISM": "3"})
    assert ANSWERED not in other.stderr
    assert ANSWERED in plan(stack, env={"AIBPLAN_PARALLELISM": "3"}).stderr
    assert ANSWERED not in plan(stack).stderr


def test_a_corrupt_cache_file_is_ignored_and_written_anew(stack: Path) -> None:
    (stack / CACHE).write_text('{"format": 1, "key": ')
    done = plan(stack, "--detailed-exitcode")
    assert done.returncode == 0 and ANSWERED not in done.stderr
    assert ANSWERED in plan(stack).stderr


def test_a_cache_file_holding_something_else_is_ignored(stack: Path) -> None:
    header, calls, kept = (stack / CACHE).read_text().splitlines()
    document = json.loads(kept)
    document["changes"][0]["action"] = "delete-everything"
    (stack / CACHE).write_text("\n".join([header, calls, json.dumps(document)]) + "\n")
    done = plan(stack, "--detailed-exitcode")
    assert done.returncode == 0 and ANSWERED not in done.stderr and "No changes." in done.stdout


def test_a_plan_with_changes_is_not_kept(stack: Path) -> None:
    _edit_gallery(stack)
    (stack / CACHE).unlink()
    assert plan(stack).returncode == 0
    assert not (stack / CACHE).exists()


def test_a_saved_plan_is_always_made_in_full(stack: Path) -> None:
    done = plan(stack, "--out", "check.plan.json")
    assert done.returncode == 0, done.stderr
    assert ANSWERED not in done.stderr
    applied = aibplan("apply", "check.plan.json", cwd=stack)
    assert applied.returncode == 0, applied.stdout + applied.stderr


def test_a_plan_while_another_command_holds_the_lock_says_so(stack: Path) -> None:
    with StackState(settings_only(stack)) as store:
        held = store.lock("apply")
        try:
            done = plan(stack)
        finally:
            held.release()
    assert done.returncode == 0
    assert "holds the state lock" in done.stdout + done.stderr
    assert ANSWERED not in done.stderr


def _arm_stack(tmp_path: Path) -> Path:
    root = tmp_path / "arm"
    shutil.copytree(
        EXAMPLES / "arm-deployment", root, ignore=shutil.ignore_patterns(".aibplan", "*.state.json*")
    )
    for env in ("dev", "prod"):
        done = aibplan("apply", "--auto-approve", "--env", env, cwd=root)
        assert done.returncode == 0, done.stdout + done.stderr
    return root


def test_variables_var_files_and_environments_are_inputs(tmp_path: Path) -> None:
    root = _arm_stack(tmp_path)
    for env in ("dev", "prod"):
        assert ANSWERED not in plan(root, "--env", env).stderr
        assert ANSWERED in plan(root, "--env", env).stderr  # each environment keeps its own
    same = ("--env", "dev", "--var", "imageTemplateName=ubuntu2204-base")  # the default, given
    assert ANSWERED not in plan(root, *same).stderr
    assert ANSWERED in plan(root, *same).stderr
    renamed = plan(root, "--env", "dev", "--var", "imageTemplateName=renamed-template")
    assert ANSWERED not in renamed.stderr and "renamed-template" in renamed.stdout
    parameters = root / "prod.parameters.json"
    assert ANSWERED in plan(root, "--env", "prod").stderr
    parameters.write_text(parameters.read_text().replace("{", "{ ", 1))
    assert ANSWERED not in plan(root, "--env", "prod").stderr


def _with_parameter(root: Path, name: str, declaration: dict[str, object]) -> None:
    pipeline = root / "pipeline.json"
    text = pipeline.read_text()
    pipeline.write_text(
        text.replace('"parameters": {', '"parameters": {' + json.dumps({name: declaration})[1:-1] + ",", 1)
    )


@pytest.mark.parametrize(
    "name, declaration",
    [
        ("stamp", {"type": "string", "defaultValue": "[utcNow()]"}),
        ("token", {"type": "string", "defaultValue": "[newGuid()]"}),
        ("adminPassword", {"type": "securestring", "defaultValue": "Not-Kept-9f8e7d"}),
    ],
    ids=["utcNow", "newGuid", "securestring"],
)
def test_a_stack_whose_load_is_not_the_same_each_time_or_holds_a_secret_is_not_kept(
    tmp_path: Path, name: str, declaration: dict[str, object]
) -> None:
    root = _arm_stack(tmp_path)
    _with_parameter(root, name, declaration)
    done = plan(root, "--env", "dev")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        not (root / ".aibplan" / "dev" / plan_cache.CACHE_FILE).exists()
        or ANSWERED not in plan(root, "--env", "dev").stderr
    )
    assert ANSWERED not in plan(root, "--env", "dev").stderr


def test_the_code_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    request = PlanRequest(StackRequest(tmp_path))
    before = plan_cache.request_key(request, tmp_path, {})
    monkeypatch.setattr(plan_cache, "code_version", lambda: "0.0.0+another")
    assert plan_cache.request_key(request, tmp_path, {}) != before


def test_the_source_fingerprint_changes_with_any_source_file(tmp_path: Path) -> None:
    for package in plan_cache._SOURCES:
        (tmp_path / package / "inner").mkdir(parents=True)
        (tmp_path / package / "inner" / "module.py").write_text("VALUE = 1\n")
    first = plan_cache.source_fingerprint(tmp_path)
    assert plan_cache.source_fingerprint(tmp_path) == first
    module = tmp_path / "state" / "inner" / "module.py"
    module.write_text("VALUE = 22\n")
    assert plan_cache.source_fingerprint(tmp_path) != first
    edited = plan_cache.source_fingerprint(tmp_path)
    module.write_text("VALUE = 33\n")  # the same size: told apart by the time it was written
    info = module.stat()
    os.utime(module, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))
    assert plan_cache.source_fingerprint(tmp_path) != edited
    second = plan_cache.source_fingerprint(tmp_path)
    (tmp_path / "planner" / "new.py").write_text("")
    assert plan_cache.source_fingerprint(tmp_path) != second
    (tmp_path / "planner" / "notes.txt").write_text("not source")
    third = plan_cache.source_fingerprint(tmp_path)
    (tmp_path / "planner" / "notes.txt").write_text("still not source")
    assert plan_cache.source_fingerprint(tmp_path) == third


class _Cloud:
    """A provider answering reads from a dict (with `fingerprints`, it says what it would answer too)."""

    name = "fake"

    def __init__(self, bodies: dict[str, Any], *, fingerprints: bool) -> None:
        self.bodies = bodies
        self.changes_while_read = False
        if fingerprints:
            self.read_many_fingerprint = self._fingerprint

    def describe(self) -> str:
        return "fake"

    def read_many(self, refs: Any) -> dict[str, Any]:
        answer = {ref.arm_id: self.bodies.get(ref.arm_id) for ref in refs}
        if self.changes_while_read:
            self.bodies["/a"] = {"tags": {"changed": "meanwhile"}}
        return answer

    def _fingerprint(self, refs: Any) -> str:
        return json.dumps([self.bodies.get(ref.arm_id) for ref in refs])


_REFS = [ResourceRef("/a", "T", "1"), ResourceRef("/b", "T", "1")]


@pytest.mark.parametrize("fingerprints", [True, False], ids=["hashed by the cloud", "hashed here"])
def test_each_answer_of_the_cloud_is_compared_again(fingerprints: bool) -> None:
    cloud = _Cloud({"/a": {"tags": {}}, "/b": None}, fingerprints=fingerprints)
    recorder = plan_cache.RecordingProvider(cloud)  # type: ignore[arg-type]
    assert recorder.read_many(_REFS) == {"/a": {"tags": {}}, "/b": None}
    assert recorder.keepable
    assert plan_cache.same_answers(cloud, recorder.calls)  # type: ignore[arg-type]
    cloud.bodies["/b"] = {"tags": {"new": "1"}}
    assert not plan_cache.same_answers(cloud, recorder.calls)  # type: ignore[arg-type]


def test_a_change_while_the_cloud_is_read_is_not_kept() -> None:
    cloud = _Cloud({"/a": {"tags": {}}}, fingerprints=True)
    cloud.changes_while_read = True
    recorder = plan_cache.RecordingProvider(cloud)  # type: ignore[arg-type]
    recorder.read_many(_REFS)
    assert not recorder.keepable


def test_a_write_through_the_recorder_is_not_kept() -> None:
    class Writable(_Cloud):
        def delete(self, ref: ResourceRef) -> None:
            self.bodies.pop(ref.arm_id, None)

    cloud = Writable({"/a": {}}, fingerprints=False)
    recorder = plan_cache.RecordingProvider(cloud)  # type: ignore[arg-type]
    recorder.delete(_REFS[0])
    assert not recorder.keepable


def test_a_link_to_nothing_in_the_stack_folder_is_an_input_not_a_traceback(stack: Path) -> None:
    (stack / "gone.json").symlink_to(stack / "does-not-exist.json")
    after = plan(stack)
    assert "Traceback" not in after.stderr
    assert ANSWERED not in after.stderr
    made = fresh(stack)
    assert (after.returncode, after.stdout) == (made.returncode, made.stdout)
