"""Azure region display names ("West US 2" for westus2), as ARM spells them in its locations list, in
NoRegisteredProviderFound messages and in what Compute answers for an image version's target regions.

The names the catalog knows (providers/catalog/regions.py) in the form people read; the sovereign and
canary regions are left out of the public cloud's locations list, as ARM leaves them out.
"""

from __future__ import annotations

DISPLAY_NAMES: dict[str, str] = {
    "eastus": "East US", "eastus2": "East US 2", "centralus": "Central US",
    "northcentralus": "North Central US", "southcentralus": "South Central US",
    "westcentralus": "West Central US", "westus": "West US", "westus2": "West US 2", "westus3": "West US 3",
    "canadacentral": "Canada Central", "canadaeast": "Canada East", "brazilsouth": "Brazil South",
    "brazilsoutheast": "Brazil Southeast", "mexicocentral": "Mexico Central", "chilecentral": "Chile Central",
    "northeurope": "North Europe", "westeurope": "West Europe", "uksouth": "UK South", "ukwest": "UK West",
    "francecentral": "France Central", "francesouth": "France South",
    "germanywestcentral": "Germany West Central", "germanynorth": "Germany North",
    "switzerlandnorth": "Switzerland North", "switzerlandwest": "Switzerland West",
    "norwayeast": "Norway East", "norwaywest": "Norway West", "swedencentral": "Sweden Central",
    "swedensouth": "Sweden South", "polandcentral": "Poland Central", "italynorth": "Italy North",
    "spaincentral": "Spain Central", "austriaeast": "Austria East", "belgiumcentral": "Belgium Central",
    "denmarkeast": "Denmark East",
    "eastasia": "East Asia", "southeastasia": "Southeast Asia", "japaneast": "Japan East",
    "japanwest": "Japan West", "koreacentral": "Korea Central", "koreasouth": "Korea South",
    "centralindia": "Central India", "southindia": "South India", "westindia": "West India",
    "jioindiawest": "Jio India West", "jioindiacentral": "Jio India Central",
    "australiaeast": "Australia East", "australiasoutheast": "Australia Southeast",
    "australiacentral": "Australia Central", "australiacentral2": "Australia Central 2",
    "newzealandnorth": "New Zealand North", "indonesiacentral": "Indonesia Central",
    "malaysiawest": "Malaysia West",
    "uaenorth": "UAE North", "uaecentral": "UAE Central", "qatarcentral": "Qatar Central",
    "israelcentral": "Israel Central", "southafricanorth": "South Africa North",
    "southafricawest": "South Africa West",
    "usgovvirginia": "USGov Virginia", "usgovarizona": "USGov Arizona", "usgovtexas": "USGov Texas",
    "usdodeast": "USDoD East", "usdodcentral": "USDoD Central",
    "chinanorth": "China North", "chinanorth2": "China North 2", "chinanorth3": "China North 3",
    "chinaeast": "China East", "chinaeast2": "China East 2", "chinaeast3": "China East 3",
    "eastus2euap": "East US 2 EUAP", "centraluseuap": "Central US EUAP",
}  # fmt: skip

_NOT_PUBLIC = ("usgov", "usdod", "china")


def display_name(region: str) -> str:
    """`westus2` -> `West US 2`; a name the table does not know is given back as it is."""
    return DISPLAY_NAMES.get(region.replace(" ", "").lower(), region)


def public_regions() -> list[str]:
    """The regions of the public cloud, as its locations list holds them (no canary regions)."""
    return sorted(
        name for name in DISPLAY_NAMES if not name.startswith(_NOT_PUBLIC) and not name.endswith("euap")
    )
