"""The local cloud's writes served by a process of their own, for a big apply.

In process, the simulated service shares one interpreter lock with the apply that calls it: every PUT's
checks, computed fields and SQLite statements take turns with the plan, the journal and the state text,
on one core, and the worker threads hand the lock to each other at every statement. A big apply (past
`LocalProvider`'s threshold, no simulated latency, no injected faults) moves the writes to a child
process running the same `SimulatedAzure` on the same database file (SQLite in WAL mode is made for
several processes), so the service works on the machine's second core while the apply goes on.

The pipe between the two carries frames: a header (request number, payload length) and JSON. Requests
are pipelined: each worker sends its own and waits for the answer with that number, so the child always
has the next one to serve. The child answers in order, commits each write before answering (as the
in-process service does), and leaves when its input closes: when the apply closes the provider, or when
the apply's process dies. A call whose answer the child never sent (it died) fails the way a reset
connection does: in doubt, like a write to Azure whose answer was lost. When the apply's process is
killed, the child finishes at most the write under way (its begin line is in the journal, as for a write
in process) and serves nothing more of what it was sent.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from .errors import ServiceError
from .service import SimulatedAzure

# Request or answer number, payload length.
_HEADER = struct.Struct("<QI")
# The child's first frame (number 0): the database is open, requests are served from here on.
_READY = b'"ready"'
_CHILD = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from providers.simulated.service_process import main; main(sys.argv[1:])"
)


class ServiceProcess:
    """A child process serving `put`, `patch` and `delete` of a SimulatedAzure on `db_path`. Thread-safe:
    any number of threads may call at once; the child serves them in the order they were sent."""

    def __init__(self, db_path: Path, *, build_minute: float | None, principal_delay: float) -> None:
        # Run from the folder holding the `providers` package, wherever this process found it.
        root = str(Path(__file__).resolve().parents[2])
        args = [sys.executable, "-c", _CHILD, root, str(db_path), "--principal-delay", repr(principal_delay)]
        if build_minute is not None:
            args += ["--build-minute", repr(build_minute)]
        self._child = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        assert self._child.stdin is not None and self._child.stdout is not None
        self._input: IO[bytes] = self._child.stdin
        self._send_lock = threading.Lock()
        self._waiting: dict[int, _Answer] = {}
        self._numbers = itertools.count(1)
        self._ready = threading.Event()
        self._gone: str | None = None  # why the child can no longer serve, once it cannot
        self._reader = threading.Thread(
            target=self._read_answers, args=(self._child.stdout,), name="aibplan-local-cloud", daemon=True
        )
        self._reader.start()

    @property
    def serving(self) -> bool:
        """The child has opened the database and is still there (until then, callers write in process)."""
        return self._ready.is_set() and self._gone is None

    def call(self, operation: str, arm_id: str, api_version: str, body: Any = None) -> Any:
        """What the service's `operation` returns. Raises ServiceError as the service does, and
        ConnectionResetError when the child died before answering (the write may have been carried out)."""
        payload = json.dumps([operation, arm_id, api_version, body]).encode()
        answer = _Answer()
        with self._send_lock:
            if self._gone is not None:
                raise ConnectionResetError(self._gone)
            number = next(self._numbers)
            self._waiting[number] = answer
            try:
                _write_frame(self._input, number, payload)
            except (OSError, ValueError):
                self._waiting.pop(number, None)
                self._gone = self._gone or "the local cloud's process is gone"
                raise ConnectionResetError(self._gone) from None
        answer.done.wait()
        if answer.payload is None:
            raise ConnectionResetError(
                f"the local cloud's process ended before answering the {operation} of "
                f"'{arm_id.rsplit('/', 1)[-1]}' ({self._gone}); it may have been carried out"
            )
        reply = json.loads(answer.payload)
        if "ok" in reply:
            return reply["ok"]
        if "error" in reply:
            e = reply["error"]
            raise ServiceError(
                e["status"],
                e["code"],
                e["message"],
                target=e["target"],
                retry_after=e["retry_after"],
                accepted=e["accepted"],
            )
        raise RuntimeError(f"the local cloud's process failed on the {operation}: {reply['failure']}")

    def close(self) -> None:
        """Close the child's input (it leaves after the requests it holds) and wait for it to go."""
        with self._send_lock:
            self._gone = self._gone or "the local cloud's process was closed"
            with contextlib.suppress(OSError):
                self._input.close()
        try:
            self._child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()
        self._reader.join(timeout=5)
        if self._child.stdout is not None:
            self._child.stdout.close()

    def _read_answers(self, stream: IO[bytes]) -> None:
        reason = "it ended"
        try:
            first = _read_frame(stream)
            if first is None or first[1] != _READY:
                reason = "it could not open the database" if first is None else first[1].decode()
                return
            self._ready.set()
            while (frame := _read_frame(stream)) is not None:
                number, payload = frame
                with self._send_lock:
                    answer = self._waiting.pop(number, None)
                if answer is not None:
                    answer.payload = payload
                    answer.done.set()
        except (OSError, ValueError) as exc:
            reason = f"its answers could not be read: {exc}"
        finally:
            with self._send_lock:
                self._gone = self._gone or f"the local cloud's process is gone: {reason}"
                waiting, self._waiting = self._waiting, {}
            for answer in waiting.values():
                answer.done.set()


