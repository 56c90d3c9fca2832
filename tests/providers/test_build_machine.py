"""AIB's run states as a pure function of simulated minutes: steps, timeout, cancel, planted failures."""

from __future__ import annotations

from providers.simulated import build_machine as m

TEMPLATE = {
    "customize": [{"type": "Shell"}, {"type": "File"}, {"type": "WindowsUpdate"}],
    "validate": {"inVMValidations": [{"type": "Shell"}]},
    "optimize": {"vmBoot": {"state": "Enabled"}},
    "distribute": [{"type": "SharedImage", "replicationRegions": ["westus2", "eastus"]}, {"type": "VHD"}],
}


def test_steps_follow_the_template() -> None:
    steps = m.steps_for(TEMPLATE)
    assert [name for name, _ in steps] == [
        "Queued",
        "Building",
        "Customizing",
        "Validating",
        "Optimizing",
        "Distributing",
    ]
    minutes = dict(steps)
    assert minutes["Customizing"] == 18.0  # Shell 2 + File 1 + WindowsUpdate 15
    assert minutes["Distributing"] == 12.0  # a gallery version replicated to a second region
    bare = m.steps_for({"distribute": [{"type": "VHD"}]})
    assert [name for name, _ in bare] == ["Queued", "Building", "Customizing", "Distributing"]
    only_source = m.steps_for({"validate": {"sourceValidationOnly": True}})
    assert [name for name, _ in only_source] == ["Queued", "Building", "Validating"]


def test_a_build_runs_through_its_steps_and_succeeds() -> None:
    plan = m.BuildPlan(m.steps_for(TEMPLATE), m.timeout_minutes({}))
    seen = []
    minute = 0.0
    while True:
        status = m.status_at(plan, minute)
        if not seen or seen[-1] != (status.run_state, status.sub_state):
            seen.append((status.run_state, status.sub_state))
        if status.ended:
            break
        minute += 0.5
    assert seen == [
        ("Running", "Queued"),
        ("Running", "Building"),
        ("Running", "Customizing"),
        ("Running", "Validating"),
        ("Running", "Optimizing"),
        ("Running", "Distributing"),
        ("Succeeded", "Distributing"),
    ]
    assert status.ended_at == plan.minutes


def test_timeout_defaults_to_240_minutes_and_fails_with_the_service_text() -> None:
    assert m.timeout_minutes({"buildTimeoutInMinutes": 0}) == 240.0
    assert m.timeout_minutes({}) == 240.0
    assert m.timeout_minutes({"buildTimeoutInMinutes": 90}) == 90.0
    hung = m.BuildPlan(m.steps_for(TEMPLATE), 240.0, m.Fault("Customizing", hang=True))
    assert m.status_at(hung, 239.0) == m.Status("Running", "Customizing")
    status = m.status_at(hung, 240.0)
    assert (status.run_state, status.sub_state, status.ended_at) == ("Failed", "Customizing", 240.0)
    assert "Timeout waiting for microservice to complete: 'context deadline exceeded'" in status.message
    short = m.BuildPlan(m.steps_for(TEMPLATE), 6.0)
    assert m.status_at(short, 7.0).message == m.TIMEOUT_MESSAGE


def test_a_planted_failure_ends_the_build_at_its_step() -> None:
    plan = m.BuildPlan(m.steps_for(TEMPLATE), 240.0, m.Fault("Validating", "exit 3"))
    status = m.status_at(plan, 1000.0)
    assert (status.run_state, status.sub_state, status.message) == ("Failed", "Validating", "exit 3")
    assert status.ended_at == 1 + 4 + 18 + 3  # at the end of the Validating step


def test_cancel_goes_through_canceling_to_canceled() -> None:
    plan = m.BuildPlan(m.steps_for(TEMPLATE), 240.0)
    assert m.status_at(plan, 10.0, canceled_at=8.0) == m.Status("Canceling", "Customizing")
    status = m.status_at(plan, 8.0 + m.CANCEL_MINUTES, canceled_at=8.0)
    assert (status.run_state, status.sub_state, status.ended_at) == ("Canceled", "Customizing", 11.0)
    # A cancel that arrives after the end changes nothing.
    assert m.status_at(plan, 500.0, canceled_at=400.0).run_state == "Succeeded"


def test_automatic_versions_always_increase() -> None:
    when = 1_700_000_000.0
    first = m.next_version([], None, when)
    assert first.startswith("0.23")
    later = m.next_version([first], None, when)  # same second: the patch goes up
    assert m.version_key(later) > m.version_key(first)
    assert m.next_version(["9.9.9"], None, when) == "9.9.10"
    latest = {"scheme": "Latest", "major": 2}
    assert m.next_version(["1.4.0", "2.0.3", "2.0.10"], latest, when) == "2.0.11"
    assert m.next_version(["1.4.0"], latest, when) == "2.0.0"
    assert m.next_version(["1.4.0"], {"scheme": "Latest"}, when) == "1.4.1"
