"""Plan-time checks of what a stack refers to but does not manage: a subnet, a source managed image or
image version, an identity, a gallery or image definition made elsewhere. Each is read through the
provider, so a missing one is a plan error at the line that names it, not a failed apply an hour in.

A reference is not checked when the stack itself makes it (or, for an image version, makes its image
definition: a build of another template may produce the version).
"""

from __future__ import annotations

from dataclasses import dataclass

from providers.base import Provider, ProviderError, ResourceRef
from providers.catalog import EXTERNAL_API_VERSIONS, title_of
from providers.catalog.arm_ids import ResourceId, fold_id, parse_resource_id

from ..diagnostics import Diagnostic, JsonPath, Severity
from ..stack.graph import Reference, references, target_of
from ..stack.loader import locator_for, resource_sources
from ..stack.locate import place_all
from ..stack.model import Stack

MISSING = "AIB8001"
UNCHECKED = "AIB8002"


@dataclass(frozen=True)
class _Use:
    """Where a resource refers to something made elsewhere: its address, the path in its body, and why."""

    address: str
    path: JsonPath
    reason: str


def check_external_references(stack: Stack, provider: Provider) -> list[Diagnostic]:
    """An error for each referenced resource the provider says does not exist."""
    managed = {fold_id(r.arm_id) for r in stack.resources}
    wanted: dict[str, tuple[ResourceRef, list[_Use]]] = {}
    for resource in stack.resources:
        for reference in references(resource):
            rid = parse_resource_id(reference.arm_id)
            target = _what_must_exist(rid, reference) if rid is not None else None
            if target is None or fold_id(str(target)) in managed:
                continue
            if target_of(target, reference) is not target and fold_id(str(target.parent())) in managed:
                continue  # the stack makes what holds it: a build of another template may make it
            api_version = EXTERNAL_API_VERSIONS.get(target.arm_type.lower())
            if api_version is None:
                continue
            key = fold_id(str(target))
            if key not in wanted:
                wanted[key] = (ResourceRef(str(target), target.arm_type, api_version), [])
            wanted[key][1].append(_Use(resource.address, reference.path, reference.reason))
    if not wanted:
        return []
    diagnostics = []
    refs = [ref for ref, _ in wanted.values()]
    try:
        found = provider.read_many(refs)
    except ProviderError:
        found = {}
        for ref in refs:
            try:
                found[ref.arm_id] = provider.read(ref)
            except ProviderError as exc:
                for use in wanted[fold_id(ref.arm_id)][1]:
                    diagnostics.append(_unchecked(ref, use, exc))
                found[ref.arm_id] = {}
    for ref, uses in wanted.values():
        if found.get(ref.arm_id) is None:
            diagnostics.extend(_missing(ref, use) for use in uses)
    return place_all(diagnostics, locator_for(stack), resource_sources(stack))


def _what_must_exist(rid: ResourceId, reference: Reference) -> ResourceId | None:
    # A distribution target names the version to make; `latest` means whichever version exists.
    holder = target_of(rid, reference)
    if holder is not rid and (reference.output or rid.names[-1].lower() == "latest"):
        return holder
    return rid


def _kind(ref: ResourceRef) -> str:
    return title_of(ref.arm_type)


def _missing(ref: ResourceRef, use: _Use) -> Diagnostic:
    return Diagnostic(
        MISSING,
        Severity.ERROR,
        f"the {_kind(ref)} {ref.arm_id} does not exist",
        address=use.address,
        path=use.path,
        hint="aibplan does not manage it: create it first, or correct the id",
    )


def _unchecked(ref: ResourceRef, use: _Use, error: ProviderError) -> Diagnostic:
    return Diagnostic(
        UNCHECKED,
        Severity.WARNING,
        f"could not check that the {_kind(ref)} {ref.arm_id} exists: {' '.join(str(error).split())}",
        address=use.address,
        path=use.path,
    )
