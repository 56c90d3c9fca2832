"""Environments: one stack folder (examples/arm-deployment), dev and prod, each with its own parameters,
state, resource group and local cloud; every command says which one it acts on, and an apply of one never
plans to destroy the other's resources."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from state import load_state
from tests.helpers import Run, edit_json

DEV = {
    "identity.id-aib-dev",
    "gallery.gal_dev_{}",
}


def addresses(root: Path, env: str) -> set[str]:
    state = load_state(root / f"aibplan.{env}.state.json")
    assert state is not None
    return set(state.by_address)


def test_env_list_names_each_environment_with_its_state_and_parameters(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("arm-deployment")
    run = cli("env", "list", str(root))
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[1].split() == [
        "*",
        "dev",
        "rg-golden-images-arm",
        "00000000-0000-0000-0000-000000000000",
        "aibplan.dev.state.json",
        "-",
    ]
    assert lines[2].split() == [
        "prod",
        "rg-golden-images-arm-prod",
        "00000000-0000-0000-0000-000000000000",
        "aibplan.prod.state.json",
        "prod.parameters.json",
    ]
    chosen = json.loads(cli("env", "list", "--json", "--env", "prod", str(root)).stdout)
    assert [(e["name"], e["selected"]) for e in chosen["environments"]] == [("dev", False), ("prod", True)]


def test_applying_each_environment_leaves_the_other_intact(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("arm-deployment")
    dev = cli("apply", "--auto-approve", str(root))  # dev is the default environment
    assert dev.exit_code == 0, dev.stderr
    assert dev.stdout.startswith("Environment: dev\nProvider: local (simulated Azure in ")
    assert ".aibplan/dev/local-cloud.db" in dev.stdout and "5 added" in dev.stdout
    dev_text = (root / "aibplan.dev.state.json").read_text()

    prod = cli("apply", "--auto-approve", "--env", "prod", str(root))
    assert prod.exit_code == 0, prod.stderr
    assert prod.stdout.startswith("Environment: prod\nProvider: local (simulated Azure in ")
    assert "Apply complete! Resources: 5 added, 0 changed, 0 replaced, 0 destroyed." in prod.stdout
    assert "id-aib-prod" in prod.stderr and "id-aib-dev" not in prod.stderr + prod.stdout
    assert (root / "aibplan.dev.state.json").read_text() == dev_text, "prod's apply left dev's state alone"
    assert not (root / "aibplan.state.json").exists()
    assert (root / ".aibplan" / "dev").is_dir() and (root / ".aibplan" / "prod").is_dir()
    assert all(
        "-prod" in a or "_prod_" in a
        for a in addresses(root, "prod")
        if a.startswith(("identity", "gallery"))
    )
    assert all(
        "-dev" in a or "_dev_" in a for a in addresses(root, "dev") if a.startswith(("identity", "gallery"))
    )

    for env in ("dev", "prod"):
        run = cli("plan", "--detailed-exitcode", "--env", env, str(root))
        assert run.exit_code == 0, run.stdout + run.stderr
        assert run.stdout.startswith(f"Environment: {env}\n")
        document = json.loads(cli("plan", "--json", "--env", env, str(root)).stdout)
        assert document["environment"] == env and document["summary"]["destroy"] == 0
    # Applying dev again (with a change) touches dev only; prod's state and cloud are as they were.
    prod_text = (root / "aibplan.prod.state.json").read_text()
    edit_json(
        root / "pipeline.json", lambda d: d["parameters"]["buildTimeoutInMinutes"].update(defaultValue=95)
    )
    again = cli("apply", "--auto-approve", "--env", "dev", str(root))
    assert again.exit_code == 0 and "0 destroyed" in again.stdout, again.stdout
    assert (root / "aibplan.prod.state.json").read_text() == prod_text
    listed = cli("sim", "list", "--env", "prod", str(root))
    assert listed.exit_code == 0 and "id-aib-prod" in listed.stdout and "id-aib-dev" not in listed.stdout


def test_aibplan_env_selects_the_environment_and_every_command_says_which(
    example: Callable[[str], Path], cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example("arm-deployment")
    monkeypatch.setenv("AIBPLAN_ENV", "prod")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    assert (root / "aibplan.prod.state.json").exists() and not (root / "aibplan.dev.state.json").exists()
    for command in (("state", "list"), ("state", "pull"), ("output",), ("graph",), ("validate",)):
        run = cli(*command, str(root))
        assert run.exit_code == 0, run.stderr
        assert "Environment: prod\n" in run.stderr, command
    listing = json.loads(cli("state", "list", "--json", str(root)).stdout)
    assert listing["environment"] == "prod" and any("prod" in r["address"] for r in listing["resources"])
    drift = cli("drift", str(root))
    assert drift.exit_code == 0 and drift.stdout.startswith("Environment: prod\n")
    # --env wins over the variable.
    run = cli("plan", "--env", "dev", str(root))
    assert run.exit_code == 0 and run.stdout.startswith("Environment: dev\n") and "5 to add" in run.stdout


def test_a_saved_plan_applies_to_the_environment_it_was_made_for(
    example: Callable[[str], Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    root = example("arm-deployment")
    plan_file = tmp_path / "prod.plan"
    assert cli("plan", "--env", "prod", "--out", str(plan_file), str(root)).exit_code == 0
    refused = cli("apply", "--env", "dev", str(plan_file))
    assert (
        refused.exit_code == 1 and "was made for environment prod, not for environment dev" in refused.stderr
    )
    applied = cli("apply", str(plan_file))
    assert applied.exit_code == 0, applied.stderr
    assert applied.stdout.startswith("Environment: prod\n")
    assert (root / "aibplan.prod.state.json").exists() and not (root / "aibplan.dev.state.json").exists()


@pytest.mark.parametrize(
    ("environments", "extra", "said"),
    [
        ({"dev": {}, "prod": {}}, {}, "this stack has environments (dev, prod): choose one with --env NAME"),
        (
            {"dev": {"state": "s.json"}, "prod": {"state": "s.json"}},
            {"defaultEnvironment": "dev"},
            "environments dev and prod have the same state file; each needs its own",
        ),
        (
            {"dev": {}},
            {"defaultEnvironment": "qa"},
            "'defaultEnvironment' is 'qa', which is not an environment",
        ),
    ],
)
def test_environment_settings_that_cannot_be_used_are_clear_errors(
    example: Callable[[str], Path],
    cli: Callable[..., Run],
    environments: dict[str, object],
    extra: dict[str, object],
    said: str,
) -> None:
    root = example("quickstart")
    edit_json(root / "aibplan.json", lambda d: d.update(environments=environments, **extra))
    run = cli("plan", str(root))
    assert run.exit_code == 1 and said in run.stderr, run.stderr
    assert "aibplan.json" in run.stderr and "Traceback" not in run.stderr


def test_an_unknown_environment_names_the_known_ones(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("arm-deployment")
    for command in (("plan",), ("state", "list"), ("apply", "--auto-approve")):
        run = cli(*command, "--env", "staging", str(root))
        assert run.exit_code == 1
        assert "there is no environment 'staging' in this stack; its environments: dev, prod" in run.stderr
