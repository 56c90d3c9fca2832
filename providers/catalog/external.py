"""Types a stack refers to that are no kind of aibplan's and no build artifact: the subnet a build VM
joins. Read at plan time to check it exists (AIB8001), never changed."""

from __future__ import annotations

SUBNET_TYPE = "microsoft.network/virtualnetworks/subnets"
SUBNET_API_VERSION = "2023-09-01"
