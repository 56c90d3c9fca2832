"""What the state keeps about a template's builds, in its entry's `extra`.

    last_run      the latest build the cloud reported: start_time, end_time, run_state, run_sub_state,
                  message (the service's words on failure) and the fingerprint of the body it built
    run_outputs   that build's run outputs as the service lists them: [{"name", "properties": {...}}]
    last_success  the latest build that succeeded: fingerprint, end_time and its run_outputs (kept when
                  later builds fail or are canceled, so `aibplan output` still shows the last good image)

Running is an action, not desired state: none of this changes what a plan does; the plan only reads
`last_success.fingerprint` to say that an image was built from an older definition of its template.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LAST_RUN = "last_run"
RUN_OUTPUTS = "run_outputs"
LAST_SUCCESS = "last_success"
# Keys that describe the template object's own builds (gone with it when it is deleted or replaced).
_PER_OBJECT = (LAST_RUN, RUN_OUTPUTS)

ACTIVE_STATES = ("Running", "Canceling")
ENDED_STATES = ("Succeeded", "PartiallySucceeded", "Failed", "Canceled")


def fingerprint(applied: Mapping[str, Any]) -> str:
    """A hash of a normalised template body, tags left out (they do not change the image)."""
    essence = {k: v for k, v in applied.items() if k != "tags"}
    text = json.dumps(essence, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class RunOutput:
    """One distribution target's result, by runOutputName."""

    name: str
    artifact_id: str | None
    artifact_uri: str | None
    provisioning_state: str | None

    @staticmethod
    def from_service(body: Mapping[str, Any]) -> RunOutput:
        props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
        assert isinstance(props, dict)
        return RunOutput(
            name=str(body.get("name", "")),
            artifact_id=_text(props.get("artifactId")),
            artifact_uri=_text(props.get("artifactUri")),
            provisioning_state=_text(props.get("provisioningState")),
        )

    def to_state(self) -> dict[str, Any]:
        props = {
            k: v
            for k, v in (
                ("artifactId", self.artifact_id),
                ("artifactUri", self.artifact_uri),
                ("provisioningState", self.provisioning_state),
            )
            if v is not None
        }
        return {"name": self.name, "properties": props}

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "artifact_id": self.artifact_id,
            "artifact_uri": self.artifact_uri,
            "provisioning_state": self.provisioning_state,
        }


@dataclass(frozen=True)
class RunStatus:
    """A template's lastRunStatus as the service reports it."""

    run_state: str | None
    run_sub_state: str | None = None
    message: str = ""
    start_time: str | None = None
    end_time: str | None = None

    @staticmethod
    def of(body: Mapping[str, Any] | None) -> RunStatus:
        props = (body or {}).get("properties")
        status = props.get("lastRunStatus") if isinstance(props, dict) else None
        if not isinstance(status, dict):
            return RunStatus(None)
        return RunStatus(
            run_state=_text(status.get("runState")),
            run_sub_state=_text(status.get("runSubState")),
            message=str(status.get("message") or ""),
            start_time=_text(status.get("startTime")),
            end_time=_text(status.get("endTime")) if status.get("runState") in ENDED_STATES else None,
        )

    @property
    def active(self) -> bool:
        return self.run_state in ACTIVE_STATES

    @property
    def ended(self) -> bool:
        return self.run_state in ENDED_STATES


@dataclass(frozen=True)
class BuildRecord:
    """The build facts of one template entry, read from or written to `extra`."""

    last_run: Mapping[str, Any] | None
    run_outputs: tuple[RunOutput, ...]
    last_success: Mapping[str, Any] | None

    @staticmethod
    def of(extra: Mapping[str, Any]) -> BuildRecord:
        outputs = extra.get(RUN_OUTPUTS)
        return BuildRecord(
            last_run=extra.get(LAST_RUN) if isinstance(extra.get(LAST_RUN), dict) else None,
            run_outputs=tuple(RunOutput.from_service(o) for o in outputs or () if isinstance(o, dict))
            if isinstance(outputs, list)
            else (),
            last_success=extra.get(LAST_SUCCESS) if isinstance(extra.get(LAST_SUCCESS), dict) else None,
        )

    @property
    def success_outputs(self) -> tuple[RunOutput, ...]:
        """The run outputs of the last successful build (what the last good image is)."""
        outputs = (self.last_success or {}).get(RUN_OUTPUTS)
        if not isinstance(outputs, list):
            return ()
        return tuple(RunOutput.from_service(o) for o in outputs if isinstance(o, dict))

    @property
    def last_good_outputs(self) -> tuple[RunOutput, ...]:
        """The outputs to use now: the last build's when it succeeded, else the last successful one's."""
        return self.run_outputs if self.run_state == "Succeeded" else self.success_outputs

    @property
    def success_fingerprint(self) -> str | None:
        value = (self.last_success or {}).get("fingerprint")
        return value if isinstance(value, str) else None

    @property
    def run_state(self) -> str | None:
        value = (self.last_run or {}).get("run_state")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class TemplateOutputs:
    """What `aibplan output` shows for one template: its id and the build facts the state holds."""

    address: str
    arm_id: str
    record: BuildRecord


def updated_extra(
    extra: Mapping[str, Any],
    status: RunStatus,
    outputs: Sequence[RunOutput] | None,
    built_fingerprint: str,
) -> dict[str, Any]:
    """`extra` with the build facts replaced by what the cloud reports now."""
    out = dict(extra)
    if status.run_state is None:
        out.pop(LAST_RUN, None)
        out.pop(RUN_OUTPUTS, None)
        return out
    previous = out.get(LAST_RUN) if isinstance(out.get(LAST_RUN), dict) else {}
    assert isinstance(previous, dict)
    same_run = previous.get("start_time") == status.start_time
    last_run = {
        "start_time": status.start_time,
        "end_time": status.end_time,
        "run_state": status.run_state,
        "run_sub_state": status.run_sub_state,
        "message": status.message,
        # A build seen for the first time built what the template held then (a template body cannot
        # change under a build); one aibplan started keeps the fingerprint it recorded at the start.
        "fingerprint": previous.get("fingerprint")
        if same_run and previous.get("fingerprint")
        else built_fingerprint,
    }
    out[LAST_RUN] = {k: v for k, v in last_run.items() if v is not None}
    if outputs is not None:
        out[RUN_OUTPUTS] = [o.to_state() for o in outputs]
    if status.run_state == "Succeeded":
        success: dict[str, Any] = {"fingerprint": last_run["fingerprint"], "end_time": status.end_time}
        kept = out.get(LAST_SUCCESS) if isinstance(out.get(LAST_SUCCESS), dict) else {}
        assert isinstance(kept, dict)
        if outputs is not None:
            success[RUN_OUTPUTS] = [o.to_state() for o in outputs]
        elif kept.get("end_time") == status.end_time and RUN_OUTPUTS in kept:
            success[RUN_OUTPUTS] = kept[RUN_OUTPUTS]
        out[LAST_SUCCESS] = success
    return out


def extra_after_replace(extra: Mapping[str, Any]) -> dict[str, Any]:
    """What a replaced template keeps: the last successful build (its image still exists), not the
    old object's run status and outputs (its VHD went with it)."""
    return {k: v for k, v in extra.items() if k not in _PER_OBJECT}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
