"""Apply progress as users see it: a live line per change in flight on a terminal, plain lines elsewhere,
and the end summary naming each failure with its address, the service's code and message."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from planner.cli.progress import ConsoleHooks, LiveHooks, progress_hooks
from tests.helpers import Run


def test_live_lines_show_each_change_in_flight_with_elapsed_time() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    hooks = LiveHooks(console=console, refresh_per_second=50)
    try:
        hooks.pre_apply("imageTemplate.web", "create")
        hooks.pre_apply("gallery.corp", "delete")
        time.sleep(1.1)
        rendered = Console(file=io.StringIO(), width=120)
        with rendered.capture() as capture:
            rendered.print(hooks._render())
        live = capture.get()
        assert "imageTemplate.web: Creating... [1s elapsed]" in live
        assert "gallery.corp: Destroying... [1s elapsed]" in live
        hooks._running["imageTemplate.web"] = ("create", time.monotonic() - 20)
        with rendered.capture() as capture:
            rendered.print(hooks._render())
        assert "imageTemplate.web: Still creating... [20s elapsed]" in capture.get()
        hooks.post_apply("imageTemplate.web", "create", 1.2, None)
        hooks.retrying("gallery.corp", "delete", 2, 0.5, RuntimeError("429 TooManyRequests"))
        with rendered.capture() as capture:
            rendered.print(hooks._render())
        assert "imageTemplate.web" not in capture.get()
    finally:
        hooks.close()
    printed = buffer.getvalue()
    assert "imageTemplate.web: Creating..." in printed
    assert "imageTemplate.web: Creation complete after 1s" in printed
    assert "gallery.corp: retrying delete in 0.5s (attempt 2): 429 TooManyRequests" in printed


def test_without_a_terminal_progress_is_plain_lines() -> None:
    hooks = progress_hooks(io.StringIO())
    try:
        assert isinstance(hooks, ConsoleHooks)
    finally:
        hooks.close()  # type: ignore[attr-defined]


def test_failures_are_summed_up_with_address_code_and_message(
    example: Callable[[str], Path], cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example("quickstart")
    faults = {"rules": [{"match": "galleries/corpImages/images", "operation": "create", "kind": "permanent"}]}
    monkeypatch.setenv("AIBPLAN_LOCAL_FAULTS", json.dumps(faults))
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 1
    assert (
        "Error: imageDefinition.corpImages/ubuntu2204: create failed: InjectedFault: The create of "
        "'ubuntu2204' was refused by an injected permanent fault (local.faults)."
    ) in run.stderr
    assert "1 change(s) failed:" in run.stderr and "1 change(s) not made:" in run.stderr
    assert (
        "  imageTemplate.ubuntu2204: upstream failed: imageDefinition.corpImages/ubuntu2204 (create)"
        in run.stderr
    )
    assert "Apply failed. Resources: 5 added" in run.stderr
    assert run.stderr.count("imageTemplate.ubuntu2204: skipped") == 1
