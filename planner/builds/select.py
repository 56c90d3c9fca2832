"""Which templates a build command acts on."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from providers.base import ResourceRef
from providers.catalog import BUILDABLE, is_buildable
from state import State
from state.redact import redact

from ..diagnostics import EngineError
from ..normalize import applied_body, normalize_body
from ..stack.model import Stack, loop_instances
from .outcome import BuildTarget
from .record import fingerprint


def resolve_addresses(stack: Stack, names: Sequence[str]) -> list[str]:
    """Template addresses for `names` (`imageTemplate.x` or `x`); every template of the stack for none."""
    templates = [r.address for r in stack.resources if is_buildable(r.kind)]
    prefix = f"{BUILDABLE.kind}."
    if not names:
        return templates
    found: list[str] = []
    for name in names:
        address = name if name.startswith(prefix) else f"{prefix}{name}"
        instances = loop_instances(address, templates)
        if instances:  # a copy loop's name: every template it makes
            found += [a for a in instances if a not in found]
            continue
        if address not in templates:
            close = difflib.get_close_matches(address, templates, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            if "." in name and not name.startswith(prefix):
                hint = "; only image templates are built" + hint
            raise EngineError(f"{name} is not an image template of this stack{hint}")
        if address not in found:
            found.append(address)
    return found


def build_targets(
    stack: Stack, state: State, addresses: Sequence[str]
) -> tuple[list[BuildTarget], list[str]]:
    """The templates to act on, as the state records them, and notes for the user.

    A template the state does not hold has not been created: that is an error when it was named, and a
    note when every template was asked for.
    """
    targets: list[BuildTarget] = []
    notes: list[str] = []
    missing = [a for a in addresses if state.get(a) is None]
    if missing and len(missing) == len(addresses):
        raise EngineError(
            f"{', '.join(missing)} {'has' if len(missing) == 1 else 'have'} not been created yet; run "
            "`aibplan apply` first (or `aibplan apply --run` to create and build)"
        )
    for address in addresses:
        entry = state.get(address)
        if entry is None:
            notes.append(f"{address}: not created yet (run `aibplan apply`); not built")
            continue
        ref = ResourceRef(entry.arm_id, entry.arm_type, entry.api_version)
        target = BuildTarget(address, ref, applied_body(entry), dict(entry.observed) or None)
        resource = stack.by_address.get(address)
        # A template with values known only after apply (reference()) cannot be compared without the cloud.
        if resource is not None and not resource.known_after_apply:
            # The state records the body as redacted (state.redact): compare like with like.
            desired = fingerprint(redact(normalize_body(BUILDABLE, resource.body)))
            if desired != target.fingerprint:
                notes.append(
                    f"{address}: the configuration differs from what was applied; this builds the template "
                    "as it is in the cloud (run `aibplan apply --run` to build the new definition)"
                )
        targets.append(target)
    return targets, notes
