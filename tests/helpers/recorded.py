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
