"""Files validated alone, outside any stack: what they need but cannot know (a parameter with no value, the
subscription, the resource group, its location) is recorded where it is used and reported once (AIB0010)."""

from __future__ import annotations

import json

from ...diagnostics import Severity
from .loading import Loading

# Files validated alone have no subscription or resource group: ids (resourceId(), the resources' own)
# are built with these stand-ins, so references between the files still resolve; AIB0010 says so.
UNKNOWN_SUBSCRIPTION = "(subscription)"
UNKNOWN_RESOURCE_GROUP = "(resourceGroup)"


def may_be_missing(loading: Loading, shown: str, what: str, why: str) -> None:
    """`what` is not known in `shown`: its uses are left unchecked and reported, not treated as errors."""
    loading.unknown[shown] = loading.unknown.get(shown, frozenset()) | {what}
    loading.unknown_why[(shown, what)] = why


def report_missing(loading: Loading) -> None:
    """One AIB0010 per file and missing value, at its first use, with how many values it leaves unchecked."""
    for (shown, what), uses in loading.missing.items():
        pointer, path, address = uses[0]
        why = loading.unknown_why.get((shown, what))
        name = what.removeprefix("parameter '").removesuffix("'") if what.startswith("parameter '") else None
        loading.add(
            "AIB0010",
            Severity.WARNING,
            f"{what} is not known when this file is validated alone"
            + (f" ({why})" if why else "")
            + f"; {len(uses)} value(s) that use it are not checked",
            file=shown,
            path=path,
            pointer=pointer,
            address=address,
            hint=f"pass --var {name}=VALUE"
            if name
            else "validate the file in its stack (a folder with aibplan.json)",
        )


def report_stand_ins(loading: Loading) -> None:
    """An info per file whose values use the stand-in subscription or resource group."""
    reported: set[str] = set()
    for resource in loading.resources:
        file = resource.source.file
        if file in reported:
            continue
        text = json.dumps([resource.body, resource.depends_on])
        if UNKNOWN_SUBSCRIPTION in text or UNKNOWN_RESOURCE_GROUP in text:
            reported.add(file)
            loading.add(
                "AIB0010",
                Severity.INFO,
                f"the subscription and resource group are not known when files are validated alone: ids use "
                f"{UNKNOWN_SUBSCRIPTION} and {UNKNOWN_RESOURCE_GROUP}, so references between the files given "
                "still resolve",
                file=file,
                pointer=resource.source.pointer,
                address=resource.address,
                hint="validate the file in its stack (a folder with aibplan.json) to check the real ids",
            )
