"""Azure RBAC as Azure Resource Manager evaluates it: which actions a role's permissions allow, and which
scopes a role assignment reaches.

- A role definition lists permissions; each holds `actions` and `notActions` (control plane) and
  `dataActions` and `notDataActions` (data plane, such as reading a blob). An action is allowed when some
  permission lists it in its actions and not in its notActions; what several roles allow adds up.
- Action patterns are compared without case, and `*` stands for any run of characters, so `*` is every
  action, `*/read` every read and `Microsoft.Compute/*` everything of a namespace. A `*` between two
  slashes may stand for no segment at all: the built-in Managed Identity Operator's
  `.../userAssignedIdentities/*/assign/action` allows `.../userAssignedIdentities/assign/action`.
- An assignment at a scope reaches that scope and everything below it: a subscription holds its resource
  groups, a resource group its resources, a resource its children (a gallery its image definitions).

Deny assignments, conditions and management groups are not modelled.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .arm_ids import fold_id

# Where blobs are served, per cloud: https://<account>.blob.<suffix>/<container>/<name>.
BLOB_HOST = re.compile(
    r"^https://(?P<account>[a-z0-9]{3,24})\.blob\.core\.(?:windows\.net|usgovcloudapi\.net|chinacloudapi\.cn)"
    r"/(?P<container>[^/?#]+)/[^?#]+(?:\?(?P<query>[^#]*))?",
    re.IGNORECASE,
)
STORAGE_ACCOUNTS = "Microsoft.Storage/storageAccounts"


@dataclass(frozen=True)
class Permission:
    """One entry of a role definition's `permissions`."""

    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()
    # Answers given before: a plan asks the same few roles about the same few actions for every template.
    _answers: dict[tuple[str, bool], bool] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def allows(self, action: str, *, data: bool = False) -> bool:
        key = (action, data)
        found = self._answers.get(key)
        if found is None:
            granted, taken = (
                (self.data_actions, self.not_data_actions) if data else (self.actions, self.not_actions)
            )
            found = self._answers[key] = any(action_matches(p, action) for p in granted) and not any(
                action_matches(p, action) for p in taken
            )
        return found


def permissions_from(properties: Mapping[str, Any]) -> tuple[Permission, ...]:
    """The permissions of a role definition body's `properties` (shapes that do not fit are skipped)."""
    listed = properties.get("permissions")
    out = []
    for entry in listed if isinstance(listed, list) else ():
        if isinstance(entry, dict):
            out.append(
                Permission(
                    _strings(entry.get("actions")),
                    _strings(entry.get("notActions")),
                    _strings(entry.get("dataActions")),
                    _strings(entry.get("notDataActions")),
                )
            )
    return tuple(out)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def allows(permissions: Iterable[Permission], action: str, *, data: bool = False) -> bool:
    """True when any of the permissions allows `action`."""
    return any(p.allows(action, data=data) for p in permissions)


def action_matches(pattern: str, action: str) -> bool:
    """True when the action pattern (with `*` wildcards) names `action`, without case."""
    return _compiled(pattern.lower()).fullmatch(action.lower()) is not None


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    parts = [re.escape(part) for part in pattern.split("*")]
    text = ".*".join(parts)
    # "a/*/b": the star may also stand for no segment ("a/b").
    text = text.replace("/.*/", "/(?:.*/)?")
    return re.compile(text)


def scope_covers(scope: str, target: str) -> bool:
    """True when an assignment at `scope` reaches `target` (the same id, or one below it); "/" reaches all."""
    outer, inner = fold_id(scope), fold_id(target)
    return outer in ("", "/") or inner == outer or inner.startswith(outer + "/")


@dataclass(frozen=True)
class BlobTarget:
    """A blob named by URL: the storage account and container its reads and writes are checked against."""

    account: str
    container: str
    signed: bool  # a SAS token in the URL: the request carries its own authorization

    def covered_by(self, scope: str) -> bool:
        """An assignment reaches the blob at the subscription, at a resource group (a URL does not say
        which group holds the account, so any is taken to), or at the account or its container."""
        folded = fold_id(scope)
        parts = folded.strip("/").split("/")
        if folded in ("", "/") or len(parts) <= 4:
            return True  # a subscription or a resource group
        marker = f"/providers/{STORAGE_ACCOUNTS.lower()}/{self.account.lower()}"
        if marker not in folded:
            return False
        rest = folded.split(marker, 1)[1]
        container = f"/blobservices/default/containers/{self.container.lower()}"
        return rest in ("", "/blobservices/default") or rest == container or rest.startswith(container + "/")


def blob_target(url: Any) -> BlobTarget | None:
    """The storage account and container of an Azure Storage blob URL; None for any other value."""
    if not isinstance(url, str):
        return None
    found = BLOB_HOST.match(url.strip())
    if found is None:
        return None
    query = found.group("query") or ""
    signed = any(part.lower().startswith("sig=") for part in query.split("&"))
    return BlobTarget(found.group("account").lower(), found.group("container"), signed)


def missing_actions(
    permissions_at: Sequence[tuple[str, Sequence[Permission]]],
    scope: str,
    actions: Sequence[str],
    *,
    data: bool = False,
    blob: BlobTarget | None = None,
) -> tuple[str, ...]:
    """The actions none of the (assignment scope, role permissions) pairs allows at `scope` (or, for a
    blob, at the blob's account and container)."""
    reaching = [
        perms
        for at, perms in permissions_at
        if (blob.covered_by(at) if blob is not None else scope_covers(at, scope))
    ]
    return tuple(a for a in actions if not any(allows(perms, a, data=data) for perms in reaching))
