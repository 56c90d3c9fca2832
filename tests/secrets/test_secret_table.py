"""One secret table: what the validator flags (AIB3410) is what the redactor keeps out, and the other way
round; docs/state.md lists the table as it is; what only names a secret is left alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.rules.validate import validate_paths
from state.observed import same_value
from state.redact import (
    fingerprint,
    forget_secrets,
    redact,
    redact_answer,
    redact_beside,
    redact_known,
    redact_text,
)
from state.redact import remember_secrets as remember
from state.secrets import FORMS, describe, find_secrets
from tests.helpers import ROOT
from tests.helpers.secrets import load_corpus

PATTERN_FORMS = [f for f in load_corpus()["forms"] if f["place"] == "inline" and "[" not in f["text"][:1]]
# Texts a template holds every day: neither flagged nor changed.
ORDINARY = [
    "sudo apt-get update && sudo apt-get install -y nginx",
    "https://stgoldenimages.blob.core.windows.net/scripts/install-tools.sh",
    "echo $PASSWORD | docker login --password-stdin myregistry.azurecr.io",
    "az login --identity",
    "az storage blob download --account-key $STORAGE_KEY -c c -n a -f /tmp/a",
    "export DB_PASSWORD=$(az keyvault secret show --vault-name kv --name db --query value -o tsv)",
    "docker run -u 1000:1000 --rm alpine true",
    "git clone https://deploy@dev.azure.com/org/project/_git/tools",
    "net user packer /delete",
    "net user packer *",
    "$pw = ConvertTo-SecureString $plain -AsPlainText -Force",
    "Set-Location eastasia",
    "keyboard layout: de",
    "curl -fsSL https://get.example.com | sh",
]


def _template(texts: list[str]) -> dict[str, object]:
    return {
        "type": "Microsoft.VirtualMachineImages/imageTemplates",
        "apiVersion": "2024-02-01",
        "name": "t",
        "location": "westus2",
        "identity": {
            "type": "UserAssigned",
            "userAssignedIdentities": {
                "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
                "Microsoft.ManagedIdentity/userAssignedIdentities/aib": {}
            },
        },
        "properties": {
            "vmProfile": {"vmSize": "Standard_D2ds_v4"},
            "source": {
                "type": "PlatformImage",
                "publisher": "Canonical",
                "offer": "0001-com-ubuntu-server-jammy",
                "sku": "22_04-lts-gen2",
                "version": "latest",
            },
            "customize": [{"type": "Shell", "name": f"s{i}", "inline": [t]} for i, t in enumerate(texts)],
            "distribute": [{"type": "VHD", "runOutputName": "vhd"}],
        },
    }


def _flagged(tmp_path: Path, texts: list[str]) -> dict[int, str]:
    """Step index -> AIB3410's message, from `aibplan validate` on a file holding `texts`."""
    (tmp_path / "t.json").write_text(json.dumps(_template(texts)))
    result = validate_paths([tmp_path / "t.json"])
    return {int(d.path[2]): d.message for d in result.diagnostics if d.code == "AIB3410"}


def test_the_validator_flags_exactly_what_the_redactor_replaces(tmp_path: Path) -> None:
    texts = [f["text"] for f in PATTERN_FORMS] + ORDINARY
    flagged = _flagged(tmp_path, texts)
    for index, text in enumerate(texts):
        redacted = redact_text(text)
        assert (index in flagged) == (redacted != text), (text, flagged.get(index), redacted)
    assert set(flagged) == set(range(len(PATTERN_FORMS)))


@pytest.mark.parametrize("form", PATTERN_FORMS, ids=[f["id"] for f in PATTERN_FORMS])
def test_each_form_keeps_its_text_and_replaces_only_the_secret(form: dict[str, object]) -> None:
    text = str(form["text"])
    redacted = redact_text(text)
    for secret in form["secrets"]:  # type: ignore[attr-defined]
        assert secret not in redacted
        assert fingerprint(secret) in redacted
    assert redact_text(redacted) == redacted  # a fingerprint is never taken for a secret


