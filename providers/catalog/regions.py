"""Azure region names, and the regions where VM Image Builder runs.

Region names are compared folded (lower case, no spaces: "West US 2" is westus2). The Image Builder list
is the documented one (the template reference lists the first regions; the service's documentation adds
the rest, some behind a preview feature registration); it grows over time, so a region outside it warns
rather than fails, while a name that is no Azure region at all is a typo.
"""

from __future__ import annotations

AZURE_REGIONS: frozenset[str] = frozenset(
    {
        # Americas
        "eastus", "eastus2", "centralus", "northcentralus", "southcentralus", "westcentralus",
        "westus", "westus2", "westus3", "canadacentral", "canadaeast", "brazilsouth", "brazilsoutheast",
        "mexicocentral", "chilecentral",
        # Europe
        "northeurope", "westeurope", "uksouth", "ukwest", "francecentral", "francesouth",
        "germanywestcentral", "germanynorth", "switzerlandnorth", "switzerlandwest", "norwayeast",
        "norwaywest", "swedencentral", "swedensouth", "polandcentral", "italynorth", "spaincentral",
        "austriaeast", "belgiumcentral", "denmarkeast",
        # Asia Pacific
        "eastasia", "southeastasia", "japaneast", "japanwest", "koreacentral", "koreasouth",
        "centralindia", "southindia", "westindia", "jioindiawest", "jioindiacentral", "australiaeast",
        "australiasoutheast", "australiacentral", "australiacentral2", "newzealandnorth",
        "indonesiacentral", "malaysiawest",
        # Middle East and Africa
        "uaenorth", "uaecentral", "qatarcentral", "israelcentral", "southafricanorth", "southafricawest",
        # Sovereign clouds
        "usgovvirginia", "usgovarizona", "usgovtexas", "usdodeast", "usdodcentral",
        "chinanorth", "chinanorth2", "chinanorth3", "chinaeast", "chinaeast2", "chinaeast3",
        # Canary
        "eastus2euap", "centraluseuap",
    }
)  # fmt: skip

AIB_REGIONS: frozenset[str] = frozenset(
    {
        "eastus", "eastus2", "westcentralus", "westus", "westus2", "westus3", "southcentralus",
        "northeurope", "westeurope", "southeastasia", "australiasoutheast", "australiaeast", "uksouth",
        "ukwest", "brazilsouth", "canadacentral", "centralindia", "centralus", "francecentral",
        "germanywestcentral", "japaneast", "northcentralus", "norwayeast", "switzerlandnorth",
        "jioindiawest", "uaenorth", "eastasia", "koreacentral", "southafricanorth", "qatarcentral",
        "usgovarizona", "usgovvirginia", "chinanorth3", "swedencentral", "polandcentral",
    }
)  # fmt: skip
