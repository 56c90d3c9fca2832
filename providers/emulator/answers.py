"""How each resource provider answers each verb: status codes, polling headers, operation URLs.

Read from recorded traffic (tests/fixtures/recorded/README.md, "status codes and headers per verb"):

- Image Builder: PUT 201 + Azure-AsyncOperation; PATCH of tags alone 200 at once with the template,
  any other PATCH 202 + Azure-AsyncOperation (the spec); DELETE and POST run 202 + Azure-AsyncOperation
  and Location, the same URL; POST cancel 204 with no headers.
- Compute (galleries, image definitions): PUT 201 (200 when it existed) + Azure-AsyncOperation; PATCH
  200 + Azure-AsyncOperation with the body (provisioningState Updating); DELETE as Image Builder's.
- Managed Identity: every write at once: PUT 201 (200) with a Location header naming the resource,
  PATCH 200, DELETE 200.

Operation status URLs: `/subscriptions/<s>/providers/<namespace>/locations/<region>/<segment>/<id>`, where
the segment is `operations` (Image Builder, whose status names the id in upper case) or `capsOperations`
(Compute, lower case).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    """One resource provider's way of answering."""

    synchronous: bool = False  # every write finishes before the answer (no operation)
    operation_segment: str = "operations"
    upper_case_operation_name: bool = True
    patch_status: int = 202  # with Azure-AsyncOperation
    patch_of_tags_at_once: bool = False  # a PATCH that changes only tags answers 200 with the body
    location_header_on_create: bool = False  # a synchronous 201 says where the resource is


STYLES: dict[str, Style] = {
    "microsoft.virtualmachineimages": Style(patch_of_tags_at_once=True),
    "microsoft.compute": Style(
        operation_segment="capsOperations", upper_case_operation_name=False, patch_status=200
    ),
    "microsoft.managedidentity": Style(synchronous=True, location_header_on_create=True),
    # Role assignments and definitions answer 201/200 with the body at once (recorded role assignment PUTs).
    "microsoft.authorization": Style(synchronous=True),
}
DEFAULT = Style()
OPERATION_SEGMENTS = frozenset(style.operation_segment.lower() for style in (*STYLES.values(), DEFAULT))


def style_of(namespace: str) -> Style:
    return STYLES.get(namespace.lower(), DEFAULT)
