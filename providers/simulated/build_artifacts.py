"""What a successful simulated build leaves behind, per distribution target.

A SharedImage target publishes a gallery image version (automatic, Latest- or Source-versioned, or the
explicit version it names, which must not exist yet) replicated to its regions; a ManagedImage target
makes a managed image; a VHD target gets a blob URI in the template's staging storage account.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Protocol

from ..catalog.arm_ids import fold_location, parse_resource_id
from . import build_machine as machine

Body = dict[str, Any]

IMAGE_VERSION_API = "2024-03-03"
MANAGED_IMAGE_API = "2024-03-01"


class Refusal(Exception):
    """The service refuses the request; the core turns it into its ARM error response."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Storage(Protocol):
    """What the build machinery needs from the resource store (no rules, inside the caller's transaction)."""

    def stored_body(self, arm_id: str) -> tuple[str, Body] | None: ...

    def store_body(self, arm_id: str, api_version: str, body: Body) -> None: ...

    def child_ids(self, arm_id: str) -> list[str]: ...

    def denied_steps(self, template: Body) -> list[tuple[str, str, int | None]]:
        """(runSubState, the service's message, distribution target index or None) for each thing the
        template's identity may not do."""
        ...


class Artifacts:
    """Publishes build results into the resource store."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def versions(self, definition_id: str, *, for_latest: bool = False) -> list[str]:
        found = []
        for child in self._storage.child_ids(definition_id):
            if for_latest:
                stored = self._storage.stored_body(child)
                profile = ((stored[1] if stored else {}).get("properties") or {}).get(
                    "publishingProfile"
                ) or {}
                if profile.get("excludeFromLatest"):
                    continue
            found.append(child.rsplit("/", 1)[-1])
        return found

    def publish(
        self, key: str, target: Mapping[str, Any], props: Mapping[str, Any], source_version: Any, end: float
    ) -> Body:
        kind = str(target.get("type", "")).lower()
        tags = dict(target.get("artifactTags") or {})
        if kind == "sharedimage":
            return {
                "artifactId": self._publish_version(target, props, source_version, tags, end),
                "provisioningState": "Succeeded",
            }
        if kind == "managedimage":
            image_id = str(target.get("imageId", ""))
            if parse_resource_id(image_id) is None:
                raise Refusal(400, "InvalidParameter", f"'{image_id}' is not a managed image id.")
            if self._storage.stored_body(image_id) is not None:
                raise Refusal(
                    409,
                    "Conflict",
                    f"the managed image '{image_id}' already exists; delete it or distribute to another name",
                )
            body = {
                "location": fold_location(str(target.get("location") or "")),
                "tags": tags,
                "properties": {
                    "storageProfile": {
                        "osDisk": {
                            "osType": _os_type(props),
                            "osState": "Generalized",
                            "diskSizeGB": _disk_size(props),
                        }
                    },
                    "hyperVGeneration": "V2" if "gen2" in json.dumps(props.get("source")).lower() else "V1",
                    "provisioningState": "Succeeded",
                },
            }
            self._storage.store_body(image_id, MANAGED_IMAGE_API, body)
            return {"artifactId": image_id, "provisioningState": "Succeeded"}
        uri = target.get("uri")
        if not isinstance(uri, str) or not uri:
            account = "aib" + hashlib.sha256(key.encode()).hexdigest()[:21]
            stamp = datetime.fromtimestamp(end, timezone.utc).strftime("%Y%m%d%H%M%S")
            uri = f"https://{account}.blob.core.windows.net/vhds/{_name(key)}_{stamp}.vhd"
        return {"artifactUri": uri, "provisioningState": "Succeeded"}

    def _publish_version(
        self,
        target: Mapping[str, Any],
        props: Mapping[str, Any],
        source_version: Any,
        tags: Mapping[str, str],
        end: float,
    ) -> str:
        gallery_image = parse_resource_id(str(target.get("galleryImageId", "")))
        if gallery_image is None or len(gallery_image.types) not in (2, 3):
            raise Refusal(400, "InvalidParameter", "galleryImageId is not a gallery image id.")
        explicit = len(gallery_image.types) == 3
        definition = gallery_image.parent() if explicit else gallery_image
        assert definition is not None
        stored = self._storage.stored_body(str(definition))
        if stored is None:
            raise Refusal(
                404, "GalleryImageNotFound", f"the gallery image definition '{definition}' does not exist"
            )
        existing = self.versions(str(definition))
        if explicit:
            version = gallery_image.names[2]
            if version in existing:
                raise Refusal(
                    409,
                    "Conflict",
                    f"the gallery image version '{version}' already exists in '{definition.name}'; an "
                    "explicit version can be published once (remove the version from galleryImageId to "
                    "let Image Builder number it)",
                )
        elif (target.get("versioning") or {}).get("scheme") == "Source":
            version = str(source_version or "")
            if len(machine.version_key(version)) != 3 or machine.version_key(version) == (-1,):
                raise Refusal(
                    400, "InvalidParameter", f"the source version '{version}' is not major.minor.patch"
                )
            if version in existing:
                raise Refusal(409, "Conflict", f"the gallery image version '{version}' already exists")
        else:
            version = machine.next_version(existing, target.get("versioning"), end)
        home = fold_location(str(stored[1].get("location", "")))
        regions = _regions(target, home)
        stamp = (
            datetime.fromtimestamp(end, timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )
        body: Body = {
            "location": home,
            "tags": dict(tags),
            "properties": {
                "publishingProfile": {
                    "targetRegions": regions,
                    "replicaCount": 1,
                    "excludeFromLatest": bool(target.get("excludeFromLatest", False)),
                    "storageAccountType": target.get("storageAccountType") or "Standard_LRS",
                    "publishedDate": stamp,
                },
                "storageProfile": {
                    "osDiskImage": {"sizeInGB": _disk_size(props), "hostCaching": "ReadWrite"}
                },
                "provisioningState": "Succeeded",
                "replicationStatus": {
                    "aggregatedState": "Completed",
                    "summary": [
                        {"region": r["name"], "state": "Completed", "progress": 100} for r in regions
                    ],
                },
            },
        }
        version_id = f"{definition}/versions/{version}"
        self._storage.store_body(version_id, IMAGE_VERSION_API, body)
        return version_id


def _regions(target: Mapping[str, Any], home: str) -> list[Body]:
    regions: list[Body] = []
    for region in target.get("targetRegions") or []:
        if isinstance(region, dict) and region.get("name"):
            regions.append(
                {
                    "name": fold_location(str(region["name"])),
                    "regionalReplicaCount": int(region.get("replicaCount") or 1),
                    "storageAccountType": region.get("storageAccountType") or "Standard_LRS",
                }
            )
    for region in target.get("replicationRegions") or []:
        if isinstance(region, str) and region:
            regions.append(
                {
                    "name": fold_location(region),
                    "regionalReplicaCount": 1,
                    "storageAccountType": target.get("storageAccountType") or "Standard_LRS",
                }
            )
    if not regions and home:
        regions.append({"name": home, "regionalReplicaCount": 1, "storageAccountType": "Standard_LRS"})
    return regions


def _os_type(props: Mapping[str, Any]) -> str:
    text = json.dumps(props.get("source") or {}).lower()
    return "Windows" if "windows" in text else "Linux"


def _disk_size(props: Mapping[str, Any]) -> int:
    profile = props.get("vmProfile") or {}
    size = profile.get("osDiskSizeGB") if isinstance(profile, dict) else None
    return int(size) if isinstance(size, int) and size > 0 else 30


def _name(arm_id: str) -> str:
    return arm_id.rstrip("/").rsplit("/", 1)[-1]
