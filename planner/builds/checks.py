"""What a plan and drift say about builds (AIB7xxx); none of it changes an action.

- AIB7001 (plan): the image was built from an older definition of its template.
- AIB7002 (plan): a SharedImage target names an explicit version that already exists: the build would fail.
- AIB7003 (plan): two templates (or two targets) publish the same explicit version: the second build fails.
- AIB7004 (drift): the last build of a template did not succeed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from providers.base import Provider, ProviderError, ResourceRef
from providers.catalog.arm_ids import fold_id, parse_resource_id
from providers.catalog.artifacts import IMAGE_VERSION
from state import State

from ..diagnostics import Diagnostic, JsonPath, Severity
from .record import BuildRecord, RunStatus, fingerprint

OUT_OF_DATE = "AIB7001"
VERSION_EXISTS = "AIB7002"
VERSION_TWICE = "AIB7003"
LAST_BUILD_FAILED = "AIB7004"


def _explicit_versions(body: Mapping[str, Any]) -> Iterator[tuple[int, str]]:
    """(distribute index, image version id) of SharedImage targets that name their version."""
    props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
    assert isinstance(props, dict)
    targets = props.get("distribute")
    for index, target in enumerate(targets if isinstance(targets, list) else []):
        if not isinstance(target, dict) or str(target.get("type", "")).lower() != "sharedimage":
            continue
        rid = parse_resource_id(str(target.get("galleryImageId", "")))
        if rid is not None and len(rid.types) == 3:
            yield index, str(rid)


def build_warnings(
    templates: Mapping[str, Mapping[str, Any]],
    written: Mapping[str, Mapping[str, Any]],
    state: State,
    provider: Provider | None,
) -> dict[str, list[Diagnostic]]:
    """Warnings per template address. `templates` maps addresses to desired normalised bodies, `written`
    to the bodies as the user wrote them (ids as spelled); with a provider, explicit image versions are
    looked up in the cloud."""
    found: dict[str, list[Diagnostic]] = {}

    def add(address: str, diagnostic: Diagnostic) -> None:
        found.setdefault(address, []).append(diagnostic)

    for address, body in templates.items():
        entry = state.get(address)
        built = BuildRecord.of(entry.extra).last_success if entry is not None else None
        recorded = BuildRecord.of(entry.extra).success_fingerprint if entry is not None else None
        if recorded is not None and recorded != fingerprint(body):
            when = (built or {}).get("end_time")
            add(
                address,
                Diagnostic(
                    OUT_OF_DATE,
                    Severity.WARNING,
                    "the image is out of date: it was built from an older definition of this template"
                    + (f" (last successful build ended {when})" if when else ""),
                    address=address,
                    hint=(
                        "`aibplan apply --run` builds it again only when the apply creates or replaces it; "
                        f"after an in-place update, or with no change, build it with `aibplan run {address}`"
                    ),
                ),
            )

    claims: dict[str, list[tuple[str, int]]] = {}
    spelled: dict[str, str] = {}
    for address, body in sorted(written.items()):
        for index, version_id in _explicit_versions(body):
            claims.setdefault(fold_id(version_id), []).append((address, index))
            spelled.setdefault(fold_id(version_id), version_id)
    for version_id, claimants in claims.items():
        if len(claimants) < 2:
            continue
        names = ", ".join(f"{a} (distribute[{i}])" for a, i in claimants)
        for address, index in claimants:
            add(
                address,
                _at(
                    VERSION_TWICE,
                    f"more than one target publishes the explicit image version "
                    f"{_short(spelled[version_id])}: {names}; only the first build can create it, "
                    "the others fail",
                    address,
                    ("properties", "distribute", index, "galleryImageId"),
                    "give each target its own version, or let Image Builder number the versions",
                ),
            )
    if provider is not None:
        for address, index, version_id in _existing_versions(written, state, provider):
            add(
                address,
                _at(
                    VERSION_EXISTS,
                    f"the image version {_short(version_id)} already exists in the gallery: a build of "
                    "this template would fail, since an explicit version can be published only once",
                    address,
                    ("properties", "distribute", index, "galleryImageId"),
                    "raise the version in galleryImageId, or drop /versions/... to let Image Builder "
                    "number it",
                ),
            )
    return found


def _existing_versions(
    templates: Mapping[str, Mapping[str, Any]], state: State, provider: Provider
) -> list[tuple[str, int, str]]:
    wanted: list[tuple[str, int, str]] = []
    for address, body in sorted(templates.items()):
        entry = state.get(address)
        made = {
            fold_id(o.artifact_id)
            for o in (BuildRecord.of(entry.extra).run_outputs if entry is not None else ())
            if o.artifact_id
        }
        for index, version_id in _explicit_versions(body):
            # A version this template's own last build made is not a surprise.
            if fold_id(version_id) not in made:
                wanted.append((address, index, version_id))
    if not wanted:
        return []
    refs = [ResourceRef(v, IMAGE_VERSION.arm_type, IMAGE_VERSION.default_api_version) for _a, _i, v in wanted]
    try:
        live = provider.read_many(refs)
    except ProviderError:
        return []
    return [(a, i, v) for a, i, v in wanted if live.get(v) is not None]


def failed_builds(state: State, live: Mapping[str, Any] | None = None) -> list[Diagnostic]:
    """Templates whose last build did not succeed (for drift). `live` (bodies by ARM id) wins over the
    state's record, so a build that failed after aibplan last looked (--no-wait, the portal) counts."""
    found = []
    for entry in state.resources:
        run = dict(BuildRecord.of(entry.extra).last_run or {})
        cloud = RunStatus.of((live or {}).get(entry.arm_id))
        if cloud.run_state is not None:
            run = {
                "start_time": cloud.start_time,
                "run_state": cloud.run_state,
                "run_sub_state": cloud.run_sub_state,
                "message": cloud.message,
            }
        state_word = run.get("run_state")
        if state_word in ("Failed", "PartiallySucceeded", "Canceled"):
            message = str(run.get("message") or "")
            step = run.get("run_sub_state")
            found.append(
                Diagnostic(
                    LAST_BUILD_FAILED,
                    Severity.WARNING,
                    f"the last build ({run.get('start_time') or '?'}) ended {state_word}"
                    + (f" at {step}" if step else "")
                    + (f": {message}" if message else ""),
                    address=entry.address,
                    hint="fix the cause and build again with `aibplan run`",
                )
            )
    return found


def _at(code: str, message: str, address: str, path: JsonPath, hint: str) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, address=address, path=path, hint=hint)


def _short(version_id: str) -> str:
    """galleries/G/images/D/versions/V, the part of the id people recognise."""
    rid = parse_resource_id(version_id)
    return "/".join(rid.names) if rid is not None else version_id
