"""Fault injection in the local cloud: by rate and by operation, reproducible from a seed, configurable."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from providers.simulated.local_faults import FaultConfigError, FaultInjector, parse_settings, settings_from
from providers.simulated.service import ServiceError
from tests.helpers import Run

IDS = [f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g{i}" for i in range(300)]


def outcomes(injector: FaultInjector, order: list[str]) -> dict[str, str]:
    seen = {}
    for arm_id in order:
        try:
            injector("create", arm_id)
            seen[arm_id] = "ok"
        except ServiceError as exc:
            seen[arm_id] = f"{exc.status}"
        except ConnectionError:
            seen[arm_id] = "dropped"
    return seen


def test_same_seed_same_faults_whatever_the_order() -> None:
    settings = parse_settings({"seed": 11, "transientRate": 0.2, "permanentRate": 0.05}, "t")
    shuffled = list(IDS)
    random.Random(3).shuffle(shuffled)
    first = outcomes(FaultInjector(settings), IDS)
    assert first == outcomes(FaultInjector(settings), shuffled)
    failed = [v for v in first.values() if v != "ok"]
    assert 0.15 * len(IDS) < len(failed) < 0.35 * len(IDS)
    assert {"400", "503", "500", "429", "409", "dropped"} <= set(first.values())
    other = outcomes(FaultInjector(parse_settings({"seed": 12, "transientRate": 0.2}, "t")), IDS)
    assert other != first


def test_a_retry_draws_again_and_reads_are_spared_by_default() -> None:
    injector = FaultInjector(parse_settings({"seed": 1, "transientRate": 0.5}, "t"))
    results = []
    for _ in range(30):
        try:
            injector("create", IDS[0])
            results.append(True)
        except (ServiceError, ConnectionError):
            results.append(False)
    assert True in results and False in results
    for arm_id in IDS:
        injector("read", arm_id)


def test_rules_aim_at_resources_and_operations() -> None:
    injector = FaultInjector(
        parse_settings({"rules": [{"match": "galleries/g7", "operation": "delete", "kind": "throttle"}]}, "t")
    )
    injector("create", IDS[7])
    with pytest.raises(ServiceError) as caught:
        injector("delete", IDS[7])
    assert caught.value.status == 429 and caught.value.retry_after == 0.05
    injector("delete", IDS[8])
    assert injector.injected == [("delete", IDS[7], "throttle")]


def test_latency_per_operation() -> None:
    slept: list[float] = []
    injector = FaultInjector(parse_settings({"latencyMs": {"create": 20}}, "t"), sleep=slept.append)
    injector("create", IDS[0])
    injector("read", IDS[0])
    assert slept == [0.02]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"transientRate": 2}, "transientRate must be a number between 0 and 1"),
        ({"transientRate": 0.7, "permanentRate": 0.5}, "must be at most 1"),
        ({"seed": "x"}, "seed must be an integer"),
        ({"operations": ["launch"]}, "operations must be a list of read, create, update, delete"),
        ({"rules": [{"match": "x", "kind": "meteor"}]}, r"rules\[0\].kind must be one of"),
        ({"transientRat": 0.1}, "unknown setting 'transientRat'"),
        ({"latencyMs": -1}, "latencyMs must be a number >= 0"),
    ],
)
def test_bad_settings_are_named(data: dict[str, object], message: str) -> None:
    with pytest.raises(FaultConfigError, match=message):
        parse_settings(data, "aibplan.json: local.faults")


def test_environment_wins_over_aibplan_json() -> None:
    settings = settings_from({"seed": 1}, {"AIBPLAN_LOCAL_FAULTS": '{"seed": 2}'})
    assert settings is not None and settings.seed == 2
    with pytest.raises(FaultConfigError, match="AIBPLAN_LOCAL_FAULTS is not valid JSON"):
        settings_from(None, {"AIBPLAN_LOCAL_FAULTS": "{"})
    assert settings_from(None, {}) is None


def test_bad_fault_settings_stop_the_cli_with_one_line(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    config = root / "aibplan.json"
    from planner.stack.jsonc import load_jsonc

    data = load_jsonc(config.read_text(), "aibplan.json")
    data["local"] = {"faults": {"transientRate": 5}}
    config.write_text(json.dumps(data))
    run = cli("plan", str(root))
    assert run.exit_code == 1
    assert run.stderr.strip() == (
        "Error: aibplan.json: local.faults.transientRate must be a number between 0 and 1"
    )
