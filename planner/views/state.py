"""Views of the state commands: `state list` (text, JSON), `state show`, edits, import, force-unlock."""

from __future__ import annotations

from ..operations.results import ImportedAll, StateEdited, StateEntry, StateListing, Unlocked
from ..operations.state_transfer import StateMoved, StatePulled
from .base import JsonRejection, Shown, TextRejection, View, document


class StateListText(TextRejection):
    def show(self, result: StateListing) -> Shown:
        return Shown(
            out="".join(
                entry.address + (" (tainted)" if entry.tainted else "") + "\n"
                for entry in result.state.resources
            )
        )


class StateListJson(JsonRejection):
    def show(self, result: StateListing) -> Shown:
        state = result.state
        return Shown(
            out=document(
                {
                    "format_version": "1",
                    "serial": state.serial,
                    "lineage": state.lineage,
                    "resources": [
                        {"address": r.address, "id": r.arm_id, "type": r.arm_type, "tainted": r.tainted}
                        for r in state.resources
                    ],
                    **({"environment": result.environment} if result.environment is not None else {}),
                }
            )
        )


def state_list_view(fmt: str) -> View[StateListing]:
    return StateListJson() if fmt == "json" else StateListText()


class StateEntryJson(TextRejection):
    def show(self, result: StateEntry) -> Shown:
        return Shown(out=document(result.entry.to_json(), ascii_only=False))


class Removed(TextRejection):
    def __init__(self, address: str) -> None:
        self.address = address

    def show(self, result: StateEdited) -> Shown:
        return Shown(
            out=f"Removed {self.address} from the state (serial {result.state.serial}). "
            "The resource itself was not touched.\n"
        )


class Moved(TextRejection):
    def __init__(self, source: str, target: str) -> None:
        self.source = source
        self.target = target

    def show(self, result: StateEdited) -> Shown:
        return Shown(out=f"Moved {self.source} to {self.target} (serial {result.state.serial}).\n")


class Imported(TextRejection):
    def __init__(self, address: str) -> None:
        self.address = address

    def show(self, result: StateEdited) -> Shown:
        entry = result.state.get(self.address)
        tracked = entry.arm_id if entry is not None else "?"
        return Shown(
            out=f"Import successful: {self.address} now tracks {tracked} "
            f"(serial {result.state.serial}).\nRun `aibplan plan` to see how it differs from the stack.\n",
            err="".join(note + "\n" for note in result.notes),
        )


class ImportedAllText(TextRejection):
    """`import --all`: each resource imported, then what was left and what to run next."""

    def show(self, result: ImportedAll) -> Shown:
        lines = [f"Imported {address} ({arm_id})" for address, arm_id in result.imported]
        if result.absent:
            lines.append(f"Not in the cloud yet (apply creates them): {', '.join(result.absent)}")
        if result.tracked:
            lines.append(f"Already in the state: {len(result.tracked)} resource(s)")
        if result.imported:
            lines.append(
                f"Import successful: {len(result.imported)} resource(s) now tracked "
                f"(serial {result.state.serial}). Run `aibplan plan` to see how they differ from the stack."
            )
        else:
            lines.append("Nothing to import: no resource the stack declares exists outside the state.")
        return Shown(out="".join(line + "\n" for line in lines))


class UnlockedText(TextRejection):
    def __init__(self, lock_id: str) -> None:
        self.lock_id = lock_id

    def show(self, result: Unlocked) -> Shown:
        holder = result.holder
        out = (
            f"The state lock {self.lock_id} ({holder.operation} by {holder.user}@{holder.host}, pid "
            f"{holder.pid}) was cleared.\n"
        )
        if result.journal_left:
            out += "The run it belonged to left a journal; the next apply reconciles it with the cloud.\n"
        return Shown(out=out)


class PulledText(TextRejection):
    """`state pull`: the state's text on stdout, byte for byte; a note on stderr when a journal is left."""

    def show(self, result: StatePulled) -> Shown:
        note = ""
        if result.journal_left:
            note = (
                f"Note: a run that stopped left an apply journal beside {result.where}; this is the state "
                "without it (the next apply, import or state edit reconciles it)\n"
            )
        return Shown(out=result.text, err=note)


class MovedStateText(TextRejection):
    """`state push` and `state migrate`: where the state went."""

    def show(self, result: StateMoved) -> Shown:
        if not result.written:
            return Shown(
                out=f"{result.target} already holds this state (serial {result.serial}); "
                "nothing was written.\n"
            )
        out = f"Copied the state (serial {result.serial}) from {result.source} to {result.target}.\n"
        if result.source_kind == "local" and result.target_kind != "local":
            out += (
                f"The state file {result.source} is no longer this stack's state once aibplan.json's backend "
                "names the new place: remove it from git (`git rm`) so nobody plans against it.\n"
            )
        return Shown(out=out)
