"""The resource groups the ARM emulator knows, kept in a small JSON file beside the simulated cloud.

The simulated service stores resources only; ARM also refuses writes into a group that does not exist
(404 ResourceGroupNotFound). In "auto" mode the first write into an unknown group creates it, as a
person would have with `az group create`, so a local session needs no extra step; a write of a kind
without a region (a role assignment or definition) is let through, and the group is made by the first
write that names a region.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from ..catalog.arm_ids import fold_id, fold_location

GROUPS_FILE = "resource-groups.json"


class ResourceGroups:
    def __init__(self, path: Path | None, *, auto_create: bool) -> None:
        self.path = path
        self.auto_create = auto_create
        self._lock = threading.Lock()
        self._groups: dict[str, dict[str, Any]] = {}
        if path is not None and path.is_file():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                loaded = {}
            if isinstance(loaded, dict):
                self._groups = {fold_id(k): v for k, v in loaded.items() if isinstance(v, dict)}

    def exists(self, group_id: str) -> bool:
        with self._lock:
            return fold_id(group_id) in self._groups

    def get(self, group_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._groups.get(fold_id(group_id))
            return dict(found) if found is not None else None

    def in_subscription(self, subscription: str) -> list[dict[str, Any]]:
        """The subscription's groups, by id."""
        prefix = fold_id(f"/subscriptions/{subscription}/")
        with self._lock:
            return [dict(self._groups[k]) for k in sorted(self._groups) if k.startswith(prefix)]

    def subscriptions(self) -> list[str]:
        """Every subscription that holds a group, as its groups' ids spell it."""
        with self._lock:
            found = {str(group["id"]).split("/")[2] for group in self._groups.values()}
        return sorted(found, key=str.lower)

    def create(self, group_id: str, location: str) -> bool:
        """Create the group; False when it already existed (its location is kept)."""
        with self._lock:
            if fold_id(group_id) in self._groups:
                return False
            name = group_id.rstrip("/").rsplit("/", 1)[-1]
            self._groups[fold_id(group_id)] = {
                "id": group_id,
                "name": name,
                "type": "Microsoft.Resources/resourceGroups",
                "location": fold_location(location),
                "properties": {"provisioningState": "Succeeded"},
            }
            self._save()
            return True

    def delete(self, group_id: str) -> None:
        with self._lock:
            self._groups.pop(fold_id(group_id), None)
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self._groups, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)