@pytest.mark.parametrize("text", ORDINARY)
def test_what_only_names_a_secret_is_left_alone(text: str) -> None:
    assert redact_text(text) is text
    assert list(find_secrets(text)) == []


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("account_key=c2VjcmV0a2V5MTIz", "c2VjcmV0a2V5MTIz"),
        ("export REGISTRY_PASSWORD=abc&def", "abc&def"),
        ("curl -H 'Authorization: Bearer lettersonlytokenvalue' https://x", "lettersonlytokenvalue"),
        ("mysql --password\nS3cretOnNextLine", "S3cretOnNextLine"),
        ("az login --password (abc123) -u x", "(abc123)"),
        ("--password <MyP4ss>", "<MyP4ss>"),
        ("API_TOKEN\n= tok_0123456789abcdef", "tok_0123456789abcdef"),
    ],
)
def test_never_weaker_than_the_redactor_before_the_one_table(text: str, secret: str) -> None:
    """Texts the redactor caught before the validator's forms joined it: still caught."""
    assert secret not in redact_text(text)


def test_the_validator_says_what_it_found(tmp_path: Path) -> None:
    flagged = _flagged(tmp_path, ["net user packer N3tUs3rPassw0rd! /add", "echo ghp_" + "a1" * 15])
    assert flagged[0].startswith("this looks like a password (net user)")
    assert flagged[1].startswith("this looks like a GitHub token")


def test_docs_list_the_table_as_it_is() -> None:
    text = (ROOT / "docs" / "state.md").read_text(encoding="utf-8")
    block = text.split("<!-- secret-table:start -->\n", 1)[1].split("<!-- secret-table:end -->", 1)[0]
    assert block == describe(), "docs/state.md is stale: paste state.secrets.describe() between the markers"
    for form in FORMS:
        assert f"({form.name})" in block


def test_known_values_are_replaced_wherever_they_appear() -> None:
    try:
        remember(["Xk9vPlainAdm1nPw", "echo Xk9vPlainAdm1nPw | chpasswd", "q7Z"])
        # The longest known value first: the text computed from a secret is one fingerprint.
        assert redact_text("echo Xk9vPlainAdm1nPw | chpasswd") == fingerprint(
            "echo Xk9vPlainAdm1nPw | chpasswd"
        )
        assert redact_known("Error: 'Xk9vPlainAdm1nPw' is not valid") == (
            f"Error: '{fingerprint('Xk9vPlainAdm1nPw')}' is not valid"
        )
        # A short value only where it stands alone.
        assert redact_known("pin q7Z set; q7Zebra stays") == f"pin {fingerprint('q7Z')} set; q7Zebra stays"
        body = {"tags": {"pin": "q7Z", "note": "x"}, "list": ["a Xk9vPlainAdm1nPw b"]}
        redacted = redact(body)
        assert redacted["tags"] == {"pin": fingerprint("q7Z"), "note": "x"}
        assert "Xk9vPlainAdm1nPw" not in json.dumps(redacted)
        # A fingerprint holding a known value's characters is never taken apart.
        remember([fingerprint("x")[15:19]])
        assert redact_known(fingerprint("x")) == fingerprint("x")
    finally:
        forget_secrets()
    assert redact_text("echo Xk9vPlainAdm1nPw | chpasswd") == "echo Xk9vPlainAdm1nPw | chpasswd"


def test_a_known_value_with_quotes_is_found_inside_a_body() -> None:
    """Bodies are searched as JSON text first; a value JSON would escape is still found."""
    try:
        remember(['pa"ss\\word'])
        body = {"properties": {"customize": [{"inline": ['echo pa"ss\\word']}]}}
        line = redact(body)["properties"]["customize"][0]["inline"][0]
        assert line == "echo " + fingerprint('pa"ss\\word')
    finally:
        forget_secrets()


