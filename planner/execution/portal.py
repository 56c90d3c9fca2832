"""Changing the local simulated cloud behind the state's back, as a person in the Azure portal would.

`aibplan sim` is built on this: list and show what the cloud holds, set or remove tags, edit a property,
delete a resource, mark a template Failed, start a build that stays running. Edits go straight to the
simulated service's storage (`raw_write`), past the rules a PUT or PATCH would meet, so any drift can be
made; deletes follow the service's rules unless forced. Nothing here touches the state file.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from providers.catalog import BUILDABLE, for_arm_type
from providers.catalog.arm_ids import fold_id, parse_resource_id
from providers.simulated.build_machine import CUSTOMIZING, steps_for
from providers.simulated.service import ServiceError, SimulatedAzure
from state import State
from state.jsontext import lone_surrogate_path

from ..diagnostics import JsonPath, format_path
from ..stack.model import Stack

_PATH_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_ENVELOPE = ("id", "name", "type")


class PortalError(Exception):
    """What the portal would say no to, or a target that names nothing; one line for the user."""


@dataclass(frozen=True)
class CloudResource:
    """One resource as the simulated cloud holds it, with the address the stack or state gives it."""

    arm_id: str
    arm_type: str
    address: str | None
    body: Mapping[str, Any]
    in_state: bool

    def summary(self) -> dict[str, Any]:
        props = self.body.get("properties") or {}
        run = props.get("lastRunStatus") if isinstance(props, dict) else None
        return {
            "id": self.arm_id,
            "type": self.arm_type,
            "address": self.address,
            "location": self.body.get("location"),
            "provisioningState": props.get("provisioningState") if isinstance(props, dict) else None,
            "runState": run.get("runState") if isinstance(run, dict) else None,
            "tags": dict(self.body.get("tags") or {}),
            "in_state": self.in_state,
        }


class Portal:
    """The portal of one stack's resource group in its local cloud."""

    def __init__(self, service: SimulatedAzure, stack: Stack, state: State) -> None:
        self.service = service
        self.stack = stack
        self.state = state

    # -- reading -------------------------------------------------------------------------------------

    def list(self) -> list[CloudResource]:
        listed = self.service.list_resource_group(
            self.stack.config.subscription_id, self.stack.config.resource_group
        )
        return [self._wrap(body) for body in listed]

    def show(self, target: str) -> CloudResource:
        arm_id = self.resolve(target)
        found = self.service.get_many([arm_id])[arm_id]
        if found is None:
            raise PortalError(f"{target}: not found in the local cloud ({arm_id})")
        return self._wrap(found)

    def resolve(self, target: str) -> str:
        """An address (from the stack or the state) or an ARM id → the ARM id."""
        if target.startswith("/"):
            if parse_resource_id(target) is None:
                raise PortalError(f"{target}: not an ARM resource id")
            return target
        entry = self.state.get(target)
        if entry is not None:
            return entry.arm_id
        resource = self.stack.by_address.get(target)
        if resource is not None:
            return resource.arm_id
        for item in self.list():
            if item.address == target:
                return item.arm_id
        known = sorted(set(self.state.by_address) | set(self.stack.by_address))
        raise PortalError(
            f"{target}: no resource with that address in the stack or the state"
            + (f" (known: {', '.join(known)})" if known else "")
        )

    # -- changing ------------------------------------------------------------------------------------

    def set_tags(self, target: str, tags: Mapping[str, str | None]) -> CloudResource:
        """Set (or, for None, remove) tags."""

        def edit(body: dict[str, Any]) -> None:
            current = dict(body.get("tags") or {})
            for key, value in tags.items():
                if value is None:
                    if key not in current:
                        raise PortalError(f"{target}: has no tag {key!r}")
                    current.pop(key)
                else:
                    current[key] = value
            body["tags"] = current

        return self._change(target, edit)

    def edit(self, target: str, path: str, value: Any, *, remove: bool = False) -> CloudResource:
        """Set (or remove) the value at a JSON path such as properties.vmProfile.vmSize or tags.owner."""
        parts = parse_path(path)

        def edit(body: dict[str, Any]) -> None:
            set_path(body, parts, value, remove=remove, shown=path)

        return self._change(target, edit)

    def delete(self, target: str, *, force: bool = False) -> str:
        """Delete as the portal would (the service's rules apply), or with `force`, with what it holds."""
        arm_id = self.resolve(target)
        row = self.service.get_many([arm_id])[arm_id]
        if row is None:
            raise PortalError(f"{target}: not found in the local cloud ({arm_id})")
        if force:
            self.service.raw_delete(arm_id)
            return arm_id
        rid = parse_resource_id(arm_id)
        rtype = for_arm_type(rid.arm_type) if rid else None
        if rtype is None:
            self.service.raw_delete(arm_id)
            return arm_id
        try:
            self.service.delete(arm_id, self._api_version(arm_id, rtype.default_api_version))
        except ServiceError as exc:
            raise PortalError(
                f"{target}: the service refused the delete: {exc.code}: {exc.message}"
            ) from None
        return arm_id

    def mark_failed(self, target: str, message: str) -> CloudResource:
        """Make the service report an image template as Failed (as after a failed submission)."""
        self._require_template(target)

        def edit(body: dict[str, Any]) -> None:
            props = body.setdefault("properties", {})
            props["provisioningState"] = "Failed"
            props["provisioningError"] = {"provisioningErrorCode": "Other", "message": message}

        return self._change(target, edit)

    def start_build(self, target: str) -> CloudResource:
        """Start a build of an image template that stays running until it is canceled.

        The build runs in the simulated cloud's build machine with a step that never ends (a customizer
        waiting for input), so it stays Running, can be canceled (Canceling, then Canceled), and fails
        only when its buildTimeoutInMinutes runs out.
        """
        self._require_template(target)
        arm_id = self.resolve(target)
        current = self.service.get_many([arm_id])[arm_id]
        if current is None:
            raise PortalError(f"{target}: not found in the local cloud ({arm_id})")
        steps = [name for name, _minutes in steps_for(current.get("properties") or {})]
        step = CUSTOMIZING if CUSTOMIZING in steps else steps[0]
        self.service.plant_build_fault(arm_id, step, hang=True)
        api_version = self._api_version(arm_id, BUILDABLE.default_api_version)
        try:
            self.service.post_action(arm_id, api_version, "run")
        except ServiceError as exc:
            self.service.clear_build_fault(arm_id)
            raise PortalError(f"{target}: the service refused the build: {exc.code}: {exc.message}") from None
        return self.show(arm_id)

    # -- helpers -------------------------------------------------------------------------------------

    def _change(self, target: str, edit: Any) -> CloudResource:
        arm_id = self.resolve(target)
        found = self.service.get_many([arm_id])[arm_id]
        if found is None:
            raise PortalError(f"{target}: not found in the local cloud ({arm_id})")
        body = {k: copy.deepcopy(v) for k, v in found.items() if k not in _ENVELOPE}
        edit(body)
        bad = lone_surrogate_path(body)
        if bad is not None:
            raise PortalError(
                f"{target}: {format_path(bad) or 'the value'} is not UTF-8 text (a byte the command line "
                "passed as it was); Azure holds UTF-8 text only"
            )
        self.service.raw_write(arm_id, body)
        return self.show(arm_id)

    def _require_template(self, target: str) -> None:
        rid = parse_resource_id(self.resolve(target))
        if rid is None or rid.arm_type.lower() != "microsoft.virtualmachineimages/imagetemplates":
            raise PortalError(f"{target}: not an image template")

    def _api_version(self, arm_id: str, default: str) -> str:
        for entry in self.state.resources:
            if fold_id(entry.arm_id) == fold_id(arm_id):
                return entry.api_version
        return default

    def _wrap(self, body: Mapping[str, Any]) -> CloudResource:
        arm_id = str(body.get("id"))
        folded = fold_id(arm_id)
        address = None
        in_state = False
        for entry in self.state.resources:
            if fold_id(entry.arm_id) == folded:
                address, in_state = entry.address, True
        if address is None:
            for resource in self.stack.resources:
                if fold_id(resource.arm_id) == folded:
                    address = resource.address
        if address is None:
            rid = parse_resource_id(arm_id)
            rtype = for_arm_type(rid.arm_type) if rid else None
            if rid is not None and rtype is not None:
                address = f"{rtype.kind}.{rid.name}"
        return CloudResource(arm_id, str(body.get("type")), address, body, in_state)


