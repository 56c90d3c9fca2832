"""No traceback, anywhere: the places that ended in one, each now one clear line (the single-command cases
are data-file fixtures in tests/fixtures/bad-input: a dependsOn naming its own resource, 5,000-digit numbers
and deep nesting in stack files, --var values and state files, lone surrogates, a state whose dependencies
form a cycle). Here, the cases that need more than one command or another user."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from providers.simulated.service import SimulatedAzure
from state import load_state
from tests.helpers import ROOT, Run

GALLERY = {"type": "Microsoft.Compute/galleries", "apiVersion": "2024-03-03", "name": "corpImages"}
CONFIG = {
    "subscriptionId": "00000000-0000-0000-0000-000000000000",
    "resourceGroup": "rg",
    "location": "westus2",
}


def _applied_stack(root: Path, cli: Callable[..., Run]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "aibplan.json").write_text(json.dumps(CONFIG))
    (root / "gallery.json").write_text(json.dumps({**GALLERY, "tags": {"owner": "platform"}}))
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    return root


def test_a_byte_that_is_not_utf8_is_refused_by_the_portal(tmp_path: Path, cli: Callable[..., Run]) -> None:
    root = _applied_stack(tmp_path / "stack", cli)
    # What Python makes of `aibplan sim set-tag ... owner=$'\xff\xfe'` (bytes that are not UTF-8).
    run = cli("sim", "set-tag", str(root), "gallery.corpImages", "owner=\udcff\udcfe")
    assert run.exit_code == 1
    assert run.stderr == (
        "Error: gallery.corpImages: tags.owner is not UTF-8 text (a byte the command line passed as it "
        "was); Azure holds UTF-8 text only\n"
    )


def test_refresh_only_stores_text_the_cloud_holds_that_is_not_unicode(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    """A body read back with a stray lone surrogate (as a service answering `"\\udcff"` would give) is
    stored with U+FFFD in its place: the state stays UTF-8 and loads again."""
    root = _applied_stack(tmp_path / "stack", cli)
    state = load_state(root / "aibplan.state.json")
    assert state is not None
    (entry,) = state.resources
    cloud = SimulatedAzure(root / ".aibplan" / "local-cloud.db")
    try:
        cloud.raw_write(entry.arm_id, {"location": "westus2", "tags": {"owner": "team \udcff"}})
    finally:
        cloud.store.close()
    run = cli("apply", "--refresh-only", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    assert "Traceback" not in run.stderr
    text = (root / "aibplan.state.json").read_bytes().decode("utf-8")
    assert "team \ufffd" in text
    reloaded = load_state(root / "aibplan.state.json")
    assert reloaded is not None and reloaded.resources[0].observed["tags"] == {"owner": "team \ufffd"}


def _as_a_user_who_cannot_read(folder: Path) -> list[str] | None:
    """How to run a command for which `folder` (mode 000) is unreadable: as is for another user than root;
    for root, without the capabilities that let it read anything (util-linux setpriv)."""
    folder.chmod(0)
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    drop = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}"]


@pytest.mark.parametrize("command", [["plan"], ["drift"], ["run"], ["apply", "--auto-approve"]])
def test_an_unreadable_runtime_folder_is_one_line(tmp_path: Path, command: list[str]) -> None:
    root = tmp_path / "stack"
    root.mkdir()
    (root / "aibplan.json").write_text(json.dumps(CONFIG))
    (root / "gallery.json").write_text(json.dumps(GALLERY))
    runtime = root / ".aibplan"
    runtime.mkdir()
    prefix = _as_a_user_who_cannot_read(runtime)
    if prefix is None:
        pytest.skip("running as root without setpriv: no way to make a folder unreadable")
    try:
        done = subprocess.run(
            [*prefix, sys.executable, "-c", "from planner.cli import run; run()", *command, str(root)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
        )
    finally:
        runtime.chmod(0o755)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    assert ".aibplan" in lines[0]
