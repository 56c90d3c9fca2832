"""A provider error as one line that names the resource it is about, for the CLI's `Error:` lines."""

from __future__ import annotations

from providers.base import ProviderError
from providers.catalog import EXTERNAL_KINDS, for_arm_type
from providers.catalog.arm_ids import parse_resource_id


def address_of(arm_id: str) -> str:
    """The address a resource id has in a stack (`imageDefinition.corpImages/ubuntu2204`), or the id."""
    rid = parse_resource_id(arm_id)
    if rid is None:
        return arm_id
    rtype = for_arm_type(rid.arm_type)
    if rtype is not None:
        return f"{rtype.kind}.{rid.name}"
    kind = EXTERNAL_KINDS.get(rid.arm_type.lower())
    return f"data.{kind}.{rid.name}" if kind else arm_id


def one_line(error: ProviderError) -> str:
    """`<address>: <code>: <message>`, the address left out when the error is about no resource."""
    text = " ".join(str(error).split())
    if error.resource_id:
        return f"{address_of(error.resource_id)}: {text}"
    return text
