"""Which api versions the simulated cloud's front door accepts, and what it answers for the others.

ARM checks `api-version` on every request before a resource provider sees it. What it answers depends on
whether the version means anything at all (recorded in issue threads, not in traffic; see
tests/fixtures/recorded/README.md, "Errors"):

- a value no provider registers (`not-a-version`, `2099-01-01`): 400 InvalidApiVersionParameter, "The
  api-version '<v>' is invalid. The supported versions are '<list, no spaces>'.";
- a version some provider registers, but not for this type (a gallery at an Image Builder version):
  400 NoRegisteredProviderFound, "No registered resource provider found for location '<loc>' and API
  version '<v>' for type '<type>'. The supported api-versions are '<list, comma and space>'. The supported
  locations are '<list>'."

The versions are the catalog's, so the emulator, the simulated service and the validator agree. ARM's own
endpoints (subscriptions, resource groups, the resources of a group, tenants) take any well-formed
version: the simulated cloud does not keep Microsoft.Resources' own list.
"""

from __future__ import annotations

import functools
import re

from ..catalog import RESOURCE_TYPES, ResourceType, api_version_key, for_arm_type
from ..catalog.artifacts import ARTIFACT_TYPES, artifact_type
from ..catalog.regions import AIB_REGIONS, AZURE_REGIONS
from .errors import ServiceError
from .region_names import display_name

WELL_FORMED = re.compile(r"^\d{4}-\d{2}-\d{2}(-[a-z]+)?$", re.IGNORECASE)
RUN_OUTPUTS = "/runoutputs"


@functools.cache
def front_door_versions() -> tuple[str, ...]:
    """Every version some type the simulated cloud serves registers, newest first."""
    found = {v for rtype in (*RESOURCE_TYPES, *ARTIFACT_TYPES) for v in rtype.all_api_versions()}
    return tuple(sorted(found, key=api_version_key, reverse=True))


def resource_type(arm_type: str) -> ResourceType | None:
    """The catalog entry whose versions a request for `arm_type` is checked against (run outputs are
    served at their image template's versions)."""
    if arm_type.lower().endswith(RUN_OUTPUTS):
        arm_type = arm_type[: -len(RUN_OUTPUTS)]
    return for_arm_type(arm_type) or artifact_type(arm_type)


def check_well_formed(api_version: str) -> None:
    """ARM's own endpoints: any version that looks like one."""
    if not WELL_FORMED.match(api_version):
        raise invalid(api_version)


def check_for_type(arm_type: str, api_version: str, location: str | None) -> None:
    """A request for a resource (or collection) of `arm_type`; types the catalog does not know pass."""
    rtype = resource_type(arm_type)
    if rtype is None:
        check_well_formed(api_version)
        return
    known = rtype.all_api_versions()
    if api_version in known:
        return
    if api_version not in front_door_versions():
        raise invalid(api_version)
    namespace, _, short_type = rtype.arm_type.partition("/")
    regions = AIB_REGIONS if namespace.lower() == "microsoft.virtualmachineimages" else AZURE_REGIONS
    raise ServiceError(
        400,
        "NoRegisteredProviderFound",
        f"No registered resource provider found for location '{location or 'global'}' and API version "
        f"'{api_version}' for type '{short_type}'. The supported api-versions are "
        f"'{', '.join(sorted(known, key=api_version_key, reverse=True))}'. The supported locations are "
        f"'{', '.join(display_name(r) for r in sorted(regions))}'.",
    )


def invalid(api_version: str) -> ServiceError:
    return ServiceError(
        400,
        "InvalidApiVersionParameter",
        f"The api-version '{api_version}' is invalid. The supported versions are "
        f"'{','.join(front_door_versions())}'.",
    )
