"""The corpus of recorded Azure traffic stays well formed, cited and free of anything secret.

`tests/fixtures/recorded/` holds facts about the real service (trimmed recordings of real traffic and the
REST spec's examples) and trimmed imagebuilder swaggers. Later tests replay them against the planner and
the simulated cloud, so every file must say where it comes from (repository, path, 40-hex commit), every
interaction must be complete enough to replay, and nothing that looks like a credential may ever land here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "recorded"
SWAGGER = CORPUS / "swagger"
README = CORPUS / "README.md"

COMMIT = re.compile(r"^[0-9a-f]{40}$")
REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
METHODS = {"GET", "PUT", "PATCH", "POST", "DELETE", "HEAD"}
KINDS = {"recording", "spec-example"}

# What a credential looks like once it has leaked into a recording. Each pattern names what it catches.
SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "bearer token": re.compile(r"Bearer\s+[A-Za-z0-9._~+/=-]{16,}"),
    "JSON web token": re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}"),
    "SAS signature": re.compile(r"[?&]sig=", re.IGNORECASE),
    "signed operation URL": re.compile(r"[?&](?:s|h|c)=[A-Za-z0-9_%-]{20,}"),
    "access token field": re.compile(r"\"access_token\"", re.IGNORECASE),
    "refresh token field": re.compile(r"\"refresh_token\"", re.IGNORECASE),
    "client secret": re.compile(r"client_secret", re.IGNORECASE),
    "storage account key": re.compile(r"AccountKey=", re.IGNORECASE),
    "shared access signature": re.compile(r"SharedAccessSignature", re.IGNORECASE),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "authorization header": re.compile(r"\"authorization\"\s*:", re.IGNORECASE),
}


def secrets_in(text: str) -> list[str]:
    """Name every kind of secret-looking text found in `text` (empty when clean)."""
    return [name for name, pattern in SECRET_PATTERNS.items() if pattern.search(text)]


def fixture_files() -> list[Path]:
    """Every trimmed traffic fixture (recordings and spec examples), swaggers aside."""
    return sorted(p for p in CORPUS.rglob("*.json") if SWAGGER not in p.parents)


def swagger_files() -> list[Path]:
    return sorted(p for p in SWAGGER.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: the top level is not an object"
    return data


def relative(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def problems_of_source(source: Any) -> Iterator[str]:
    """What is missing or malformed in a fixture's `source` citation."""
    if not isinstance(source, dict):
        yield "source is not an object"
        return
    if source.get("kind") not in KINDS:
        yield f"source.kind {source.get('kind')!r} is not one of {sorted(KINDS)}"
    if not isinstance(source.get("repository"), str) or not REPOSITORY.match(source["repository"]):
        yield "source.repository is not owner/name"
    if not isinstance(source.get("path"), str) or not source["path"]:
        yield "source.path is empty"
    if not isinstance(source.get("commit"), str) or not COMMIT.match(source["commit"]):
        yield "source.commit is not 40 lower-case hex digits"
    recorded = source.get("recorded")
    if source.get("kind") == "recording" and not (isinstance(recorded, str) and DATE.match(recorded)):
        yield "a recording must say when it was recorded (YYYY-MM-DD)"
    versions = source.get("api_versions")
    if not isinstance(versions, list) or not versions:
        yield "source.api_versions is empty"
    elif not all(isinstance(v, str) and API_VERSION.match(v) for v in versions):
        yield f"source.api_versions holds a value that is not an api version: {versions}"
    if not isinstance(source.get("note"), str) or not source["note"].strip():
        yield "source.note is empty: say what the file shows and what was left out"


def problems_of_interaction(index: int, item: Any, versions: list[str]) -> Iterator[str]:
    """What keeps one interaction from being replayed."""
    where = f"interactions[{index}]"
    if not isinstance(item, dict):
        yield f"{where} is not an object"
        return
    if not isinstance(item.get("kind"), str) or not item["kind"]:
        yield f"{where}.kind is empty"
    request, response = item.get("request"), item.get("response")
    if not isinstance(request, dict) or not isinstance(response, dict):
        yield f"{where} needs a request and a response object"
        return
    if request.get("method") not in METHODS:
        yield f"{where}.request.method {request.get('method')!r} is not an HTTP verb"
    path = request.get("path")
    if not isinstance(path, str) or not path.startswith("/") or "?" in path or "://" in path:
        yield f"{where}.request.path must be a path without host or query: {path!r}"
    api = request.get("api_version")
    if not isinstance(api, str) or not API_VERSION.match(api):
        yield f"{where}.request.api_version {api!r} is not an api version"
    elif api not in versions:
        yield f"{where}.request.api_version {api} is missing from source.api_versions"
    if not isinstance(request.get("query"), dict):
        yield f"{where}.request.query is not an object"
    if "body" not in request:
        yield f"{where}.request.body is missing (null when there is none)"
    status = response.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        yield f"{where}.response.status {status!r} is not an HTTP status"
    if not isinstance(response.get("headers"), dict):
        yield f"{where}.response.headers is not an object"
    if "body" not in response:
        yield f"{where}.response.body is missing (null when there is none)"


