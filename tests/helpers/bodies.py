"""Resource bodies for property tests of the state's observed bodies, and a gallery entry holding them."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from state import ResourceState

GALLERY_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/corpImages"

# Keys with the characters JSON pointers escape (`/`, `~`), values where 1, 1.0 and true are three values.
keys = st.text(alphabet="ab/~0c", min_size=0, max_size=4)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.0, 1.0, 2.5])
    | st.text("ab", max_size=2)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=12,
)
bodies = st.dictionaries(keys, values, max_size=4)


def gallery(applied: dict[str, Any], observed: dict[str, Any], serial: int = 0) -> ResourceState:
    """A gallery's state entry with these bodies."""
    return ResourceState(
        address="gallery.corpImages",
        arm_type="Microsoft.Compute/galleries",
        arm_id=GALLERY_ID,
        api_version="2024-03-03",
        applied=applied,
        observed=observed,
        serial=serial,
    )
