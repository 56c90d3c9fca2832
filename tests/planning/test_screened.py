"""What a plan keeps of which desired bodies hold nothing to fingerprint (planner.planning.screened): only
those addresses, under the rules' cache key; a body that gains a secret is screened again and its secret
never shown; a cache file from another key, or that holds anything else, is not taken.

Each command runs in its own process, as a user's does, but for the test that watches what is screened (in
this process, with redaction watched)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from planner.planning import plan as plan_module
from planner.planning import screened
from tests.helpers import EXAMPLES
from tests.helpers.processes import aibplan, aibplan_here
from tests.helpers.secrets import load_corpus, write_secret_stack

CACHE = Path(".aibplan") / screened.CACHE_FILE
TEMPLATE = "imageTemplate.ubuntu2204"
SIGNATURE = "Zm9vYmFyU2FzU2lnbmF0dXJlMDEyMzQ1Njc4OQ%3D%3D"
WITH_SECRET = (
    "curl -fsSL -o /tmp/tools.tgz "
    f"'https://stimages.blob.core.windows.net/tools/tools.tgz?sv=2022-11-02&sr=b&sp=r&sig={SIGNATURE}'"
)


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    root = tmp_path / "quickstart"
    shutil.copytree(EXAMPLES / "quickstart", root, ignore=shutil.ignore_patterns(".aibplan", "*.state.json*"))
    return root


def _kept(root: Path) -> tuple[dict[str, object], list[str]]:
    header, addresses = (json.loads(line) for line in (root / CACHE).read_text().splitlines())
    return header, addresses


def _plan(root: Path, *args: str) -> str:
    done = aibplan("plan", "--json", *args, ".", cwd=root)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _add_secret(root: Path) -> None:
    path = root / "ubuntu2204.json"  # JSON with comments: edited as text
    text = path.read_text()
    assert '"sudo apt-get upgrade -y"' in text
    path.write_text(
        text.replace('"sudo apt-get upgrade -y"', f'"sudo apt-get upgrade -y", {json.dumps(WITH_SECRET)}', 1)
    )


def test_a_plan_keeps_every_address_whose_body_holds_nothing_secret_and_no_body(stack: Path) -> None:
    _plan(stack)
    header, addresses = _kept(stack)
    assert set(header) == {"format", "key"}
    assert addresses == sorted(addresses)
    assert TEMPLATE in addresses
    # The role assignments' bodies hold a value known only after apply (the identity's principalId):
    # not the stack's alone, so nothing is kept of them.
    assert len(addresses) == 5
    assert not [a for a in addresses if a.startswith("roleAssignment.")]
    # Addresses only: nothing of a body is in the file.
    assert "apt-get" not in (stack / CACHE).read_text()


def test_a_body_that_gains_a_secret_is_screened_again_and_left_out(stack: Path) -> None:
    _plan(stack)
    assert TEMPLATE in _kept(stack)[1]
    _add_secret(stack)
    shown = _plan(stack)
    assert SIGNATURE not in shown
    assert "<secret:sha256:" in shown
    addresses = _kept(stack)[1]
    assert TEMPLATE not in addresses
    assert len(addresses) == 4
    # Asked again with the cache as the plan left it: still fingerprinted.
    again = _plan(stack)
    assert SIGNATURE not in again
    assert again == shown


def test_a_kept_answer_under_another_key_or_of_another_shape_is_not_taken(stack: Path) -> None:
    _add_secret(stack)
    shown = _plan(stack)
    header, addresses = _kept(stack)
    assert TEMPLATE not in addresses
    # The same addresses, this template among them, under another key: the template is screened.
    (stack / CACHE).write_text(
        json.dumps({**header, "key": "another"}) + "\n" + json.dumps([*addresses, TEMPLATE]) + "\n"
    )
    assert _plan(stack) == shown
    # Not a list of addresses: ignored, and written anew.
    for bad in ("{}", '["a", 1]', "not json", ""):
        (stack / CACHE).write_text(json.dumps(header) + "\n" + bad + "\n")
        assert _plan(stack) == shown
        assert _kept(stack)[1] == addresses


def test_the_next_plan_of_the_same_stack_screens_only_what_is_not_kept(
    stack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hit, told from a miss by what is screened: run in this process, with redaction watched."""
    screened_now: list[object] = []
    real = plan_module.redact

    def watched(value: object) -> object:
        screened_now.append(value)
        return real(value)

    monkeypatch.setattr(plan_module, "redact", watched)
    assert aibplan_here("plan", ".", cwd=stack).returncode == 0
    assert len(screened_now) == 7
    screened_now.clear()
    assert aibplan_here("plan", ".", cwd=stack).returncode == 0
    # The two role assignments only: their bodies are not the stack's alone.
    assert len(screened_now) == 2
    _add_secret(stack)
    screened_now.clear()
    assert aibplan_here("plan", ".", cwd=stack).returncode == 0
    assert len(screened_now) == 7  # another key: every body again


def test_a_stack_with_secure_values_keeps_nothing(tmp_path: Path) -> None:
    root = tmp_path / "secrets"
    arguments = write_secret_stack(root, load_corpus())
    done = aibplan("plan", *arguments, ".", cwd=root)
    assert done.returncode in (0, 2), done.stderr
    assert not (root / CACHE).exists()
