"""One "machine" working on a shared state: a real process that opens a backend and does what it is told.

Run as `python -m tests.state.backends.agent SPEC` in a working folder of its own. SPEC is JSON:
{"backend": <aibplan.json's backend object>, "state": PATH, "runtime": PATH}; secrets come from the
environment, as they would for a user (AIBPLAN_BACKEND_CONNECTION_STRING). It reads one JSON command a
line from stdin and answers each with one JSON line on stdout:

    {"do": "lock", "operation": "apply", "timeout": 0}   -> {"locked": holder, "taken_over": holder|null}
                                                            or {"refused": message, "holder": holder|null,
                                                                "stale": bool}
    {"do": "release"}                                    -> {"released": true}
    {"do": "force_unlock", "id": ID}                     -> {"cleared": holder}
    {"do": "read"}                                       -> {"text": ..., "version": ...}
    {"do": "write", "text": T, "expected": V}            -> {"version": V2} or {"changed": message}
    {"do": "journal_reset", "content": T}                -> {"ok": true}
    {"do": "journal_append", "lines": T}                 -> {"ok": true}
    {"do": "journal_read"}                               -> {"text": ...}
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from state.backends import HeldLock, StateChanged, backend_settings, open_backend
from state.lock import LockError, LockInfo


def _holder(info: LockInfo | None) -> dict[str, Any] | None:
    return asdict(info) if info is not None else None


def main() -> None:
    spec = json.loads(sys.argv[1])
    settings = backend_settings(spec["backend"], os.environ)
    backend = open_backend(settings, state_path=Path(spec["state"]), runtime_dir=Path(spec["runtime"]))
    held: HeldLock | None = None
    for line in sys.stdin:
        command = json.loads(line)
        do = command["do"]
        answer: dict[str, Any]
        if do == "lock":
            try:
                held = backend.lock(command.get("operation", "apply"), timeout=command.get("timeout", 0))
                answer = {"locked": _holder(held.info), "taken_over": _holder(held.taken_over)}
            except LockError as exc:
                answer = {"refused": str(exc), "holder": _holder(exc.holder), "stale": exc.stale}
        elif do == "release":
            assert held is not None
            held.release()
            answer = {"released": True}
        elif do == "force_unlock":
            answer = {"cleared": _holder(backend.force_unlock(command["id"]))}
        elif do == "read":
            stored = backend.read()
            answer = {"text": stored.text, "version": stored.version}
        elif do == "write":
            try:
                answer = {"version": backend.write(command["text"], command["expected"])}
            except StateChanged as exc:
                answer = {"changed": str(exc)}
        elif do == "journal_reset":
            backend.journal_reset(command["content"].encode())
            answer = {"ok": True}
        elif do == "journal_append":
            backend.journal_append(command["lines"].encode())
            answer = {"ok": True}
        elif do == "journal_read":
            answer = {"text": backend.journal_read()}
        else:
            answer = {"error": f"unknown command {do!r}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
