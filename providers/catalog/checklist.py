"""What makes a kind's declaration complete, and the checks that say what is missing or inconsistent.

Every part of `ResourceType` without a default must be given (the constructor says which are missing);
`declaration_problems` then checks that the parts agree with each other and with the rest of the
catalog: versions, schema, scopes, references, cascades, mutability, and the service facts' citations.
A test runs it over the registry, so a kind added with a part missing or wrong fails with the reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

from .arm_ids import Scope
from .behaviour import PATCH, PUT
from .paths import PathPattern, has_prefix
from .references import PARENT, SCOPE
from .schema import read_only_fields
from .types import ResourceType

# What a kind must declare, in the words of the docs (docs/architecture.md, "The catalog").
REQUIRED_PARTS: dict[str, str] = {
    "kind": "its address prefix (`imageTemplate` in `imageTemplate.web`)",
    "title": "its name in words, for messages",
    "arm_type": "its ARM type",
    "scopes": "where it may live: a resource group, a subscription, a resource",
    "api_versions": "the api versions it accepts",
    "default_api_version": "the api version used when a file names none",
    "schema": "its fields per api version, read-only ones marked (None for kinds aibplan never writes)",
    "references": "which paths hold ids of which kinds, and the graph edge's reason",
    "cascades": "which replaced references replace it too, and why",
    "defaults": "values the service treats as leaving the field out",
    "create_only": "fields that cannot change in place",
    "service": "what the service computes, rewrites and drops, how it answers and updates",
}
_CITED = ("recorded:", "docs:")


def required_parts() -> tuple[str, ...]:
    """The fields of ResourceType that have no default (what the constructor insists on)."""
    return tuple(
        f.name
        for f in dataclasses.fields(ResourceType)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )


def declaration_problems(rtype: ResourceType, known_kinds: Iterable[str]) -> list[str]:
    """What is wrong with `rtype`'s declaration, one sentence each; empty when nothing is."""
    known = set(known_kinds)
    return [f"{rtype.kind or '?'}: {problem}" for problem in _problems(rtype, known)]


def _problems(rtype: ResourceType, known: set[str]) -> Iterator[str]:
    versions = rtype.all_api_versions()
    if not rtype.kind or not rtype.kind[0].islower() or not rtype.kind.isalnum():
        yield "the kind is a camelCase word (it starts every address)"
    if not rtype.title:
        yield "a title (the kind in words) is needed for messages"
    if not versions:
        yield "no api versions"
    if rtype.default_api_version not in versions:
        yield f"the default api version {rtype.default_api_version} is not among its api versions"
    if not rtype.scopes:
        yield "no scope: say where it lives (Scope.RESOURCE_GROUP, SUBSCRIPTION or RESOURCE)"
    segments = len(rtype.arm_type.split("/")) - 1
    if segments != rtype.name_segments:
        yield f"{rtype.arm_type} has {segments} name segment(s), not {rtype.name_segments}"
    if rtype.parent_kind is not None and rtype.parent_kind not in known:
        yield f"its parent kind {rtype.parent_kind} is not in the catalog"
    yield from _schema_problems(rtype, versions)
    yield from _edge_problems(rtype, known)
    yield from _service_problems(rtype, known, versions)


def _schema_problems(rtype: ResourceType, versions: tuple[str, ...]) -> Iterator[str]:
    schema = rtype.schema
    if schema is None:
        return
    missing = [v for v in versions if v not in schema.versions]
    if missing:
        yield f"its schema does not cover api version(s) {', '.join(missing)}"
    fields = set(schema.root.fields)
    if rtype.located != ("location" in fields):
        yield "`located` and the schema disagree about a `location` field"
    for what, patterns in (
        ("create-only", rtype.create_only),
        ("PATCH-able", tuple(p for _, ps in rtype.patchable_since for p in ps)),
        ("reference", tuple(r.path for r in rtype.references)),
        ("default", tuple(rtype.defaults)),
    ):
        for pattern in patterns:
            if pattern[0] not in fields:
                yield f"the {what} path {'.'.join(pattern)} is not a field of its schema"


def _edge_problems(rtype: ResourceType, known: set[str]) -> Iterator[str]:
    reasons = {r.reason for r in rtype.references}
    unknown_after = [k for k in rtype.applied_before if k not in known]
    if unknown_after:
        yield f"it is applied before unknown kind(s) {', '.join(unknown_after)}"
    for reference in rtype.references:
        if not reference.path or not reference.reason or not reference.kinds:
            yield "a reference needs a path, a reason and the kinds it names"
        unknown = [k for k in reference.kinds if k not in known]
        if unknown:
            yield f"the reference at {'.'.join(reference.path)} names unknown kind(s) {', '.join(unknown)}"
    for reason in rtype.cascades:
        if reason == PARENT and rtype.parent_kind is None:
            yield "it cascades on its parent but has no parent kind"
        elif reason == SCOPE and Scope.RESOURCE not in rtype.scopes:
            yield "it cascades on its scope but cannot live on a resource"
        elif reason not in (PARENT, SCOPE) and reason not in reasons:
            yield f"it cascades on '{reason}', which none of its references is"
        if "{origin}" not in rtype.cascades[reason]:
            yield f"the cascade text for '{reason}' does not name the replaced resource ({{origin}})"


def _service_problems(rtype: ResourceType, known: set[str], versions: tuple[str, ...]) -> Iterator[str]:
    service = rtype.service
    if service.update_verb not in (PATCH, PUT):
        yield f"update_verb is {service.update_verb!r}, not PATCH or PUT"
    if service.second_put_refused and service.update_verb != PATCH:
        yield "a kind whose second PUT is refused is updated by PATCH"
    if rtype.builds and not service.actions:
        yield "a kind builds run from takes POST actions (run, cancel)"
    read_only = _read_only(rtype)
    facts: list[tuple[str, PathPattern, str, str | None, str | None]] = [
        ("computed", f.path, f.citation, f.since, f.until) for f in service.computed
    ]
    facts += [("rewrite", f.path, f.citation, f.since, f.until) for f in service.rewrites]
    facts += [("dropped", f.path, f.citation, f.since, f.until) for f in service.dropped_when_empty]
    for what, path, citation, since, until in facts:
        shown = ".".join(path)
        if not citation.startswith(_CITED):
            yield f"the {what} fact at {shown} cites no evidence ('recorded:FILE#n' or 'docs:...')"
        for bound in (since, until):
            if bound is not None and bound not in versions:
                yield f"the {what} fact at {shown} names api version {bound}, which the kind does not know"
    for fact in service.computed:
        if not fact.only_when_omitted and not _covered(fact.path, read_only):
            yield f"{'.'.join(fact.path)} is always filled in by the service but not read-only in the schema"


def _read_only(rtype: ResourceType) -> tuple[PathPattern, ...]:
    """The envelope and the schema's read-only marks (what catalog.read_only_paths serves)."""
    return (*rtype.read_only, *(read_only_fields(rtype.schema) if rtype.schema is not None else ()))


def _covered(path: PathPattern, read_only: tuple[PathPattern, ...]) -> bool:
    """`path` is read-only, or an object whose fields the schema marks read-only (an identity's ids)."""
    return any(has_prefix(path, p) or (len(p) > len(path) and has_prefix(p, path)) for p in read_only)
