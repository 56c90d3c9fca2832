"""The `backend` setting through the command line: a stack whose state lives in a blob container (a real
Azurite), `state pull`, `state push FILE` and `state migrate`, and settings refused in one line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from state import load_state
from tests.helpers import Run, edit_json
from tests.helpers.azurite import Azurite
from tests.helpers.backends import blob_place

pytestmark = pytest.mark.azurite


@pytest.fixture
def blob(azurite: Azurite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, object]]:
    """aibplan.json's `backend` for a fresh container, with the connection string in the environment."""
    place = blob_place(azurite, tmp_path)
    monkeypatch.setenv("AIBPLAN_BACKEND_CONNECTION_STRING", azurite.connection_string)
    yield place.config


def tag_gallery(root: Path, owner: str) -> None:
    edit_json(root / "gallery.json", lambda d: d[0].setdefault("tags", {}).update(owner=owner))


def use_backend(root: Path, backend: dict[str, object]) -> None:
    edit_json(root / "aibplan.json", lambda d: d.update(backend=backend))


def test_a_stack_on_the_blob_backend_applies_plans_and_pulls_with_no_local_state_file(
    example: Callable[[str], Path], cli: Callable[..., Run], blob: dict[str, object]
) -> None:
    root = example("quickstart")
    use_backend(root, blob)
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    assert not (root / "aibplan.state.json").exists()
    assert not (root / ".aibplan" / "journal.jsonl").exists()
    assert cli("plan", "--detailed-exitcode", str(root)).exit_code == 0
    listed = cli("state", "list", str(root))
    assert listed.exit_code == 0 and "imageTemplate.ubuntu2204" in listed.stdout
    pulled = cli("state", "pull", str(root))
    assert pulled.exit_code == 0
    state = json.loads(pulled.stdout)
    assert {r["address"] for r in state["resources"] if not r["address"].startswith("role")} == {
        "gallery.corpImages",
        "identity.aibBuilder",
        "imageDefinition.corpImages/ubuntu2204",
        "imageTemplate.ubuntu2204",
    }


def test_migrate_from_local_copies_the_state_and_refuses_to_overwrite_a_newer_one(
    example: Callable[[str], Path], cli: Callable[..., Run], blob: dict[str, object]
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    local = load_state(root / "aibplan.state.json")
    assert local is not None
    use_backend(root, blob)

    run = cli("state", "migrate", "--from", "local", str(root))
    assert run.exit_code == 0, run.stderr
    assert f"Copied the state (serial {local.serial}) from {root / 'aibplan.state.json'}" in run.stdout
    assert "remove it from git" in run.stdout
    assert cli("plan", "--detailed-exitcode", str(root)).exit_code == 0
    again = cli("state", "migrate", "--from", "local", str(root))
    assert again.exit_code == 0 and "already holds this state" in again.stdout

    # An apply through the blob backend makes its state newer than the local file's.
    tag_gallery(root, "platform")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    refused = cli("state", "migrate", "--from", "local", str(root))
    assert refused.exit_code == 1
    assert "is newer" in refused.stderr and "Nothing was written" in refused.stderr
    assert "Traceback" not in refused.stderr

    # And back: the blob's state into the local file, which is older.
    back = cli("state", "migrate", "--to", "local", str(root))
    assert back.exit_code == 0, back.stderr
    copied = load_state(root / "aibplan.state.json")
    assert copied is not None and copied.serial > local.serial
    assert copied.get("gallery.corpImages") is not None


def test_push_refuses_an_older_state_unless_forced(
    example: Callable[[str], Path], cli: Callable[..., Run], blob: dict[str, object], tmp_path: Path
) -> None:
    root = example("quickstart")
    use_backend(root, blob)
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    old = tmp_path / "old.state.json"
    old.write_text(cli("state", "pull", str(root)).stdout)
    tag_gallery(root, "platform")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    newer = cli("state", "pull", str(root)).stdout

    refused = cli("state", "push", str(old), str(root))
    assert refused.exit_code == 1
    assert "is newer" in refused.stderr and "aibplan state pull" in refused.stderr
    assert cli("state", "pull", str(root)).stdout == newer

    forced = cli("state", "push", "--force", str(old), str(root))
    assert forced.exit_code == 0, forced.stderr
    assert cli("state", "pull", str(root)).stdout == old.read_text()
    same = cli("state", "push", str(old), str(root))
    assert same.exit_code == 0 and "already holds this state" in same.stdout


@pytest.mark.parametrize(
    ("backend", "said"),
    [
        ({"type": "azureblob", "container": "images", "key": "k", "connectionString": "x"}, "is a secret"),
        ({"type": "azureblob", "container": "images"}, "backend.key is required"),
        ({"type": "s3"}, "backend.type must be one of local, azureblob"),
        ({"type": "azureblob", "container": "images", "key": "k", "leaseSeconds": 5}, "from 15 to 60"),
    ],
)
def test_backend_settings_that_cannot_be_used_are_one_line(
    example: Callable[[str], Path],
    cli: Callable[..., Run],
    blob: dict[str, object],
    backend: dict[str, object],
    said: str,
) -> None:
    root = example("quickstart")
    use_backend(root, backend)
    for command in (("plan",), ("apply", "--auto-approve"), ("state", "list"), ("state", "pull")):
        run = cli(*command, str(root))
        assert run.exit_code == 1
        assert said in run.stderr and run.stderr.count("\n") == 1, run.stderr
        assert "Traceback" not in run.stderr and "AccountKey" not in run.stderr


def test_a_missing_container_is_one_line_with_the_command_that_makes_it(
    example: Callable[[str], Path], cli: Callable[..., Run], blob: dict[str, object]
) -> None:
    root = example("quickstart")
    use_backend(root, {**blob, "container": "nothere"})
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 1
    assert "nothere" in run.stderr and "az storage container create" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_each_environment_has_its_own_blob_on_a_shared_backend(
    example: Callable[[str], Path], cli: Callable[..., Run], blob: dict[str, object], azurite: Azurite
) -> None:
    root = example("arm-deployment")
    use_backend(root, blob)
    listed = cli("env", "list", str(root))
    container = blob["container"]
    assert f"azureblob {container}/team/aibplan.dev.state.json" in listed.stdout
    assert f"azureblob {container}/team/aibplan.prod.state.json" in listed.stdout
    for env in ("dev", "prod"):
        assert cli("apply", "--auto-approve", "--env", env, str(root)).exit_code == 0
    with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        names = {b.name for b in service.get_container_client(str(container)).list_blobs()}
    assert {"team/aibplan.dev.state.json", "team/aibplan.prod.state.json"} <= names
    assert not any(name.endswith("journal.0") or name.endswith("journal.1") for name in names)
    for env, name in (("dev", "id-aib-dev"), ("prod", "id-aib-prod")):
        pulled = cli("state", "pull", "--env", env, str(root))
        assert pulled.exit_code == 0 and name in pulled.stdout and f"Environment: {env}" in pulled.stderr
