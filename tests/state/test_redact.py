"""No secret reaches the state, a plan or the output; a changed secret still shows as a change."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from state.redact import FINGERPRINT_RE, fingerprint, redact, redact_text
from tests.helpers import Run, edit_json

SAS = "sv=2022-11-02&sr=b&sp=r&sig=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA%3D%3D"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (
            f"curl -fsSL 'https://st.blob.core.windows.net/c/setup.sh?{SAS}' | bash",
            "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA%3D%3D",
        ),
        (
            "curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345' https://x",
            "abcdefghijklmnopqrstuvwxyz012345",
        ),
        ("az login --service-principal -u app --password 'S3cr3t-Value!' --tenant t", "S3cr3t-Value!"),
        ("az storage blob download --account-key Zm9vYmFyYmF6cXV4 -c c", "Zm9vYmFyYmF6cXV4"),
        ("export REGISTRY_PASSWORD=hunter22 && docker login", "hunter22"),
        ("$env:API_TOKEN = 'tok_0123456789abcdef'", "tok_0123456789abcdef"),
        (
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0a2V5;EndpointSuffix=x",
            "c2VjcmV0a2V5",
        ),
        (
            "echo eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl > t",
            "eyJhbGciOiJIUzI1NiJ9",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
            "MIIEowIBAAKCAQEA",
        ),
    ],
    ids=[
        "sas",
        "bearer",
        "password-option",
        "account-key",
        "env-password",
        "ps-token",
        "connection-string",
        "jwt",
        "private-key",
    ],
)
def test_secrets_in_strings_become_fingerprints(text: str, secret: str) -> None:
    redacted = redact_text(text)
    assert secret not in redacted
    assert FINGERPRINT_RE.search(redacted)
    assert redact_text(redacted) == redacted  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "sudo apt-get install -y nginx",
        "https://stgoldenimages.blob.core.windows.net/scripts/install-tools.sh",
        "echo $PASSWORD | docker login --password-stdin",
        "az login --identity",
        "--token $TOKEN",
        "keyboard layout",
    ],
)
def test_ordinary_values_are_left_alone(text: str) -> None:
    assert redact_text(text) is text


def test_secret_named_keys_and_fingerprints() -> None:
    body = {"properties": {"adminPassword": "p@ss", "clientSecret": "s", "vmSize": "Standard_D2s_v3"}}
    redacted = redact(body)
    assert redacted["properties"]["adminPassword"] == fingerprint("p@ss")
    assert redacted["properties"]["vmSize"] == "Standard_D2s_v3"
    assert fingerprint("a") != fingerprint("b") and fingerprint("a") == fingerprint("a")
    untouched = {"tags": {"owner": "me"}}
    assert redact(untouched) is untouched


def test_apply_plan_and_state_never_show_the_secret(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    secret = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA%3D%3D"
    edit_json(
        root / "ubuntu2204.json",
        lambda d: d["properties"]["customize"][0]["inline"].append(
            f"curl -fsSL 'https://st.blob.core.windows.net/c/s.sh?sv=2022-11-02&sig={secret}' | bash"
        ),
    )
    plan = cli("plan", str(root))
    plan_json = cli("plan", "--json", str(root))
    applied = cli("apply", "--auto-approve", str(root))
    assert applied.exit_code == 0, applied.stderr
    state_text = (root / "aibplan.state.json").read_text()
    for text in (plan.stdout, plan.stderr, plan_json.stdout, applied.stdout, applied.stderr, state_text):
        assert secret not in text
    assert "sig=<secret:sha256:" in state_text and "sig=<secret:sha256:" in plan.stdout
    json.loads(plan_json.stdout)
    assert cli("plan", "--detailed-exitcode", str(root)).exit_code == 0
    assert cli("plan", "--detailed-exitcode", "--no-refresh", str(root)).exit_code == 0

    # A new token is a change, shown as one fingerprint becoming another.
    edit_json(
        root / "ubuntu2204.json",
        lambda d: d["properties"]["customize"][0]["inline"].__setitem__(
            -1, "curl -fsSL 'https://st.blob.core.windows.net/c/s.sh?sv=2022-11-02&sig=bmV3dG9rZW4%3D' | bash"
        ),
    )
    for flags in ((), ("--no-refresh",)):
        changed = cli("plan", "--detailed-exitcode", *flags, str(root))
        assert changed.exit_code == 2
        assert "bmV3dG9rZW4" not in changed.stdout and secret not in changed.stdout
        assert changed.stdout.count("<secret:sha256:") >= 2
