"""The operations layer called as a library (no command line): requests in, frozen results out, questions
through `confirm`, progress through Hooks, interrupts through Stop; nothing printed, nothing exited."""

from __future__ import annotations

import dataclasses
import gc
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from planner import operations as ops
from planner.diagnostics import EngineError
from planner.execution.engine import read_state
from planner.execution.portal import Portal
from planner.hooks import RecordingHooks
from planner.stack.loader import load_stack
from providers.simulated.local import LocalProvider
from state import load_state
from state.lock import read_holder
from tests.helpers import cloud_count, edit_json

TEMPLATE = "imageTemplate.ubuntu2204"


class Answers:
    """A confirm callback that answers as told and remembers the questions."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def __call__(self, question: str) -> bool:
        self.asked.append(question)
        return self.answer


def stack_of(root: Path) -> ops.StackRequest:
    return ops.StackRequest(root)


def apply_all(root: Path, **options: object) -> ops.ApplyOutcome:
    request = ops.ApplyRequest(ops.PlanRequest(stack_of(root)), ops.ApplyOptions(**options))  # type: ignore[arg-type]
    return ops.apply(request)


def set_tag_in_cloud(root: Path, address: str, key: str, value: str) -> None:
    """Change the cloud behind the state's back, as `aibplan sim set-tag` does."""
    stack, _ = load_stack(root)
    assert stack is not None
    provider = LocalProvider(stack.runtime_dir)
    try:
        Portal(provider.service, stack, read_state(stack)[0]).set_tags(address, {key: value})
    finally:
        provider.close()


def test_results_are_frozen_values(example: Callable[[str], Path]) -> None:
    result = ops.plan(ops.PlanRequest(stack_of(example("quickstart"))))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.plan = result.plan  # type: ignore[misc]


