"""Values of securestring/secureObject parameters are secret wherever expressions carry them: the evaluator
marks what is computed from one, the loader hands the marked texts to the redactor, and every message that
would quote one shows its fingerprint instead. A plan file keeps a secret --var as its fingerprint only."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from planner.stack.expressions import Evaluator, Scope
from planner.stack.loader import load_stack
from state.redact import fingerprint
from tests.helpers import Run, write_stack

SCOPE = Scope("00000000-0000-0000-0000-000000000000", "rg", "westeurope")
PW = "Xk9vPlainAdm1nPw"


def _evaluator(variables: dict[str, object] | None = None) -> Evaluator:
    return Evaluator(
        SCOPE,
        {"pw": PW, "creds": {"user": "svc", "value": "S3cureObjPr0pV4lue", "port": 2222}, "env": "dev"},
        variables or {},
        secure=("pw", "creds"),
    )


@pytest.mark.parametrize(
    ("expression", "secret"),
    [
        ("[parameters('pw')]", PW),
        ("[concat('echo ', parameters('pw'), ' | chpasswd')]", f"echo {PW} | chpasswd"),
        ("[format('curl https://h/{0}/done', parameters('pw'))]", f"curl https://h/{PW}/done"),
        ("[base64(parameters('pw'))]", base64.b64encode(PW.encode()).decode()),
        ("[toUpper(parameters('pw'))]", PW.upper()),
        ("[parameters('creds').value]", "S3cureObjPr0pV4lue"),
        ("[string(parameters('creds').port)]", "2222"),
        ("[if(equals(parameters('env'), 'dev'), parameters('pw'), 'none')]", PW),
        ("[replace(parameters('PW'), 'Xk9', 'abc')]", PW.replace("Xk9", "abc")),
        ("[variables('greeting')]", f"welcome {PW}"),
        ("[concat('a', variables('nested').inner)]", f"a{PW}"),
    ],
)
def test_what_is_computed_from_a_secure_parameter_is_marked(expression: str, secret: str) -> None:
    evaluator = _evaluator(
        {"greeting": "[format('welcome {0}', parameters('pw'))]", "nested": {"inner": "[parameters('pw')]"}}
    )
    assert evaluator.evaluate_string(expression) == secret
    assert secret in evaluator.secret_values


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("[parameters('env')]", "dev"),
        ("[if(empty(parameters('pw')), 'unset', 'set')]", "set"),  # a condition picks, it does not carry
        ("[string(equals(parameters('pw'), 'x'))]", "False"),  # a yes or no carries no character of it
        ("[concat('region-', parameters('env'))]", "region-dev"),
        ("[parameters('creds').user]", "svc"),  # a secure object's texts are secret ...
    ],
)
def test_what_carries_none_of_it_is_not(expression: str, value: str) -> None:
    evaluator = _evaluator()
    assert evaluator.evaluate_string(expression) == value
    marked = value in evaluator.secret_values
    assert marked == (expression == "[parameters('creds').user]")  # ... as ARM treats the object whole


def test_a_variable_read_twice_is_marked_both_times() -> None:
    evaluator = _evaluator({"cmd": "[concat('login ', parameters('pw'))]"})
    evaluator.evaluate_string("[variables('cmd')]")
    evaluator.secret_values.clear()
    assert evaluator.evaluate_string("[concat(variables('cmd'), ' && ok')]") == f"login {PW} && ok"
    assert f"login {PW} && ok" in evaluator.secret_values


def _stack(tmp_path: Path, parameters: dict[str, object], tags: dict[str, str]) -> Path:
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "parameters": parameters,
        "resources": [
            {
                "type": "Microsoft.Compute/galleries",
                "apiVersion": "2024-03-03",
                "name": "corpImages",
                "tags": tags,
            }
        ],
    }
    return write_stack(tmp_path / "stack", {"pipeline.json": template})


def test_the_loader_records_a_resources_secret_texts(tmp_path: Path) -> None:
    root = _stack(
        tmp_path,
        {"pw": {"type": "securestring"}, "who": {"type": "string", "defaultValue": "[parameters('pw')]"}},
        {"a": "[concat('k=', parameters('pw'))]", "b": "[parameters('who')]", "c": "plain"},
    )
    stack, diagnostics = load_stack(root, variables=[("pw", PW)])
    assert stack is not None, diagnostics
    (gallery,) = stack.resources
    assert set(gallery.secret_values) == {PW, f"k={PW}"}


def test_messages_never_quote_a_secure_value(tmp_path: Path, cli: Callable[..., Run]) -> None:
    root = _stack(
        tmp_path,
        {
            "pw": {"type": "securestring", "allowedValues": ["Allowed0ne", "Allowed2wo"]},
            "obj": {"type": "secureObject"},
            "n": {"type": "int", "defaultValue": "[int(parameters('pw'))]"},
        },
        {"a": "[parameters('pw')]"},
    )
    for args in (("validate", str(root)), ("plan", str(root)), ("validate", "--format", "sarif", str(root))):
        run = cli(*args, "--var", f"pw={PW}", "--var", "obj=NotJs0nSecretText")
        assert run.exit_code == 1
        shown = run.stdout + run.stderr
        assert "AIB0009" in shown
        for secret in (PW, "NotJs0nSecretText", "Allowed0ne"):
            assert secret not in shown, shown
    run = cli("validate", str(root), "--var", f"pw={PW}", "--var", "obj=NotJs0nSecretText")
    assert "parameter 'pw' is not one of its 2 allowed values" in run.stderr
    assert (
        "parameter 'obj' (from --var): expected a secureobject (a JSON object); the value is not shown"
        in (run.stderr)
    )


def test_a_saved_plan_keeps_a_secret_var_as_its_fingerprint(tmp_path: Path, cli: Callable[..., Run]) -> None:
    root = _stack(
        tmp_path,
        {"pw": {"type": "securestring"}, "env": {"type": "string"}},
        {"login": "[concat('echo ', parameters('pw'))]", "env": "[parameters('env')]"},
    )
    plan_file = tmp_path / "release.plan.json"
    made = cli("plan", "--out", str(plan_file), "--var", f"pw={PW}", "--var", "env=prod", str(root))
    assert made.exit_code == 0, made.stderr
    saved = plan_file.read_text()
    assert PW not in saved
    options = json.loads(saved)["options"]
    assert options["variables"] == [["env", "prod"]]
    assert options["secret_variables"] == [["pw", fingerprint(PW)]]

    missing = cli("apply", str(plan_file))
    assert missing.exit_code == 1
    assert "was made with secret --var pw, which a plan file does not keep" in missing.stderr
    assert "--var pw=..." in missing.stderr
    wrong = cli("apply", str(plan_file), "--var", "pw=another-value")
    assert wrong.exit_code == 1 and "not the value the plan was made with" in wrong.stderr
    not_secret = cli("apply", str(plan_file), "--var", f"pw={PW}", "--var", "env=test")
    assert not_secret.exit_code == 1 and "--var cannot be used with a saved plan (env)" in not_secret.stderr

    applied = cli("apply", str(plan_file), "--var", f"pw={PW}")
    assert applied.exit_code == 0, applied.stderr
    assert "Apply complete! Resources: 1 added" in applied.stdout
    state = (root / "aibplan.state.json").read_text()
    assert PW not in state and fingerprint(f"echo {PW}") in state
    assert '"env": "prod"' in state


def test_a_failed_builds_message_is_kept_without_its_secret(
    tmp_path: Path, cli: Callable[..., Run], example: Callable[[str], Path]
) -> None:
    """The service's words on a failed build (which can echo a script's command line) reach the state
    and `output` with their secret fingerprinted."""
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    message = "Customization failed: curl -u deploy:Bu1ldM3ssageSecret https://x exited with 22"
    planted = cli("sim", "build-fail", str(root), "imageTemplate.ubuntu2204", "--message", message)
    assert planted.exit_code == 0, planted.stderr
    run = cli("run", "--wait", str(root), "imageTemplate.ubuntu2204")
    assert run.exit_code == 1
    shown = cli("output", "--json", str(root))
    state = (root / "aibplan.state.json").read_text()
    assert "Customization failed: curl -u deploy:<secret:sha256:" in state
    for text in (run.stdout, run.stderr, shown.stdout, shown.stderr, state):
        assert "Bu1ldM3ssageSecret" not in text
