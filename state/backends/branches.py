"""The state file as other git branches hold it: what the `local` backend knows of applies made elsewhere.

With the state committed in git, a branch that applied a change (and committed the state, as CI does)
holds a state newer than this branch's for the resources it changed. A plan here finds the cloud changed
and, without this, would call it "changed outside aibplan" and change it back. `states_elsewhere` reads
the state file from every branch (local and remote-tracking) not merged into HEAD, with `git for-each-ref
--no-merged` and one `git cat-file --batch`; the planner asks only when the cloud differs from the state
(planner.planning.elsewhere). Outside a git work tree, or without git, there is nothing elsewhere.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

_TIMEOUT = 60


def states_elsewhere(state_path: Path) -> list[tuple[str, str]]:
    """(where, text) of the state file on each branch not merged into HEAD that holds one; `where` says
    which branch and commit, for messages."""
    folder = state_path.parent
    top = _git(folder, "rev-parse", "--show-toplevel")
    if not top:
        return []
    try:
        inside = state_path.resolve().relative_to(Path(top.strip()).resolve()).as_posix()
    except ValueError:
        return []
    listed = _git(
        folder,
        "for-each-ref",
        "--no-merged=HEAD",
        "--format=%(refname:short) %(objectname)",
        "refs/heads",
        "refs/remotes",
    )
    refs = [line.split(" ", 1) for line in (listed or "").splitlines() if " " in line]
    if not refs:
        return []
    wanted = "".join(f"{commit}:{inside}\n" for _, commit in refs).encode()
    try:
        done = subprocess.run(
            ["git", "cat-file", "--batch"], cwd=folder, input=wanted, capture_output=True, timeout=_TIMEOUT
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if done.returncode != 0:
        return []
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    output = done.stdout
    at = 0
    for name, commit in refs:
        end = output.index(b"\n", at)
        header = output[at:end].decode(errors="replace").split()
        at = end + 1
        if len(header) != 3 or header[1] != "blob":
            continue  # no state file on that branch
        size = int(header[2])
        blob, text = header[0], output[at : at + size]
        at += size + 1
        if blob in seen:
            continue
        seen.add(blob)
        try:
            found.append((f"branch {name} (commit {commit[:7]})", text.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return found


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, timeout=_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None
