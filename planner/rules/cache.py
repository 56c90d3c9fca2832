"""The rules' findings for an unchanged stack, kept in the stack's runtime folder so they are not found again.

Every `plan`, `apply` and `validate` checks the whole stack against every rule: about half of the time a
no-op plan of a large stack takes. The rules are a function of what the stack loaded and of aibplan's own
code, so their findings are kept in `.aibplan/[ENV/]validation-cache.json` under a key made of:

- the text of every file the load read (resource files, aibplan.json, the environment's and --var-file
  parameter files), with its name: a changed file, a file added or removed, a changed suppression in
  aibplan.json `rules` or an `// aibplan-ignore` comment;
- the --var values (each as an HMAC, as secrets are fingerprinted) and the --var-file names, in order;
- the environment, the provider, the stack folder, and the hash of the evaluated resources and settings
  the load computes anyway (`Stack.inputs_hash`);
- aibplan's version and a hash of the source of the rules, the catalog, the loader, normalisation and
  redaction (`code_version`), so a new or changed rule never sees an old answer (nor a plan an old
  answer of planning.screened, which keeps what it finds under the same key).

One key is kept (the last): any change of any input finds everything again, cross-resource rules
included. The file holds the key and the findings (already redacted: `Diagnostic` fingerprints every
secret a message or hint quotes, and what it keeps of a path is redacted again here), never the stack's
text. A cache file that cannot be read, is not JSON, or holds anything else than what this writes is
ignored (and written anew): the rules run as if there were none. Writing is best effort and atomic: a
read-only folder only means no cache. Loader and suppression findings are not kept: they are made again on
every load (they are cheap, and the plan needs the loaded stack anyway).

The stack's graph is kept beside them under the same key (`graph-cache.json`, stack.graph.graph_document),
and made again from its nodes and edges, in the order they were added, while the key is the same. Only
the graph of a stack without graph findings (a dangling dependsOn, a cycle) is kept, so those are found
again on every load; and none when the load marked secret values or redaction would change any of its
text (a node's name is a value of the stack: an id it refers to, a region).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from state.redact import known_secrets, redact_text
from state.store import write_cache

from ..diagnostics import Diagnostic, Severity
from ..stack.kept_graph import KeptGraph, graph_from_document
from ..stack.model import Stack

if TYPE_CHECKING:
    import networkx as nx

CACHE_FILE = "validation-cache.json"
# The stack's graph, kept under the same key (stack.graph.graph_document).
GRAPH_FILE = "graph-cache.json"
FORMAT = 1
_VARIABLE_KEY = b"aibplan validation cache v1"
# Whose source decides what the rules find: the rules, the catalog they read, the loader and placement.
_SOURCES = (
    "planner/rules",
    "planner/stack",
    "providers/catalog",
    "planner/diagnostics.py",
    "planner/normalize.py",
    # What planning.screened keeps under the same key: which normalised bodies redaction leaves as they are.
    "state/jsontext.py",
    "state/redact.py",
    "state/secrets.py",
)


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """aibplan's version and a hash of the source of the rules, the catalog and the loader. The version is
    the package's own (`planner.__version__`, which the installed metadata is made from: reading the
    metadata instead costs a thousand-template plan a twentieth of its time)."""
    from .. import __version__ as release

    top = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for source in _SOURCES:
        path = top / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(top).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return f"{release}+{digest.hexdigest()[:16]}"


def cache_key(
    stack: Stack,
    variables: Sequence[tuple[str, str]],
    var_files: Sequence[Path],
    code: str,
) -> str:
    """The key of what the rules find in `stack` (loaded with `variables` and `var_files`) with aibplan's
    `code` version: a change of any input gives another key."""
    digest = hashlib.sha256()

    def add(part: Any) -> None:
        digest.update(json.dumps(part, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n")

    add({"format": FORMAT, "code": code, "root": str(stack.root.resolve())})
    add({"environment": stack.config.environment, "provider": stack.config.provider})
    add(
        [
            [name, hmac.new(_VARIABLE_KEY, value.encode(), hashlib.sha256).hexdigest()]
            for name, value in variables
        ]
    )
    add([str(file) for file in var_files])
    add(stack.inputs_hash)
    texts = stack.texts
    add(
        [
            [name, hashlib.sha256(texts[name].encode("utf-8", "surrogatepass")).hexdigest()]
            for name in sorted(texts)
        ]
    )
    return digest.hexdigest()


def cache_path(stack: Stack) -> Path:
    return stack.runtime_dir / CACHE_FILE


def read_graph(stack: Stack, key: str) -> KeptGraph | None:
    """The graph kept for `stack` under `key`, made again; None when there is none (or not one of it)."""
    try:
        data = orjson.loads((stack.runtime_dir / GRAPH_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
        return None
    return graph_from_document(data.get("graph"), stack)


def write_graph(
    stack: Stack, key: str, graph: nx.DiGraph, edges: list[tuple[str, str]], *, create: bool
) -> None:
    """Keep the graph drawn from `stack` (`edges` in the order they were added) under `key`; best effort.
    A node's name is a value of the stack (an id it refers to, a region): nothing is kept when the load
    marked secret values, or when redaction would change any text of the graph."""
    from ..stack.graph import graph_document

    if known_secrets():
        return
    try:
        document = graph_document(graph, edges)
    except ValueError:
        return
    if any(redact_text(text) != text for text in _graph_texts(document)):
        return
    write_cache(
        stack.runtime_dir / GRAPH_FILE,
        [orjson.dumps({"format": FORMAT, "key": key, "graph": document})],
        create=create,
    )


def _graph_texts(document: dict[str, Any]) -> Iterator[str]:
    for name, data in document["nodes"]:
        yield name
        yield from data.values()
    for _before, _after, reasons, path in document["edges"]:
        yield from reasons
        yield from (step for step in path if isinstance(step, str))


def read_cached(path: Path, key: str) -> list[Diagnostic] | None:
    """The findings kept under `key`, or None (no file, another key, or a file this did not write)."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
        return None
    found = data.get("diagnostics")
    if not isinstance(found, list):
        return None
    try:
        return [_diagnostic(item) for item in found]
    except (TypeError, ValueError, KeyError):
        return None


