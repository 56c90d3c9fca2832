"""The one list of every validation rule, in the order they run and are documented."""

from __future__ import annotations

from . import Rule
from .cross import RULES as CROSS
from .distribute import RULES as DISTRIBUTE
from .envelope import RULES as ENVELOPE
from .essentials import RULES as ESSENTIALS
from .image_source import RULES as IMAGE_SOURCE
from .permissions import RULES as PERMISSIONS
from .roles import RULES as ROLES
from .script_security import RULES as SCRIPT_SECURITY
from .scripts import RULES as SCRIPTS
from .staged import RULES as STAGED
from .template import RULES as TEMPLATE
from .vm_profile import RULES as VM_PROFILE

ALL_RULES: tuple[Rule, ...] = tuple(
    sorted(
        (
            *STAGED,
            *ENVELOPE,
            *TEMPLATE,
            *VM_PROFILE,
            *IMAGE_SOURCE,
            *SCRIPTS,
            *SCRIPT_SECURITY,
            *DISTRIBUTE,
            *ESSENTIALS,
            *CROSS,
            *ROLES,
            *PERMISSIONS,
        ),
        key=lambda r: r.id,
    )
)


def by_id() -> dict[str, Rule]:
    return {rule.id: rule for rule in ALL_RULES}
