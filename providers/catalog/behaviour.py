"""What the service does with a kind's bodies, per api version, each fact with its evidence.

The recorded traffic under `tests/fixtures/recorded/` (issue 11) is where these facts come from, and a
`citation` says which interaction shows each one (`file#n`, the README's short names allowed), or which
documentation page when nothing was recorded. Three shapes:

- `Computed`: a field the service fills in. `only_when_omitted` ones (a checksum, a principal type) are
  Terraform's Optional+Computed: left out of a diff when the configuration does not set them, compared
  when it does; the others are read-only (the schema marks them, a declaration check keeps the two in
  step). `made` says how the value is made, so the simulated cloud can make it too. A fact may hold only
  in some objects: beside one of some keys (`only_with`: a checksum beside a `scriptUri`), where a key has
  a value (`only_when`: `versioning` on a SharedImage target), or only inside an object the request sent
  (`inside_sent`: `vmProfile: {}`); `replaces` names sent values the service treats as left out (the az
  CLI's `sha256Checksum: ""`).
- `Rewrite`: a value the service answers in another form than the one sent; `to_sent` brings the answer
  back to the sent form, and normalisation applies it; `made` says how the simulated cloud makes the
  answered form from the sent one (None: it answers as sent).
- `Dropped`: a field the service leaves out of its answer when it was sent empty; normalisation drops it,
  and so does the simulated cloud.

`since` is the first api version a fact holds for and `until` the first it no longer does (None: open).
`ServiceFacts` also says how the service answers writes (at once or as a long-running operation), how
an update is sent, what it refuses, and which POST actions it takes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .paths import PathPattern


class Made(Enum):
    """How the service makes a value it fills in (the simulated cloud implements each)."""

    CONSTANT = "constant"  # always `value`
    GUID = "guid"  # a GUID of the resource's own, stable for it (`value` tells two apart)
    TENANT = "tenant"  # the tenant's id
    SCOPE = "scope"  # the id of the resource's scope
    NOW = "now"  # the time of the write
    CALLER = "caller"  # the object id of whoever made the call
    GALLERY_UNIQUE_NAME = "galleryUniqueName"  # <subscription id>-<NAME UPPER-CASED>
    IDENTITY_IDS = "identityIds"  # {principalId, clientId} of the identity the key names
    CHECKSUM = "checksum"  # the SHA-256 of the file a step downloads (the simulated cloud: of its URI)
    RESOLVED_VERSION = "resolvedVersion"  # a platform image `version` resolved (`latest` -> 18.04.202401161)
    STAGING_GROUP = "stagingGroup"  # the group a build stages in: the one given, or IT_<group>_<name>_<guid>
    # Rewrites, made from the value sent:
    WITH_RESOLVED = "withResolved"  # `latest` -> `latest (16.04.202004290)`
    GROUPS_LOWER_CASED = "groupsLowerCased"  # an id's `/resourceGroups/` -> `/resourcegroups/`
    REGION_DISPLAY_NAME = "regionDisplayName"  # `eastus2` -> `East US 2`


@dataclass(frozen=True)
class Computed:
    """A field the service fills in, how it makes the value, and where and in which api versions."""

    path: PathPattern
    made: Made
    citation: str
    value: Any = None
    only_when_omitted: bool = False
    since: str | None = None
    until: str | None = None
    # Filled only in an object holding one of these keys (a checksum beside a scriptUri or sourceUri).
    only_with: tuple[str, ...] = ()
    # Filled only in an object whose fields have these values (versioning on a SharedImage target).
    only_when: tuple[tuple[str, str], ...] = ()
    # Filled only inside an object the request sent: none is made for it (vmProfile's size and disk).
    inside_sent: bool = False
    # Values sent that the service treats as left out and fills in (the az CLI's empty checksum).
    replaces: tuple[Any, ...] = ()

    def applies_to(self, holder: dict[str, Any]) -> bool:
        """True when the object that holds the field is one the service fills it in."""
        if self.only_with and not any(holder.get(key) for key in self.only_with):
            return False
        return all(holder.get(key) == value for key, value in self.only_when)


@dataclass(frozen=True)
class Rewrite:
    """A value the service answers in another form than the one sent (`to_sent` undoes it)."""

    path: PathPattern
    to_sent: Callable[[Any], Any]
    citation: str
    since: str | None = None
    until: str | None = None
    # How the simulated cloud makes the answered form from the sent value (None: answered as sent).
    made: Made | None = None


@dataclass(frozen=True)
class Dropped:
    """A field the service leaves out of its answer when it was sent empty."""

    path: PathPattern
    citation: str
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class Refusal:
    """An ARM error the service answers with; `message` may name `{field}` and `{name}`."""

    status: int
    code: str
    message: str


PATCH = "PATCH"
PUT = "PUT"


@dataclass(frozen=True)
class ServiceFacts:
    """What the service does with a kind: the fields it fills in, rewrites and drops, how it answers writes,
    what it refuses, and which POST actions it takes."""

    computed: tuple[Computed, ...] = ()
    rewrites: tuple[Rewrite, ...] = ()
    dropped_when_empty: tuple[Dropped, ...] = ()
    # Writes are answered at once (201/200 with the body), not as long-running operations.
    synchronous: bool = False
    # How an existing resource is changed: PATCH of the changed fields, or PUT of the whole body.
    update_verb: str = PATCH
    # A second PUT of an existing resource is refused (changes go by PATCH only).
    second_put_refused: bool = False
    # What a PUT that changes a create-only field is answered with.
    create_only_refusal: Refusal = Refusal(
        409, "PropertyChangeNotAllowed", "Changing property '{field}' is not allowed."
    )
    # Child ARM types whose presence makes a delete fail (an image definition holding versions).
    delete_blocked_by: tuple[str, ...] = ()
    # POST actions on the resource (an image template's run and cancel).
    actions: tuple[str, ...] = ()
    # A resource the service reports Failed cannot be repaired in place: delete it and submit it again.
    failed_is_replaced: bool = False
    # Where the body names a principal the service looks up in the directory (a role assignment's
    # principalId); a principal made moments before is not found yet (400 PrincipalNotFound).
    principal_lookup: PrincipalLookup | None = None

    def rewrites_at(self, path: PathPattern) -> tuple[Rewrite, ...]:
        """The rewrites of exactly `path` (the answer's `id`, say), whatever their api versions."""
        return tuple(r for r in self.rewrites if r.path == path)


@dataclass(frozen=True)
class PrincipalLookup:
    """The directory look-up of a principal named in a body, and the refusal while it is not found."""

    path: PathPattern
    refusal: Refusal
    citation: str
