"""One stack's state as the operations use it: read, locked, reconciled with a leftover journal, saved.

`StackState` is the one seam between the engine and where a state lives: every read, write, lock and
journal an operation needs goes through it (the build recorder and apply's journal included). Where that
is, the stack's backend says (aibplan.json's `backend`, AIBPLAN_BACKEND_*; docs/state.md "Backends"): the
local file next to aibplan.json with `.aibplan/`, or a blob container every machine shares. Each write
names the version of the state it read (compare-and-swap), so a writer that came in between is refused
with one clear error, never overwritten.

Writers (apply, destroy, import, state edits, builds) call `lock` and then `recover`: a journal left by
a run that died (on this machine or, with a shared backend, on any other) is folded into the state, and
every call it began without finishing is settled by reading the resource back from the provider: a
resource that exists is adopted into the state (tainted when it is half made, so the next apply replaces
it), one that does not is dropped. The reconciled state is saved and the journal removed before the
writer plans anything.

Readers (plan, drift) take no lock. `read_for_plan` reads the state (always a whole one) and, when a dead
run's journal is left and nobody holds the lock, reconciles it in memory only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from providers.base import Provider, ProviderError, ResourceRef
from state import ResourceState, State, StateError
from state.backends import HeldLock, LocalBackend, LocalSettings, Session, open_backend
from state.backends.branches import states_elsewhere
from state.backends.read_ahead import ReadAhead
from state.journal import PendingCall, replay
from state.journaled import JournaledState
from state.lock import LockError, LockInfo
from state.redact import redact
from state.store import parse_state

from ..diagnostics import EngineError
from ..settings import read_ahead_allowed, state_backend
from ..stack.model import Stack

_DONE_STATES = (None, "Succeeded")


@dataclass(frozen=True)
class Reconciled:
    """What reconciling a leftover journal did."""

    state: State
    had_journal: bool = False
    replayed: int = 0
    adopted: tuple[str, ...] = ()
    tainted: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    refreshed: tuple[str, ...] = ()

    def describe(self) -> list[str]:
        if not self.had_journal:
            return []
        lines = [
            f"A previous run stopped before it finished; its journal ({self.replayed} events) was reconciled "
            "with the cloud."
        ]
        for word, items in (
            ("adopted into the state", self.adopted),
            ("adopted and tainted (half made; the next apply replaces it)", self.tainted),
            ("dropped from the state (not in the cloud)", self.dropped),
            ("read back", self.refreshed),
        ):
            lines.extend(f"  {address}: {word}" for address in items)
        return lines


class StackState:
    """Where one stack's state lives, and everything an operation does with it (see the module's text)."""

    def __init__(self, stack: Stack, ahead: ReadAhead | None = None) -> None:
        self.stack = stack
        self._session: Session | None = None
        # The state file being read in a child meanwhile (`read_ahead`), for the session's first read.
        self._ahead = ahead

    @property
    def session(self) -> Session:
        """The backend the stack names, opened on first use (EngineError: its settings or sign-in fail)."""
        if self._session is None:
            settings = state_backend(self.stack)
            with _said():
                backend = open_backend(
                    settings, state_path=self.stack.state_path, runtime_dir=self.stack.runtime_dir
                )
            ahead, self._ahead = self._ahead, None
            self._session = Session(backend, ahead)
        return self._session

    def where(self) -> str:
        """Where the state is, for messages (a path, or a URL without any credential)."""
        return self.session.where()

    @property
    def kind(self) -> str:
        """The backend's kind: `local` or `azureblob`."""
        return self.session.backend.kind

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.close()
            self._ahead = None
        if self._session is not None:
            self._session.close()
            self._session = None

    @staticmethod
    def read_ahead(stack: Stack) -> ReadAhead | None:
        """For a reader with other work to do first: the stack's local state file read and parsed in a
        child process meanwhile (state.backends.read_ahead), to be given to `StackState(stack, ahead)`.
        None for a shared backend, when AIBPLAN_READ_AHEAD=0, or where no child is started."""
        if not read_ahead_allowed():
            return None
        try:
            settings = state_backend(stack)
        except EngineError:
            return None
        if not isinstance(settings, LocalSettings):
            return None
        return ReadAhead.start(stack.state_path, stack.runtime_dir)

    def __enter__(self) -> StackState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------------------------

    def read(self) -> tuple[State, State | None]:
        """(the state to plan against, the state as stored or None when there is none yet)."""
        with _said():
            existing = self.session.read()
        return (existing if existing is not None else State.new()), existing

    def load(self) -> State | None:
        """The state as stored now (None when there is none, or it cannot be read): for the build records,
        which re-read it before each write."""
        try:
            return self.session.read()
        except StateError:
            return None

    def read_for_plan(self, provider: Provider | None) -> tuple[State, Reconciled, LockInfo | None]:
        """For a reader: (state, what was reconciled in memory, the live lock holder if a writer runs)."""
        state, _ = self.read()
        with _said():
            holder = self.session.holder()
        if holder is not None or provider is None:
            return state, Reconciled(state), holder
        return state, self.reconcile(state, provider), None

    def elsewhere(self) -> tuple[tuple[str, State], ...]:
        """The states of this stack that other lines of work hold (for the `local` backend, the state file
        on each git branch not merged here: planning.elsewhere), newest knowledge of applies made there.
        A shared backend holds one state: nothing is elsewhere."""
        backend = self.session.backend
        if not isinstance(backend, LocalBackend):
            return ()
        found = []
        for where, text in states_elsewhere(backend.state_path):
            try:
                found.append((where, parse_state(text, f"{backend.state_path.name} on {where}")))
            except StateError:
                continue  # a branch whose state cannot be read tells nothing
        return tuple(found)

    def has_journal(self) -> bool:
        """Whether a run that stopped left a journal for the next writer to reconcile."""
        with _said():
            return self.session.journal_text()[0] is not None

    # -- writing (under the lock) ------------------------------------------------------------------------

    def lock(
        self,
        operation: str,
        *,
        timeout: float = 0.0,
        on_wait: Callable[[LockInfo | None], None] | None = None,
    ) -> HeldLock:
        """Take the stack's write lock; EngineError says who holds it (or that it is stale) and what to do."""
        with _said():
            return self.session.lock(operation, timeout=timeout, on_wait=on_wait)

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Clear a lock left by a run that is gone; who held it."""
        with _said():
            return self.session.force_unlock(lock_id)

    def recover(self, provider: Provider) -> tuple[State, State | None, Reconciled]:
        """For a writer holding the lock: (state, state as stored, what was reconciled); saves and clears
        the journal when there was one."""
        state, existing = self.read()
        result = self.reconcile(state, provider)
        if not result.had_journal:
            return state, existing, result
        written = self.save(result.state, existing)
        with _said():
            self.session.remove_journal()
        return written, written, replace(result, state=written)

    def save(self, state: State, previous: State | None) -> State:
        """Write `state` if it differs from `previous` (over the version read: compare-and-swap); the
        state as stored."""
        with _said():
            return self.session.save(state, previous)

    def journal(self, state: State, previous: State | None) -> JournaledState:
        """The journal an apply writes each call into, compacted into the state as it goes."""
        return self.session.journal(state, previous)

    def reconcile(self, state: State, provider: Provider) -> Reconciled:
        """The state with a leftover journal folded in and its unfinished calls settled. Writes nothing."""
        with _said():
            header, events, where = self.session.journal_events()
        if header is None and not events:
            return Reconciled(state)
        if header is not None and state.serial > 0 and header.get("lineage") != state.lineage:
            raise EngineError(
                f"the apply journal {where} belongs to another state (lineage {header.get('lineage')}, this "
                f"state is {state.lineage}); if the state was replaced on purpose, move the journal aside"
            )
        lineage = header.get("lineage") if header is not None else None
        if state.serial == 0 and isinstance(lineage, str):
            state = replace(state, lineage=lineage)
        return _settle(state, events, provider)


@contextlib.contextmanager
def _said() -> Iterator[None]:
    """What the state layer refuses (a lock held, a state changed meanwhile, a backend that cannot be
    reached) as an EngineError: one message, said by the front end."""
    try:
        yield
    except (StateError, LockError) as exc:
        raise EngineError(str(exc)) from None


def _settle(state: State, events: list[dict[str, Any]], provider: Provider) -> Reconciled:
    """Replay the journal's events and settle each call it began without finishing."""
    replayed = replay(state, events)
    by_address = dict(replayed.state.by_address)
    adopted: list[str] = []
    tainted: list[str] = []
    dropped: list[str] = []
    refreshed: list[str] = []
    for call in replayed.pending:
        live = _read_back(provider, call)
        entry = by_address.get(call.address)
        if live is None:
            if call.action == "create" and (entry is None or entry.arm_id.lower() != call.arm_id.lower()):
                continue
            if entry is not None and entry.arm_id.lower() == call.arm_id.lower():
                del by_address[call.address]
                dropped.append(call.address)
            continue
        half_made = _provisioning_state(live) not in _DONE_STATES
        if entry is None or entry.arm_id.lower() != call.arm_id.lower() or call.action == "create":
            by_address[call.address] = ResourceState(
                address=call.address,
                arm_type=call.arm_type,
                arm_id=call.arm_id,
                api_version=call.api_version,
                applied=dict(call.applied),
                # Where the journaled body held a secret, the body read back holds one too.
                observed=redact(live, like=(call.applied,)),
                dependencies=call.dependencies,
                tainted=half_made,
            )
            (tainted if half_made else adopted).append(call.address)
        else:
            by_address[call.address] = replace(
                entry,
                observed=redact(live, like=(entry.observed, call.applied)),
                tainted=entry.tainted or half_made,
            )
            (tainted if half_made else refreshed).append(call.address)
    return Reconciled(
        state=replayed.state.with_resources(by_address.values()),
        had_journal=True,
        replayed=replayed.events,
        adopted=tuple(adopted),
        tainted=tuple(tainted),
        dropped=tuple(dropped),
        refreshed=tuple(refreshed),
    )


def _read_back(provider: Provider, call: PendingCall) -> dict[str, Any] | None:
    try:
        return provider.read(ResourceRef(call.arm_id, call.arm_type, call.api_version))
    except ProviderError as exc:
        raise EngineError(
            f"cannot reconcile the journal: reading {call.address} back from the cloud failed ({exc}); "
            "run the command again when the cloud answers"
        ) from None


def _provisioning_state(body: dict[str, Any]) -> str | None:
    props = body.get("properties")
    value = props.get("provisioningState") if isinstance(props, dict) else None
    return value if isinstance(value, str) else None
