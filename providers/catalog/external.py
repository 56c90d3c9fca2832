"""Api versions to read the resources a stack refers to but does not manage (subnets, managed images,
gallery image versions): plan checks they exist through the provider before anything is applied."""

from __future__ import annotations

from .gallery import GALLERY
from .identity import IDENTITY

EXTERNAL_API_VERSIONS: dict[str, str] = {
    "microsoft.network/virtualnetworks/subnets": "2023-09-01",
    "microsoft.compute/images": "2024-03-01",
    "microsoft.compute/galleries/images/versions": GALLERY.default_api_version,
    "microsoft.compute/galleries/images": GALLERY.default_api_version,
    "microsoft.compute/galleries": GALLERY.default_api_version,
    "microsoft.managedidentity/userassignedidentities": IDENTITY.default_api_version,
}