def problems_of_fixture(data: dict[str, Any]) -> list[str]:
    found = list(problems_of_source(data.get("source")))
    source = data.get("source")
    versions = source.get("api_versions", []) if isinstance(source, dict) else []
    interactions = data.get("interactions")
    if not isinstance(interactions, list) or not interactions:
        found.append("interactions is empty")
        return found
    for index, item in enumerate(interactions):
        found.extend(problems_of_interaction(index, item, versions if isinstance(versions, list) else []))
    return found


def local_refs(node: Any) -> Iterator[str]:
    """Every in-document `$ref` (`#/...`) found anywhere under `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/"):
                yield value
            else:
                yield from local_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from local_refs(value)


def resolves(document: dict[str, Any], ref: str) -> bool:
    node: Any = document
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


FIXTURES = fixture_files()
SWAGGERS = swagger_files()


def test_the_corpus_is_not_empty() -> None:
    assert len(FIXTURES) >= 20, "the recorded corpus lost most of its files"
    kinds = {load(p)["source"]["kind"] for p in FIXTURES}
    assert kinds == KINDS, f"the corpus should hold both recordings and spec examples, has {kinds}"
    assert len(SWAGGERS) >= 3


@pytest.mark.parametrize("path", FIXTURES, ids=relative)
def test_fixture_is_well_formed(path: Path) -> None:
    problems = problems_of_fixture(load(path))
    assert not problems, f"{relative(path)}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", sorted(CORPUS.rglob("*.json")), ids=relative)
def test_nothing_secret_looking(path: Path) -> None:
    found = secrets_in(path.read_text(encoding="utf-8"))
    assert not found, f"{relative(path)} holds text that looks secret: {', '.join(found)}"


@pytest.mark.parametrize("path", SWAGGERS, ids=relative)
def test_swagger_is_cited_and_self_consistent(path: Path) -> None:
    document = load(path)
    source = document.get("x-source")
    assert isinstance(source, dict), f"{relative(path)}: no x-source citation"
    assert source.get("kind") == "spec"
    assert REPOSITORY.match(str(source.get("repository"))), "x-source.repository is not owner/name"
    assert str(source.get("path", "")).endswith(".json"), "x-source.path does not name the swagger file"
    assert COMMIT.match(str(source.get("commit"))), "x-source.commit is not 40 lower-case hex digits"
    assert document.get("swagger") == "2.0"
    version = document["info"]["version"]
    assert source.get("api_versions") == [version] and version in path.name
    assert document.get("paths") and document.get("definitions")
    dangling = sorted({ref for ref in local_refs(document) if not resolves(document, ref)})
    assert not dangling, f"{relative(path)}: references with nothing behind them: {dangling}"


def test_every_file_is_in_the_readme_index() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [relative(p) for p in [*FIXTURES, *SWAGGERS] if relative(p) not in text]
    assert not missing, f"{README.name} does not index: {missing}"


@pytest.mark.parametrize(
    "sample, expected",
    [
        ("Authorization: Bear" + "er " + "abcDEF123" * 3, "bearer token"),
        ('{"access' + '_token": "x"}', "access token field"),
        ("https://acct.blob.core.windows.net/c/b?sv=2021&s" + "ig=abc%3D", "SAS signature"),
        ("https://management.azure.com/op?api-version=2023-07-01&t=1&s=" + "A" * 40, "signed operation URL"),
        ("grant_type=client_credentials&client" + "_secret=x", "client secret"),
        ("e" + "yJhbGciOiJIUzI1NiJ9.e" + "yJzdWIiOiIxMjM0NTY3ODkwIn0.sig", "JSON web token"),
        ("DefaultEndpointsProtocol=https;Account" + "Key=abc", "storage account key"),
        ('{"Authori' + 'zation": ["x"]}', "authorization header"),
    ],
)
def test_the_secret_scan_catches_what_it_names(sample: str, expected: str) -> None:
    assert expected in secrets_in(sample)


def test_the_checks_refuse_a_broken_fixture() -> None:
    broken = {
        "source": {
            "kind": "recording",
            "repository": "Azure",
            "path": "",
            "commit": "abc",
            "api_versions": [],
        },
        "interactions": [
            {
                "kind": "imageTemplate",
                "request": {"method": "FETCH", "path": "https://host/x?api-version=1", "api_version": "v1"},
                "response": {"status": 99, "headers": []},
            }
        ],
    }
    problems = " | ".join(problems_of_fixture(broken))
    for expected in (
        "owner/name",
        "source.path is empty",
        "40 lower-case hex",
        "recorded",
        "api_versions is empty",
        "not an HTTP verb",
        "without host or query",
        "not an api version",
        "query is not an object",
        "request.body is missing",
        "not an HTTP status",
        "headers is not an object",
        "response.body is missing",
    ):
        assert expected in problems, f"the checks missed: {expected}"
