"""The corpus of recorded Azure traffic (tests/fixtures/recorded), as tests read it: one `Recorded` per
interaction, with the file it comes from, so a failure names `file#n` as the corpus README does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "recorded"
SWAGGER = CORPUS / "swagger"

# The corpus's `kind` of an interaction -> the ARM type aibplan's catalog knows it as.
ARM_TYPES = {
    "imageTemplate": "Microsoft.VirtualMachineImages/imageTemplates",
    "gallery": "Microsoft.Compute/galleries",
    "imageDefinition": "Microsoft.Compute/galleries/images",
    "imageVersion": "Microsoft.Compute/galleries/images/versions",
    "userAssignedIdentity": "Microsoft.ManagedIdentity/userAssignedIdentities",
}


@dataclass(frozen=True)
class Recorded:
    """One interaction of the corpus: what was asked, what the service answered, and where it is kept."""

    file: str  # relative to the corpus folder
    index: int
    source_kind: str  # recording | spec-example
    kind: str
    request: dict[str, Any]
    response: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.file}#{self.index}"

    @property
    def method(self) -> str:
        return str(self.request["method"])

    @property
    def api_version(self) -> str:
        return str(self.request["api_version"])

    @property
    def status(self) -> int:
        return int(self.response["status"])

    def header_names(self) -> set[str]:
        return {name.lower() for name in self.response.get("headers") or {}}


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*.json") if SWAGGER not in p.parents)


def interactions() -> Iterator[Recorded]:
    """Every interaction of every fixture file, in file order and then in the order they happened."""
    for path in corpus_files():
        data = json.loads(path.read_text(encoding="utf-8"))
        name = path.relative_to(CORPUS).as_posix()
        for index, item in enumerate(data["interactions"]):
            yield Recorded(
                name, index, data["source"]["kind"], item["kind"], item["request"], item["response"]
            )


def by_file() -> dict[str, list[Recorded]]:
    """The interactions grouped by file, each group in the order it happened."""
    grouped: dict[str, list[Recorded]] = {}
    for item in interactions():
        grouped.setdefault(item.file, []).append(item)
    return grouped


# The corpus's kinds aibplan plans, with their ARM types (image versions are made by builds, not planned).
PLANNED = {
    **{kind: arm_type for kind, arm_type in ARM_TYPES.items() if kind != "imageVersion"},
    "roleAssignment": "Microsoft.Authorization/roleAssignments",
}
# Placeholders the REST spec's examples leave in ids, regions and sizes, filled in (in this order) so that
# the ids parse and the regions and sizes are real ones.
SPEC_PLACEHOLDERS = {
    "{updated_aci_subnet}": "/subscriptions/{subscription-id}/resourceGroups/myResourceGroup/providers/"
    "Microsoft.Network/virtualNetworks/vnetname/subnets/aci",
    "{updated_vmsize}": "Standard_D4s_v3",
    "{subscription-id}": "00000000-0000-0000-0000-0000000000aa",
    '"1_location"': '"westus"',
}


@dataclass(frozen=True)
class Pair:
    """A write the service accepted and what it answered: a create (PUT, then the GET after it, or the
    PUT's own answer when no GET was recorded) or a PATCH (its answer)."""

    write: Recorded
    answer: Recorded  # the interaction whose response body is the resource as the service holds it
    kind: str

    @property
    def where(self) -> str:
        shown = self.write.where
        return shown if self.answer is self.write else f"{shown} -> #{self.answer.index}"


def filled(value: Any) -> Any:
    """A body with the spec examples' placeholders filled in (a recording has none)."""
    text = json.dumps(value)
    for placeholder, replacement in SPEC_PLACEHOLDERS.items():
        text = text.replace(placeholder, replacement)
    return json.loads(text)


def pairs(method: str) -> list[Pair]:
    """Every accepted `method` (PUT or PATCH) with a body, of a kind aibplan plans, with its answer."""
    found: list[Pair] = []
    for items in by_file().values():
        for position, item in enumerate(items):
            if item.method != method or item.kind not in PLANNED or item.status >= 300:
                continue
            if not isinstance(item.request.get("body"), dict):
                continue
            path = item.request["path"].lower()
            later = next(
                (
                    other
                    for other in items[position + 1 :]
                    if other.request["path"].lower() == path
                    and other.method in ("GET", "PUT", "PATCH", "DELETE")
                ),
                None,
            )
            answer = later if later is not None and later.method == "GET" else item
            if isinstance(answer.response.get("body"), dict):
                found.append(Pair(item, answer, item.kind))
    return found
