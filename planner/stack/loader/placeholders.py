"""Sample placeholders such as `<region>` left in a stack's values (AIB0005)."""

from __future__ import annotations

import re
from typing import Any

from ...diagnostics import JsonPath, Severity
from .loading import Loading

_SAMPLE_TOKENS = (
    "region",
    "region1",
    "region2",
    "subscriptionid",
    "rgname",
    "imgbuilderid",
    "runoutputname",
    "imagedefname",
    "sharedimagegalname",
    "imagename",
    "vnetrgname",
    "vnetname",
    "subnetname",
    "vmsize",
    "sizeingb",
    "minutes",
    "name",
    "value",
    "imageresourcegroup",
    "imagetemplatename",
    "identityname",
    "galleryname",
    "location",
    "resourcegroup",
    "version",
    "uri",
)
_PLACEHOLDER_RE = re.compile(r"<([A-Za-z][A-Za-z0-9_.\- ]{0,40})>")


def check_placeholders(
    value: Any, path: JsonPath, shown: str, address: str | None, loading: Loading, *, pointer: JsonPath = ()
) -> list[JsonPath]:
    """Report sample placeholders such as <region> that were never replaced; return where they are.

    Inside inline commands only the reference's own sample tokens count: `<` and `>` are shell syntax there.
    """
    found: list[JsonPath] = []
    if isinstance(value, str):
        for match in _PLACEHOLDER_RE.finditer(value):
            token = match.group(1)
            if "inline" in path and token.replace(" ", "").lower() not in _SAMPLE_TOKENS:
                continue
            loading.add(
                "AIB0005",
                Severity.ERROR,
                f"leftover placeholder '<{token}>'",
                file=shown,
                path=path,
                pointer=pointer,
                address=address,
                hint="replace the sample placeholder with a real value or a parameter",
            )
            found.append(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if _PLACEHOLDER_RE.search(key) and check_placeholders(
                key, path, shown, address, loading, pointer=pointer
            ):
                found.append((*path, key))
            found += check_placeholders(item, (*path, key), shown, address, loading, pointer=pointer)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += check_placeholders(item, (*path, index), shown, address, loading, pointer=pointer)
    return found