class _Answer:
    __slots__ = ("done", "payload")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.payload: bytes | None = None


def _read_frame(stream: IO[bytes]) -> tuple[int, bytes] | None:
    """The next frame, or None at the end of the stream (a frame cut short counts as the end)."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    number, length = _HEADER.unpack(header)
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return number, payload


def _write_frame(stream: IO[bytes], number: int, payload: bytes) -> None:
    stream.write(_HEADER.pack(number, len(payload)) + payload)
    stream.flush()


def carried_out(service: SimulatedAzure, operation: str, arm_id: str, api_version: str, body: Any) -> Any:
    """What the service's write `operation` answers (a PUT's body, a PATCH's, a DELETE's status): the
    same call in process and in the child."""
    if operation == "put":
        return service.put(arm_id, api_version, body)[1]
    if operation == "patch":
        return service.patch(arm_id, api_version, body)
    if operation == "delete":
        return service.delete(arm_id, api_version)
    raise ValueError(f"no operation {operation!r}")


def serve(db_path: str, *, build_minute: float | None, principal_delay: float) -> None:
    """The child: serve the requests on stdin until it closes, one at a time, each answered on stdout."""
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    try:
        service = SimulatedAzure(db_path, build_minute=build_minute, principal_delay=principal_delay)
    except Exception as exc:  # the parent goes on in process, where the same error is told
        _write_frame(answers, 0, f"cannot open {db_path}: {exc}".encode())
        return
    _write_frame(answers, 0, _READY)
    parent = os.getppid()
    try:
        while (frame := _read_frame(requests)) is not None:
            if os.getppid() != parent:
                # The apply died (killed): what it sent and this process holds is not carried out, as
                # nothing more would be in process. Only the write under way when it died was.
                break
            number, payload = frame
            try:
                result: Any = {"ok": carried_out(service, *json.loads(payload))}
            except ServiceError as exc:
                result = {
                    "error": {
                        "status": exc.status,
                        "code": exc.code,
                        "message": exc.message,
                        "target": exc.target,
                        "retry_after": exc.retry_after,
                        "accepted": exc.accepted,
                    }
                }
            except Exception as exc:  # a bug: told to the caller, as in process it would raise there
                result = {"failure": f"{type(exc).__name__}: {exc}"}
            _write_frame(answers, number, json.dumps(result).encode())
    finally:
        service.close()


def main(argv: list[str]) -> None:
    # Ctrl-C, a closed terminal or a cancelled job signal the whole process group: the apply decides what
    # to do with the calls in flight, and this process answers them; it leaves when its input closes.
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    db_path, options = argv[0], dict(zip(argv[1::2], argv[2::2], strict=True))
    minute = options.get("--build-minute")
    serve(
        db_path,
        build_minute=float(minute) if minute is not None else None,
        principal_delay=float(options.get("--principal-delay", "0")),
    )