def test_a_body_read_back_keeps_secret_what_the_state_held_secret() -> None:
    """A command that does not know the value (it did not load the stack's parameters) still fingerprints
    a text where the state's earlier body held a fingerprint."""
    state_body = {"tags": {"note": fingerprint("old-S3cret"), "env": "dev"}, "list": [fingerprint("a"), "b"]}
    live = {"tags": {"note": "new-S3cret", "env": "prod"}, "list": ["a-value", "b"], "extra": "x"}
    redacted = redact(live, like=(state_body,))
    assert redacted == {
        "tags": {"note": fingerprint("new-S3cret"), "env": "prod"},
        "list": [fingerprint("a-value"), "b"],
        "extra": "x",
    }
    assert redact(live, like=()) == live


_TEXTS = [f["text"] for f in PATTERN_FORMS] + ORDINARY + ["", "plain", "/subscriptions/s/x"]
_KEYS = ["inline", "password", "adminPassword", "name", "sasToken", "url"]
_LEAVES = st.sampled_from(_TEXTS) | st.integers(-2, 2) | st.none()
_BODIES = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(stack=_BODIES, cloud=_BODIES, shared=st.booleans())
def test_a_cloud_body_redacted_beside_the_stacks_is_redacted_exactly_as_alone(
    stack: object, cloud: object, shared: bool
) -> None:
    """A plan redacts the cloud's body reusing the stack's redaction where they agree: the same result as
    redacting the cloud's body on its own, secrets under their keys and inside texts included."""
    if shared and isinstance(stack, dict) and isinstance(cloud, dict):
        cloud = {**stack, **cloud}  # mostly the stack's body, as a cloud's answer is
    assert redact_beside(cloud, stack, redact(stack)) == redact(cloud)


_TYPED_LEAVES = _LEAVES | st.sampled_from([1.0, 0.0, -0.0, True, False, 2.5])
_TYPED_BODIES = st.recursive(
    _TYPED_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(sent=st.dictionaries(st.sampled_from(_KEYS), _TYPED_BODIES, max_size=4), answer=_TYPED_BODIES)
def test_a_service_answer_redacted_beside_the_sent_body_is_the_answer_redacted_alone(
    sent: dict[str, object], answer: object
) -> None:
    """What apply keeps of the service's answer: redacted as the answer alone would be, to the type of each
    value (an answer's `1.0` or `true` where `1` was sent is kept as answered), secrets the service added
    under their keys and inside texts included."""
    # Mostly the body sent, as an answer is.
    whole = {**sent, **answer} if isinstance(answer, dict) else {**sent, "added": answer}
    kept = redact_answer(whole, sent, redact(sent))
    assert same_value(kept, redact(whole))


def test_what_the_service_answered_as_sent_is_the_applied_bodys_own() -> None:
    sent = {"properties": {"customize": [{"inline": ["echo hi"]}], "timeout": 1}, "tags": {"a": "b"}}
    answer = {
        "properties": {"customize": [{"inline": ["echo hi"]}], "timeout": 1.0, "state": "Succeeded"},
        "tags": {"a": "b"},
        "password": "added-by-the-service",
    }
    applied = redact(sent)
    kept = redact_answer(answer, sent, applied)
    assert kept["properties"]["customize"] is applied["properties"]["customize"]
    assert kept["tags"] is applied["tags"]
    assert type(kept["properties"]["timeout"]) is float
    assert kept["password"] == fingerprint("added-by-the-service")


# In a fresh process: how many of the forms' patterns are compiled after the given code ran.
_COMPILED = (
    "import sys\n"
    "from state.secrets import FORMS, find_secrets, might_hold_secret\n"
    "exec(sys.argv[1])\n"
    "print(sorted(f.name for f in FORMS if 'pattern' in vars(f)))\n"
)


@pytest.mark.parametrize(
    ("code", "compiled"),
    [
        # What every plan does: a text without any form's sign is screened by words alone.
        ("assert not might_hold_secret('sudo apt-get install -y nginx')", []),
        # A text with a form's sign: that form's pattern only is compiled, and finds the secret.
        (
            "assert [f.form.name for f in find_secrets('curl -H \"Authorization: Bearer abcdefgh12345\"')]"
            " == ['authorization']",
            ["authorization"],
        ),
    ],
)
def test_a_forms_pattern_is_compiled_when_a_text_first_needs_it(code: str, compiled: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _COMPILED, code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == repr(compiled)
