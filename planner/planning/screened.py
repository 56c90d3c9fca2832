"""Which resources' desired bodies hold nothing to fingerprint, kept so a plan does not screen them again.

A plan shows and saves each resource's desired body with every secret in it fingerprinted
(`state.redact.redact` of the normalised body: the body written out once, then searched for the signs of
each secret form). Most bodies hold none, and for a resource whose body is the stack's own (no value known
only after apply, no `ignore_changes` taking the cloud's value) the answer is a function of the stack and
of aibplan's code: the inputs of the rules' cache key (rules.cache: every file the load read, the
variables, the environment, aibplan's version and the source of the rules, the catalog, the loader,
normalisation and redaction). So the addresses whose normalised body came back from redaction unchanged
are kept under that key in `.aibplan/[ENV/]screened-cache.json`, and the next plan of the same stack takes
those bodies as they are (a 5,600-template no-op plan screened 5,600 bodies: about 0.2 s).

What is kept is addresses only, never a body. Nothing is read or kept when the load marked secret values
(a secure parameter: redaction then also looks for those values). A file that cannot be read, is not
JSON, or holds another key or anything else than a list of addresses is ignored (and written anew);
writing is best effort and atomic, as for the rules' findings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from state.redact import known_secrets
from state.store import write_cache

from ..stack.model import Stack

CACHE_FILE = "screened-cache.json"
FORMAT = 1


@dataclass
class Screened:
    """The addresses known to hold nothing to fingerprint (`clean`, as read), and those a plan found so
    (`found`): kept again when they differ."""

    key: str | None
    clean: frozenset[str] = frozenset()
    found: set[str] = field(default_factory=set)

    def holds_nothing_secret(self, address: str) -> bool:
        return address in self.clean

    def note_clean(self, address: str) -> None:
        self.found.add(address)


def read(stack: Stack, key: str | None) -> Screened:
    """What is kept for `stack` under `key` (the rules' cache key; None: nothing is read or kept)."""
    if key is None or known_secrets():
        return Screened(None)
    try:
        with (stack.runtime_dir / CACHE_FILE).open("rb") as handle:
            header = json.loads(handle.readline())
            if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("key") != key:
                return Screened(key)
            addresses = json.loads(handle.readline())
    except (OSError, ValueError, RecursionError):
        return Screened(key)
    if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
        return Screened(key)
    return Screened(key, frozenset(addresses))


def keep(stack: Stack, screened: Screened) -> None:
    """Keep what the plan found (best effort), when it is not what was read; the runtime folder is made
    as the rules' cache makes it."""
    if screened.key is None or known_secrets() or screened.found == screened.clean:
        return
    write_cache(stack.runtime_dir / CACHE_FILE, _lines(screened.key, screened.found), create=True)


def _lines(key: str, addresses: Iterable[str]) -> list[str]:
    return [json.dumps({"format": FORMAT, "key": key}), "\n", json.dumps(sorted(addresses)), "\n"]
