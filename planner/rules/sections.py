"""The sections of the AIB template reference (by their anchors), and of the REST API facts the reference
does not cover, so docs/rules.md can show which rules enforce each and why a section has none."""

from __future__ import annotations

# (anchor, title, why no rule enforces it; None when rules do)
REFERENCE_SECTIONS: tuple[tuple[str, str, str | None], ...] = (
    ("create-an-azure-image-builder-template", "Create an Azure Image Builder template (the format)", None),
    ("type-and-api-version", "Type and API version", None),
    ("location", "Location", None),
    (
        "data-residency",
        "Data residency",
        "describes where the service keeps data; nothing to check in a template",
    ),
    ("zone-redundancy", "Zone redundancy", None),
    ("vmprofile", "vmProfile", None),
    ("buildvm", "buildVM", None),
    ("osdisksizegb", "osDiskSizeGB", None),
    ("vnetconfig", "vnetConfig", None),
    ("tags", "Tags", None),
    ("depends-on-optional", "Depends on (optional)", None),
    ("identity", "Identity", None),
    ("properties-source", "Properties: source", None),
    ("platformimage-source", "PlatformImage source", None),
    ("support-for-market-place-plan-information", "Marketplace plan information", None),
    ("managedimage-source", "ManagedImage source", None),
    ("sharedimageversion-source", "SharedImageVersion source", None),
    ("properties-buildtimeoutinminutes", "Properties: buildTimeoutInMinutes", None),
    ("properties-customize", "Properties: customize", None),
    ("shell-customizer", "Shell customizer", None),
    ("super-user-privileges", "Super user privileges", None),
    ("windows-restart-customizer", "Windows restart customizer", None),
    ("linux-restart", "Linux restart", None),
    ("powershell-customizer", "PowerShell customizer", None),
    ("file-customizer", "File customizer", None),
    ("windows-update-customizer", "Windows Update customizer", None),
    ("generalize", "Generalize", None),
    ("default-sysprep-command", "Default Sysprep command", None),
    ("default-linux-deprovision-command", "Default Linux deprovision command", None),
    ("overriding-the-commands", "Overriding the commands", None),
    ("properties-distribute", "Properties: distribute", None),
    ("distribute-managedimage", "Distribute: managedImage", None),
    ("distribute-sharedimage", "Distribute: sharedImage", None),
    ("distribute-vhd", "Distribute: VHD", None),
    (
        "image-template-operations",
        "Image template operations",
        "run and cancel are actions on a created template, not template content (aibplan's build commands)",
    ),
    ("starting-an-image-build", "Starting an image build", "an action (POST run), not template content"),
    (
        "cancelling-an-image-build",
        "Cancelling an image build",
        "an action (POST cancel), not template content",
    ),
    ("next-steps", "Next steps", "links to samples; nothing to check"),
)

# Facts from the REST API (schemas, swagger, release notes) that the reference's sections do not cover.
API_SECTIONS: tuple[tuple[str, str, str | None], ...] = (
    (
        "api-fields",
        "Fields per api version (unknown, mis-cased, introduced later, read-only, types, enums)",
        None,
    ),
    ("api-staging-resource-group", "stagingResourceGroup (2022-02-14)", None),
    ("api-validate", "validate and inVMValidations (2022-02-14)", None),
    ("api-scope", "The scope of extension resources (ARM)", None),
    ("api-role-assignments", "Role assignments and role definitions (Microsoft.Authorization)", None),
    (
        "api-permissions",
        "What the template's identity must be allowed to do (the AIB permission guides)",
        None,
    ),
)

ALL_SECTIONS = (*REFERENCE_SECTIONS, *API_SECTIONS)
ANCHORS = frozenset(anchor for anchor, _, _ in ALL_SECTIONS)