def test_plan_changes_nothing_and_says_what_apply_would_do(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    result = ops.plan(ops.PlanRequest(stack_of(root)))
    assert dataclasses.astuple(result.plan.summary) == (7, 0, 0, 0)
    assert result.saved is None
    assert not (root / "aibplan.state.json").exists() and cloud_count(root) == 0


def test_apply_shows_the_plan_then_asks_then_applies(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    hooks = RecordingHooks()
    answers = Answers(True)
    outcome = ops.apply(ops.ApplyRequest(ops.PlanRequest(stack_of(root))), answers, hooks)
    assert outcome.status is ops.ApplyStatus.APPLIED and outcome.ok
    assert outcome.applied is not None and outcome.applied.added == 7
    assert answers.asked == ["Do you want to perform these actions?"]
    kinds = [event[0] for event in hooks.events]
    assert kinds[0] == "plan" and hooks.events[0][1] == "7 add, 0 change, 0 replace, 0 destroy"
    assert kinds.count("pre") == 7 and kinds.count("post") == 7
    state = load_state(root / "aibplan.state.json")
    assert state is not None and len(state.resources) == 7 and cloud_count(root) == 7
    assert read_holder(root / ".aibplan") is None

    again = Answers(True)
    outcome = ops.apply(ops.ApplyRequest(ops.PlanRequest(stack_of(root))), again)
    assert outcome.status is ops.ApplyStatus.NO_CHANGES and again.asked == []


def test_a_no_to_the_question_changes_nothing_and_releases_the_lock(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    outcome = ops.apply(ops.ApplyRequest(ops.PlanRequest(stack_of(root))), Answers(False))
    assert outcome.status is ops.ApplyStatus.DECLINED and not outcome.ok
    assert cloud_count(root) == 0 and not (root / "aibplan.state.json").exists()
    assert read_holder(root / ".aibplan") is None


def test_destroy_is_apply_of_a_destroy_plan(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    assert apply_all(root).ok
    answers = Answers(True)
    outcome = ops.destroy(ops.PlanRequest(stack_of(root)), confirm=answers)
    assert outcome.plan.destroy and outcome.applied is not None and outcome.applied.destroyed == 7
    assert answers.asked == ["Do you really want to destroy all resources?"]
    assert cloud_count(root) == 0


def test_refresh_takes_the_drift_into_the_state(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    assert apply_all(root).ok
    set_tag_in_cloud(root, "gallery.corpImages", "owner", "portal")
    answers = Answers(True)
    outcome = ops.refresh(stack_of(root), answers)
    assert outcome.status is ops.ApplyStatus.REFRESHED
    assert answers.asked == ["Would you like to update the state file to match these changes?"]
    assert outcome.refreshed is not None and outcome.refreshed.updated == ("gallery.corpImages",)
    entry = outcome.refreshed.state.get("gallery.corpImages")
    assert entry is not None and entry.observed["tags"]["owner"] == "portal"
    assert ops.refresh(stack_of(root)).status is ops.ApplyStatus.NO_CHANGES


def test_contradictory_options_and_unknown_addresses_stop_before_anything(
    example: Callable[[str], Path],
) -> None:
    root = example("quickstart")
    with pytest.raises(ops.OperationError, match="--refresh-only and --destroy cannot be used together"):
        ops.plan(ops.PlanRequest(stack_of(root), refresh_only=True, destroy=True))
    with pytest.raises(ops.OperationError) as raised:
        ops.plan(ops.PlanRequest(stack_of(root), targets=("imageTemplate.nope",)))
    assert "imageTemplate.nope" in str(raised.value)


def test_a_stack_with_errors_is_rejected_with_its_diagnostics(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    edit_json(root / "ubuntu2204.json", lambda d: d["properties"].update(buildTimeoutInMinutes=9999))
    with pytest.raises(ops.StackRejected) as raised:
        ops.apply(ops.ApplyRequest(ops.PlanRequest(stack_of(root))))
    assert any(d.is_error and d.address == TEMPLATE for d in raised.value.diagnostics)
    assert cloud_count(root) == 0 and read_holder(root / ".aibplan") is None


def test_a_stop_requested_before_the_changes_starts_none(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    stop = ops.Stop()
    stop.request()
    outcome = ops.apply(ops.ApplyRequest(ops.PlanRequest(stack_of(root))), ops.always, None, stop)
    assert outcome.interrupted and outcome.applied is not None and outcome.applied.added == 0
    assert {reason for _, reason in outcome.applied.skipped} == {"not started: interrupted"}
    assert cloud_count(root) == 0 and read_holder(root / ".aibplan") is None


def test_abort_releases_the_lock_the_operation_holds(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    stop = ops.Stop()
    seen: list[object] = []

    def confirm(question: str) -> bool:
        seen.append(read_holder(root / ".aibplan"))
        stop.abort()  # what a front end does on a second signal, before it leaves at once
        seen.append(read_holder(root / ".aibplan"))
        return False

    ops.apply(ops.ApplyRequest(ops.PlanRequest(stack_of(root))), confirm, None, stop)
    held, released = seen
    assert getattr(held, "operation", None) == "apply" and released is None


# -- saved plans ------------------------------------------------------------------------------------------


def test_a_saved_plan_applies_once_even_when_it_leaves_the_state_as_it_was(
    example: Callable[[str], Path], tmp_path: Path
) -> None:
    root = example("quickstart")
    assert apply_all(root).ok
    # Drift that the plan repairs: applying it puts the cloud back and leaves the state's resources as
    # they were, so without the plan's id on the entry it changed the state would not move.
    set_tag_in_cloud(root, TEMPLATE, "owner", "portal")
    plan_file = tmp_path / "repair.plan"
    made = ops.plan(ops.PlanRequest(stack_of(root), out=plan_file))
    assert made.saved is not None and made.plan.has_changes
    before = load_state(root / "aibplan.state.json")
    assert before is not None

    outcome = ops.apply_saved(ops.SavedApplyRequest(plan_file))
    assert outcome.status is ops.ApplyStatus.APPLIED and outcome.ok
    after = load_state(root / "aibplan.state.json")
    assert after is not None and after.get(TEMPLATE).saved_plan == made.saved.plan_id  # type: ignore[union-attr]
    assert after.serial > before.serial and after.digest != before.digest

    # The same file again, or the plan artifact on another machine whose checkout has the state as
    # committed after the apply (here: the folder copied, the local cloud with it): refused, nothing done.
    machine_b = tmp_path / "machine-b"
    shutil.copytree(root, machine_b / root.name)
    shutil.copy(plan_file, machine_b / plan_file.name)
    for again in (plan_file, machine_b / plan_file.name):
        hooks = RecordingHooks()
        with pytest.raises(ops.OperationError, match="it was applied already"):
            ops.apply_saved(ops.SavedApplyRequest(again), hooks)
        assert not [e for e in hooks.events if e[0] in ("pre", "plan")]
    assert load_state(root / "aibplan.state.json") == after


def test_show_reads_a_saved_plan_alone(example: Callable[[str], Path], tmp_path: Path) -> None:
    root = example("quickstart")
    plan_file = tmp_path / "a.plan"
    made = ops.plan(ops.PlanRequest(stack_of(root), out=plan_file))
    shutil.rmtree(root)  # show needs neither the stack nor the state
    shown = ops.show_saved_plan(plan_file)
    assert made.saved is not None and shown.saved.plan_id == made.saved.plan_id
    assert [c.address for c in shown.saved.plan.changes] == [c.address for c in made.plan.changes]
    assert all(c.body is None for c in shown.saved.plan.changes)


def test_the_saved_plan_file_is_not_the_json_view(example: Callable[[str], Path], tmp_path: Path) -> None:
    plan_file = tmp_path / "a.plan"
    ops.plan(ops.PlanRequest(stack_of(example("quickstart")), out=plan_file))
    document = json.loads(plan_file.read_text())
    assert document["kind"] == "aibplan-saved-plan" and document["format_version"] == "3"
    assert "resource_changes" not in document["plan"] and "changes" in document["plan"]
    assert all("body" not in change for change in document["plan"]["changes"])


@pytest.mark.parametrize(
    ("target", "what"),
    [
        ("aibplan.json", "the stack's aibplan.json"),
        ("aibplan.state.json", "the state file"),
        ("aibplan.state.json.backup", "the state file's backup"),
        ("gallery.json", "a file of the stack"),
        (".aibplan/plan", "aibplan's runtime folder"),
        ("../notes.txt", "an existing file that is not a saved plan"),
    ],
)
def test_plan_out_refuses_to_overwrite_what_is_not_a_saved_plan(
    example: Callable[[str], Path], target: str, what: str
) -> None:
    root = example("quickstart")
    assert apply_all(root).ok
    (root.parent / "notes.txt").write_text("keep me\n")
    path = root / target
    before = path.read_bytes() if path.exists() else None
    with pytest.raises(ops.OperationError, match=f"refusing to overwrite {what}"):
        ops.plan(ops.PlanRequest(stack_of(root), out=path))
    assert (path.read_bytes() if path.exists() else None) == before


def test_plan_out_replaces_an_earlier_saved_plan(example: Callable[[str], Path], tmp_path: Path) -> None:
    root = example("quickstart")
    plan_file = tmp_path / "a.plan"
    first = ops.plan(ops.PlanRequest(stack_of(root), out=plan_file))
    second = ops.plan(ops.PlanRequest(stack_of(root), out=plan_file))
    assert first.saved is not None and second.saved is not None
    assert json.loads(plan_file.read_text())["plan_id"] == second.saved.plan_id != first.saved.plan_id


# -- builds -----------------------------------------------------------------------------------------------


def test_apply_with_builds_and_the_outputs_of_the_last_good_build(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    outcome = apply_all(root, build=True)
    assert outcome.builds is not None and [o.result for o in outcome.builds.outcomes] == ["Succeeded"]
    shown = ops.outputs(ops.OutputsRequest(stack_of(root)))
    version = ops.artifact(shown, "ubuntu2204-sig")
    assert "/galleries/corpImages/images/ubuntu2204/versions/" in version

    stack, _ = load_stack(root)
    assert stack is not None
    provider = LocalProvider(stack.runtime_dir)
    try:
        provider.service.plant_build_fault(stack.by_address[TEMPLATE].arm_id, "Customizing")
    finally:
        provider.close()
    failed = ops.run(ops.BuildRequest(stack_of(root)))
    assert [o.result for o in failed.report.outcomes] == ["Failed"] and not failed.report.ok
    shown = ops.outputs(ops.OutputsRequest(stack_of(root)))
    (template,) = shown.templates
    assert template.record.run_state == "Failed"
    assert ops.artifact(shown, "ubuntu2204-sig") == version
    with pytest.raises(ops.OperationError, match="no run output 'nope'; known: ubuntu2204-sig"):
        ops.artifact(shown, "nope")


def test_rebuilding_a_base_image_names_the_images_built_from_it(example: Callable[[str], Path]) -> None:
    root = example("base-and-app")
    assert apply_all(root, build=True).ok
    result = ops.run(ops.BuildRequest(stack_of(root), addresses=("imageTemplate.base",)))
    assert [o.address for o in result.report.outcomes] == ["imageTemplate.base"]
    (line,) = result.stale_dependents
    assert line.startswith("imageTemplate.webapp builds from the image imageTemplate.base just published")
    assert "`aibplan run imageTemplate.webapp`" in line
    both = ops.run(ops.BuildRequest(stack_of(root)))
    assert both.report.ok and both.stale_dependents == ()


def test_cancel_needs_an_address(example: Callable[[str], Path]) -> None:
    with pytest.raises(ops.OperationError, match="name the image templates"):
        ops.cancel(ops.BuildRequest(stack_of(example("quickstart"))))


# -- the state without plans ------------------------------------------------------------------------------


def test_state_edits_and_import(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    assert apply_all(root).ok
    entry = ops.show_entry(root, "identity.aibBuilder").entry
    edited = ops.edit_state(ops.StateEditRequest(root, "identity.aibBuilder"))
    assert edited.state.get("identity.aibBuilder") is None
    assert [r.address for r in ops.list_state(root).state.resources] == [
        r.address for r in edited.state.resources
    ]
    imported = ops.import_resource(ops.ImportRequest(stack_of(root), "identity.aibBuilder", entry.arm_id))
    assert imported.state.get("identity.aibBuilder") is not None
    assert imported.state.serial == edited.state.serial + 1
    with pytest.raises(EngineError, match=r"no resource 'identity\.nope' in the state"):
        ops.edit_state(ops.StateEditRequest(root, "identity.nope"))


def test_a_plan_leaves_the_garbage_collector_running(example: Callable[[str], Path]) -> None:
    """A plan pauses Python's cyclic collector while it works (planner.collector); a front end that goes on
    after it, whether the plan succeeded or failed, finds the collector as it was: running."""
    root = example("quickstart")
    assert gc.isenabled()
    assert ops.plan(ops.PlanRequest(stack_of(root))).plan.has_changes
    assert gc.isenabled()
    with pytest.raises(ops.OperationError):
        ops.plan(ops.PlanRequest(stack_of(root), targets=("imageTemplate.nothing_here",)))
    assert gc.isenabled()
    # A plan inside a block that paused the collector itself leaves it paused: the block decides.
    gc.disable()
    try:
        ops.plan(ops.PlanRequest(stack_of(root)))
        assert not gc.isenabled()
    finally:
        gc.enable()