def write_cached(path: Path, key: str, diagnostics: Sequence[Diagnostic], *, create: bool) -> None:
    """Keep `diagnostics` under `key` (best effort: a folder aibplan cannot write only means no cache);
    the runtime folder is made when `create`, else the cache is kept only where it exists already."""
    document = {"format": FORMAT, "key": key, "diagnostics": [_stored(d) for d in diagnostics]}
    write_cache(path, json.dumps(document, ensure_ascii=False, sort_keys=True), create=create)


def _stored(d: Diagnostic) -> dict[str, Any]:
    return {
        "code": d.code,
        "severity": d.severity.value,
        "message": d.message,
        "address": d.address,
        "path": [redact_text(p) if isinstance(p, str) else p for p in d.path],
        "file": d.file,
        "line": d.line,
        "column": d.column,
        "hint": d.hint,
        "extra": [[k, redact_text(v)] for k, v in d.extra],
    }


def _diagnostic(item: Any) -> Diagnostic:
    if not isinstance(item, dict):
        raise TypeError("not an object")
    path = item["path"]
    extra = item["extra"]
    if not isinstance(path, list) or not all(isinstance(p, str | int) for p in path):
        raise TypeError("path")
    if not isinstance(extra, list) or not all(
        isinstance(e, list) and len(e) == 2 and all(isinstance(x, str) for x in e) for e in extra
    ):
        raise TypeError("extra")
    return Diagnostic(
        code=_text(item["code"]),
        severity=Severity(item["severity"]),
        message=_text(item["message"]),
        address=_optional(item["address"], str),
        path=tuple(path),
        file=_optional(item["file"], str),
        line=_optional(item["line"], int),
        column=_optional(item["column"], int),
        hint=_optional(item["hint"], str),
        extra=tuple((k, v) for k, v in extra),
    )


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _optional(value: Any, kind: type) -> Any:
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise TypeError(f"not a {kind.__name__}")
    return value