def parse_path(text: str) -> JsonPath:
    """`properties.customize[0].inline[1]` → ("properties", "customize", 0, "inline", 1)."""
    parts: list[str | int] = []
    position = 0
    for match in _PATH_RE.finditer(text):
        between = text[position : match.start()]
        if between not in ("", "."):
            raise PortalError(f"{text}: not a JSON path such as properties.vmProfile.vmSize")
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    if not parts or position != len(text) or isinstance(parts[0], int):
        raise PortalError(f"{text}: not a JSON path such as properties.vmProfile.vmSize")
    return tuple(parts)


def parse_value(text: str) -> Any:
    """A value as typed: JSON when it parses (64, true, ["a"], {"k": 1}), a plain string otherwise."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON (or beyond what JSON numbers and nesting allow)
        return text


def set_path(body: dict[str, Any], path: JsonPath, value: Any, *, remove: bool, shown: str) -> None:
    node: Any = body
    for index, part in enumerate(path[:-1]):
        nxt = path[index + 1]
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise PortalError(f"{shown}: no item [{part}] there")
            node = node[part]
            continue
        if not isinstance(node, dict):
            raise PortalError(f"{shown}: {part!r} is not inside an object")
        if part not in node:
            if remove:
                raise PortalError(f"{shown}: nothing to remove")
            node[part] = [] if isinstance(nxt, int) else {}
        node = node[part]
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(node, list):
            raise PortalError(f"{shown}: not a list")
        if remove:
            if last >= len(node):
                raise PortalError(f"{shown}: nothing to remove")
            node.pop(last)
        elif last < len(node):
            node[last] = value
        elif last == len(node):
            node.append(value)
        else:
            raise PortalError(f"{shown}: the list has {len(node)} item(s)")
        return
    if not isinstance(node, dict):
        raise PortalError(f"{shown}: not inside an object")
    if remove:
        if last not in node:
            raise PortalError(f"{shown}: nothing to remove")
        node.pop(last)
    else:
        node[last] = value
