"""Normalise a resource body before diffing, so a plan shows only real changes.

Read-only fields go, values equal to the service default go (omitted == default), ARM ids and regions
are folded (case, spaces), and lists whose order carries no meaning are sorted. What the service is known
to do with a body (the catalog's `ServiceFacts`) is undone: a value it rewrites is brought back to the
form sent, and a field it drops when empty is dropped. The catalog says which paths each rule applies
to; the paths are compiled once per type into a trie so that normalising walks only the parts of a body
that some rule mentions and shares everything else unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import Any

from providers.catalog import ResourceType, for_arm_type, read_only_paths
from providers.catalog.arm_ids import fold_id, fold_location
from providers.catalog.behaviour import Rewrite
from providers.catalog.paths import in_force
from state import ResourceState

from .stack.model import BODY_KEYS

_READ_ONLY = "read_only"
_ID = "id"
_LOCATION = "location"
_ID_KEYS = "id_keys"
_UNORDERED = "unordered"
_EMPTY = "empty"
_VERSIONED = "versioned"  # a rewrite or a drop that holds for some api versions only


@dataclass
class _Node:
    """A node of a type's trie of normalisation rules: what holds at its path, and its children by key
    ("*": any key, "[]": a list's items)."""

    children: dict[str, _Node] = field(default_factory=dict)
    actions: set[str] = field(default_factory=set)
    defaults: tuple[object, ...] = ()
    rewrites: tuple[Rewrite, ...] = ()
    # (since, until) of the api versions a field is dropped when empty in (a Dropped fact).
    dropped: tuple[tuple[str | None, str | None], ...] = ()

    # Children made by merging an exact key with the wildcard, kept so each is built once (performance).
    merged: dict[str, _Node] = field(default_factory=dict)

    def child(self, segment: str | int) -> _Node | None:
        if isinstance(segment, int):
            return self.children.get("[]")
        exact = self.children.get(segment)
        wildcard = self.children.get("*")
        if exact is None:
            return wildcard
        if wildcard is None:
            return exact
        merged = self.merged.get(segment)
        if merged is None:
            merged = self.merged[segment] = _Node(
                children={**wildcard.children, **exact.children},
                actions=exact.actions | wildcard.actions,
                defaults=exact.defaults or wildcard.defaults,
                rewrites=exact.rewrites + wildcard.rewrites,
                dropped=exact.dropped + wildcard.dropped,
            )
        return merged


_TRIES: dict[str, _Node] = {}


def _trie(rtype: ResourceType) -> _Node:
    cached = _TRIES.get(rtype.arm_type)
    if cached is not None:
        return cached
    root = _TRIES[rtype.arm_type] = _Node()

    def mark(pattern: tuple[str, ...], action: str, defaults: tuple[object, ...] = ()) -> _Node:
        node = root
        for segment in pattern:
            node = node.children.setdefault(segment, _Node())
        node.actions.add(action)
        if defaults:
            node.defaults = defaults
        return node

    for pattern in read_only_paths(rtype):
        mark(pattern, _READ_ONLY)
    for pattern, values in rtype.defaults.items():
        mark(pattern, "default", values)
    for pattern in rtype.folded_id_paths():
        mark(pattern, _ID)
    for pattern in rtype.location_paths:
        mark(pattern, _LOCATION)
    for pattern in rtype.id_keyed_maps():
        mark(pattern, _ID_KEYS)
    for pattern in rtype.unordered_lists:
        mark(pattern, _UNORDERED)
    for pattern in rtype.empty_is_omitted:
        mark(pattern, _EMPTY)
    for rewrite in rtype.service.rewrites:
        node = mark(rewrite.path, _VERSIONED)
        node.rewrites = (*node.rewrites, rewrite)
    for dropped in rtype.service.dropped_when_empty:
        node = mark(dropped.path, _VERSIONED)
        node.dropped = (*node.dropped, (dropped.since, dropped.until))
    return root


_DROP = object()


def normalize_body(
    rtype: ResourceType, body: Mapping[str, Any], api_version: str | None = None
) -> dict[str, Any]:
    """The comparable form of a resource body (as written by the user or as returned by the service).

    What the service does only at some api versions is undone when `api_version` is among them, or
    always when it is not given."""
    root = _trie(rtype)
    out: dict[str, Any] = {}
    for key in BODY_KEYS:
        if key not in body or body[key] is None:
            continue
        node = root.child(key)
        value = body[key] if node is None else _normalize(body[key], node, api_version)
        if value is not _DROP:
            out[key] = value
    return out


def applied_body(entry: ResourceState) -> dict[str, Any]:
    """A state entry's applied body in the form a plan compares: normalised at the api version it was sent
    with. The state keeps the body as it was sent (ids as the stack spells them), or, written before
    format 5, normalised already: normalising again changes nothing. A type the catalog does not know
    comes back as stored."""
    rtype = for_arm_type(entry.arm_type)
    if rtype is None:
        return dict(entry.applied)
    return normalize_body(rtype, entry.applied, entry.api_version)


def _normalize(value: Any, node: _Node, api_version: str | None) -> Any:
    actions = node.actions
    if _READ_ONLY in actions:
        return _DROP
    if _VERSIONED in actions:
        for rewrite in node.rewrites:
            if in_force(rewrite.since, rewrite.until, api_version):
                value = rewrite.to_sent(value)
        if value in ({}, [], None) and any(in_force(a, b, api_version) for a, b in node.dropped):
            return _DROP
    if isinstance(value, str):
        if _ID in actions:
            value = fold_id(value)
        elif _LOCATION in actions:
            value = fold_location(value)
    elif isinstance(value, dict):
        if node.children:
            value = _normalize_object(value, node, api_version)
        if _ID_KEYS in actions:
            value = {fold_id(k): v for k, v in value.items()}
    elif isinstance(value, list):
        child = node.children.get("[]")
        if child is not None:
            value = [v for v in (_normalize(item, child, api_version) for item in value) if v is not _DROP]
        if _UNORDERED in actions:
            value = sorted(value, key=_order_key)
    if node.defaults and _is_default(value, node.defaults):
        return _DROP
    if _EMPTY in actions and value in ({}, [], None):
        return _DROP
    return value


def _normalize_object(value: dict[str, Any], node: _Node, api_version: str | None) -> dict[str, Any]:
    """An object's fields normalised where the trie has a rule for them; the others are kept as they are.
    Without a wildcard only the keys the trie names are visited (most of a body's keys have no rule)."""
    if "*" in node.children:
        new: dict[str, Any] = {}
        for key, item in value.items():
            child = node.child(key)
            if child is None:
                new[key] = item
                continue
            normalized = _normalize(item, child, api_version)
            if normalized is not _DROP:
                new[key] = normalized
        return new
    out = value
    for key, child in node.children.items():
        if key not in value:
            continue
        item = value[key]
        normalized = _normalize(item, child, api_version)
        if normalized is item:
            continue
        if out is value:
            out = dict(value)
        if normalized is _DROP:
            del out[key]
        else:
            out[key] = normalized
    return out


def _order_key(item: Any) -> str:
    """Where an item of an unordered list goes: by its JSON text (a string's is what json.dumps makes of
    it, made at once: most such lists hold region names)."""
    if type(item) is str:
        return encode_basestring_ascii(item)
    return json.dumps(item, sort_keys=True, default=str)


def _is_default(value: Any, defaults: tuple[object, ...]) -> bool:
    return any(value == d and type(value) is type(d) for d in defaults)
