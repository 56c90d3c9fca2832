"""What a kind must declare, checked for every kind in the catalog; what the service does, cited and read.

Adding a kind means adding one `ResourceType` (and its rules and fixtures). These tests say what the
declaration needs: the constructor refuses one with parts left out, naming them, and
`declaration_problems` names every part that disagrees with another. The service facts each cite the
recorded interaction that shows them, and normalisation reads them (one rewrite and one drop, each
checked against its recording).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from planner.normalize import normalize_body
from planner.planning.diff import diff_bodies
from providers.catalog import BY_KIND, EXTERNAL_KINDS, RESOURCE_TYPES, ResourceType
from providers.catalog.artifacts import ARTIFACT_TYPES
from providers.catalog.checklist import REQUIRED_PARTS, declaration_problems, required_parts
from providers.catalog.references import SCOPE
from tests.helpers import FIXTURES

RECORDED = FIXTURES / "recorded"
EVERY_KIND = (*RESOURCE_TYPES, *ARTIFACT_TYPES)
KNOWN = set(EXTERNAL_KINDS.values())


@pytest.mark.parametrize("rtype", EVERY_KIND, ids=lambda t: t.kind)
def test_every_kind_declares_every_part_consistently(rtype: ResourceType) -> None:
    assert declaration_problems(rtype, KNOWN) == []
    for part in required_parts():
        assert getattr(rtype, part) is not None or part == "schema", part


def test_the_list_of_parts_is_the_constructors() -> None:
    assert set(REQUIRED_PARTS) == set(required_parts())


def test_a_kind_with_parts_left_out_is_refused_naming_them() -> None:
    with pytest.raises(TypeError) as caught:
        ResourceType(  # type: ignore[call-arg]
            kind="storageAccount",
            title="storage account",
            arm_type="Microsoft.Storage/storageAccounts",
            api_versions=("2023-05-01",),
            default_api_version="2023-05-01",
            schema=None,
            defaults={},
            create_only=(),
        )
    message = str(caught.value)
    for part in ("scopes", "references", "cascades", "service"):
        assert part in message


def test_an_inconsistent_kind_is_reported_part_by_part() -> None:
    identity = BY_KIND["identity"]
    broken = dataclasses.replace(
        identity,
        default_api_version="1999-01-01",
        cascades={SCOPE: "goes with its scope", "source": "the source {origin} is replaced"},
        scopes=(),
        create_only=(("propertes", "x"),),
    )
    problems = "\n".join(declaration_problems(broken, KNOWN))
    assert "default api version 1999-01-01 is not among its api versions" in problems
    assert "no scope" in problems
    assert "cascades on its scope but cannot live on a resource" in problems
    assert "does not name the replaced resource" in problems
    assert "cascades on 'source', which none of its references is" in problems
    assert "create-only path propertes.x is not a field of its schema" in problems


# -- the service facts: cited, and read by normalisation and diff --------------------------------------

_CITATION = re.compile(r"^recorded:(?P<file>[^#]+)(?P<refs>(?:#\d+,?)+)$")


def _interactions(file: str) -> list[dict[str, Any]]:
    document = json.loads((RECORDED / file).read_text())
    interactions: list[dict[str, Any]] = document["interactions"]
    return interactions


def _facts() -> list[tuple[ResourceType, str]]:
    found = []
    for rtype in EVERY_KIND:
        service = rtype.service
        for fact in (*service.computed, *service.rewrites, *service.dropped_when_empty):
            found.append((rtype, fact.citation))
    return found


@pytest.mark.parametrize(("rtype", "citation"), _facts(), ids=lambda v: getattr(v, "kind", v))
def test_every_recorded_citation_names_an_interaction_with_the_kind(
    rtype: ResourceType, citation: str
) -> None:
    if citation.startswith("docs:"):
        return
    match = _CITATION.match(citation)
    assert match, f"{rtype.kind}: '{citation}' is not recorded:FILE#n[,#m]"
    interactions = _interactions(match.group("file"))
    last_type = rtype.arm_type.rsplit("/", 1)[-1].lower()
    for ref in re.findall(r"\d+", match.group("refs")):
        assert int(ref) < len(interactions), citation
        path = interactions[int(ref)]["request"]["path"].lower()
        # A resource of the type, or a list of them.
        assert re.search(f"/{last_type}(/|$)", path), (
            f"{citation}: interaction {ref} is not about {rtype.arm_type}"
        )


def test_a_rewritten_value_normalises_to_what_was_sent_at_the_versions_it_happens() -> None:
    template = BY_KIND["imageTemplate"]
    sent, _status, _ = _exchange("azure-sdk-for-python/imagebuilder_2020-02-14.json", 0)
    _request, _, answered = _exchange("azure-sdk-for-python/imagebuilder_2020-02-14.json", 2)
    assert answered["properties"]["source"]["version"].startswith("latest (")
    ours = normalize_body(template, answered, "2020-02-14")["properties"]["source"]
    assert ours == normalize_body(template, sent, "2020-02-14")["properties"]["source"]
    # From 2021-10-01 the service leaves `version` as sent (it resolves into exactVersion instead).
    later = normalize_body(template, answered, "2022-07-01")["properties"]["source"]["version"]
    assert later.startswith("latest (")


def test_a_field_dropped_when_empty_is_no_difference() -> None:
    definition = BY_KIND["imageDefinition"]
    sent, _status, answered = _exchange("azure-cli/gallery_e2e_2025-03-03.json", 4)
    assert sent["properties"]["disallowed"] == {} and "disallowed" not in answered["properties"]
    before = normalize_body(definition, answered, "2021-10-01")
    after = normalize_body(definition, sent, "2021-10-01")
    assert "disallowed" not in after["properties"]
    assert not [d for d in diff_bodies(before, after, definition, "2021-10-01") if "disallowed" in d.path]


def _exchange(file: str, index: int) -> tuple[dict[str, Any], int, dict[str, Any]]:
    interaction = _interactions(file)[index]
    request = interaction["request"]["body"] or {}
    response = interaction["response"]["body"] or {}
    return request, interaction["response"]["status"], response


def test_the_recorded_files_the_catalog_cites_exist() -> None:
    files = {m.group("file") for _, c in _facts() if (m := _CITATION.match(c))}
    assert files and all((RECORDED / Path(f)).is_file() for f in files)


ROLE_ASSIGNMENT_PUTS = [
    ("azure-cli/image_template_basic_2019-05-01-preview.json", 0),
    ("azure-cli/image_builder_basic_2021-10-01.json", 2),
    ("azure-cli/image_builder_cancel_2022-02-14.json", 1),
]


@pytest.mark.parametrize(("file", "index"), ROLE_ASSIGNMENT_PUTS)
def test_the_catalog_explains_every_difference_the_service_made_to_a_role_assignment(
    file: str, index: int
) -> None:
    """What was sent and what came back differ (scope, times, principalType, nulls); none of it is a
    change once the catalog's facts are applied, at the api version recorded."""
    assignment = BY_KIND["roleAssignment"]
    api_version = _interactions(file)[index]["request"]["api_version"]
    sent, status, answered = _exchange(file, index)
    assert status == 201 and sent != {k: answered[k] for k in sent}
    before = normalize_body(assignment, answered, api_version)
    after = normalize_body(assignment, sent, api_version)
    assert diff_bodies(before, after, assignment, api_version) == ()
