"""The simulated cloud's resources in SQLite: one row per resource, keyed by its folded id, with its type,
resource group, parent, api version and body. No rules here: `simulated_rules` says what the service
refuses and adds, `simulated.SimulatedAzure` puts the two together behind the REST surface.

One connection (WAL, so several processes can share the file) behind one re-entrant lock; a write that
reads first takes the lock and a `transaction()` around both.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from state.jsontext import read_json

from ..catalog import for_arm_type
from ..catalog.arm_ids import ResourceId, fold_id, fold_location, parse_resource_id
from ..catalog.artifacts import artifact_type
from .computed import answered_id

Body = dict[str, Any]
# A stored resource as `row` returns it: (id as written, type, body text, api version).
Row = tuple[str, str, str, str]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    key TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    rg TEXT NOT NULL,
    parent TEXT,
    api_version TEXT NOT NULL,
    body TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_parent ON resources(parent);
CREATE INDEX IF NOT EXISTS resources_rg ON resources(rg);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class ResourceStore:
    """The resources table of one database file (or ":memory:")."""

    def __init__(self, db_path: str) -> None:
        if db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.db = sqlite3.connect(db_path, timeout=60, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def transaction(self) -> _Transaction:
        return _Transaction(self.db)

    def row(self, arm_id: str) -> Row | None:
        with self.lock:
            row = self.db.execute(
                "SELECT id, type, body, api_version FROM resources WHERE key = ?", (fold_id(arm_id),)
            ).fetchone()
        return None if row is None else (row[0], row[1], row[2], row[3])

    def rows(self, arm_ids: list[str]) -> dict[str, tuple[str, str, str]]:
        """(id, type, body text) of those that exist, by folded id; one query per 500 ids."""
        found: dict[str, tuple[str, str, str]] = {}
        with self.lock:
            for start in range(0, len(arm_ids), 500):
                chunk = [fold_id(i) for i in arm_ids[start : start + 500]]
                marks = ",".join("?" * len(chunk))
                for row in self.db.execute(
                    f"SELECT key, id, type, body FROM resources WHERE key IN ({marks})", chunk
                ):
                    found[row[0]] = (row[1], row[2], row[3])
        return found

    def rows_under(self, prefix: str) -> list[tuple[str, str, str]]:
        """(id, type, body text) of every resource whose folded id starts with `prefix`, by id."""
        with self.lock:
            rows = self.db.execute(
                "SELECT id, type, body FROM resources WHERE key LIKE ? ESCAPE '\\' ORDER BY key",
                (prefix.replace("\\", "\\\\").replace("_", r"\_").replace("%", r"\%") + "%",),
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows if fold_id(r[0]).startswith(prefix)]

    def rows_of_type(self, arm_type: str, prefix: str = "") -> list[tuple[str, str, str]]:
        """(id, type, body text) of the resources of `arm_type` (whose folded id starts with `prefix`, when
        given), ordered by id."""
        with self.lock:
            rows = self.db.execute(
                "SELECT id, type, body FROM resources WHERE type = ? ORDER BY key", (arm_type.lower(),)
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows if not prefix or fold_id(r[0]).startswith(prefix)]

    def created(self, arm_id: str) -> float | None:
        """When the resource was first written; None when it is not here."""
        with self.lock:
            row = self.db.execute(
                "SELECT created FROM resources WHERE key = ?", (fold_id(arm_id),)
            ).fetchone()
        return None if row is None else float(row[0])

    def child_ids(self, arm_id: str) -> list[str]:
        rows = self.db.execute("SELECT id FROM resources WHERE parent = ?", (fold_id(arm_id),)).fetchall()
        return [str(r[0]) for r in rows]

    def write(self, rid: ResourceId, api_version: str, body: Body, *, created: bool, now: float) -> str:
        """Write the resource; returns the body text stored."""
        parent = rid.parent()
        key = fold_id(str(rid))
        text = json.dumps(body, sort_keys=True)
        if created:
            self.db.execute(
                "INSERT OR REPLACE INTO resources "
                "(key, id, type, rg, parent, api_version, body, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    str(rid),
                    rid.arm_type.lower(),
                    rid.resource_group.lower(),
                    fold_id(str(parent)) if parent else None,
                    api_version,
                    text,
                    now,
                    now,
                ),
            )
        else:
            self.db.execute(
                "UPDATE resources SET body = ?, api_version = ?, updated = ? WHERE key = ?",
                (text, api_version, now, key),
            )
        return text

    def all_of_type(self, arm_type: str) -> list[tuple[str, str, str]]:
        """(id, type, body text) of every resource of `arm_type`."""
        with self.lock:
            rows = self.db.execute(
                "SELECT id, type, body FROM resources WHERE type = ? ORDER BY key", (arm_type.lower(),)
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def delete(self, arm_id: str) -> None:
        self.db.execute("DELETE FROM resources WHERE key = ?", (fold_id(arm_id),))

    def delete_with_extensions(self, arm_id: str) -> None:
        """The resource and the extension resources attached to it (`<id>/providers/...`)."""
        key = fold_id(arm_id)
        prefix = (key + "/providers/").replace("_", r"\_").replace("%", r"\%")
        self.db.execute("DELETE FROM resources WHERE key = ? OR key LIKE ? ESCAPE '\\'", (key, prefix + "%"))

    def delete_with_children(self, arm_id: str) -> bool:
        """The resource and its direct children gone, whatever holds them; False when none was there."""
        with self.lock, self.transaction():
            cur = self.db.execute(
                "DELETE FROM resources WHERE key = ? OR parent = ?", (fold_id(arm_id), fold_id(arm_id))
            )
        return cur.rowcount > 0

    def count(self) -> int:
        with self.lock:
            return int(self.db.execute("SELECT COUNT(*) FROM resources").fetchone()[0])


def present(row: tuple[str, ...]) -> Body:
    """A stored resource as ARM returns it: id (spelled as the service spells it: an image template's with
    `/resourcegroups/`), name and type first, the region in its canonical form."""
    arm_id, arm_type, body_text = row[0], row[1], row[2]
    rid = parse_resource_id(arm_id)
    assert rid is not None
    body = read_json(body_text)
    if isinstance(body.get("location"), str):
        body["location"] = fold_location(body["location"])
    rtype = for_arm_type(arm_type) or artifact_type(arm_type)
    return {"id": answered_id(rtype, arm_id), "name": rid.names[-1], "type": rid.arm_type, **body}


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
