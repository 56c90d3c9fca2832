"""Every secret form of the corpus (tests/fixtures/secrets/corpus.json) x every output aibplan makes: zero
leaks. The commands run in their own processes, as a user runs them (validate in three formats, plan in
three formats and with -v, a saved plan applied with a build, state list/show, output, drift, a second
apply that leaves a backup, an apply killed with SIGKILL mid-way and the commands that reconcile its
journal, an update killed the same way and a `state rm` that reconciles it without the stack's
parameters, destroy); every byte each wrote to stdout, stderr and to its files is read for every secret.

On the main branch before the one secret table and the marking of secure parameters, 20 of these 34 forms
leaked into the plan, the saved plan, the state, its backup, the journal and `state show`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import ROOT
from tests.helpers.secrets import Outputs, collect_outputs, leak_table, load_corpus, scan

CORPUS = load_corpus()


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    return collect_outputs(ROOT, tmp_path_factory.mktemp("secrets"), CORPUS)


STATES = ("state backup (update)", "state file (update)")


def test_the_commands_did_what_a_user_asked(outputs: Outputs) -> None:
    """The scan means something only if every command ran: applies applied, the kill landed mid-apply."""
    codes = outputs.exit_codes
    for name in ("validate text", "plan json", "apply output", "apply output (update)", "destroy output"):
        assert codes[name] == 0, outputs.bytes_by_output[name].decode(errors="replace")[-3000:]
    assert codes["killed apply (killed before it ended: 1)"] == 1
    assert codes["apply after kill (reconciles)"] == 0
    assert codes["killed update (killed before it ended: 1)"] == 1
    assert codes["state rm after kill"] == 0
    assert b"gallery.corpImages: read back" in outputs.bytes_by_output["state rm after kill"]
    by = outputs.bytes_by_output
    assert b"Apply complete! Resources: 6 added" in by["apply output"]
    assert b"Succeeded" in by["output"]
    assert b"No changes." in by["plan after apply"]
    assert b"No drift." in by["drift"]
    state = json.loads(by["state file"])
    addresses = {r["address"] for r in state["resources"] if not r.get("removed")}
    assert {a for a in addresses if not a.startswith("roleAssignment.")} == {
        "identity.aibBuilder",
        "gallery.corpImages",
        "imageDefinition.corpImages/ubuntu2204",
        "imageTemplate.ubuntu2204",
    }
    assert len(addresses) == 6, "and the identity's two role assignments"
    assert by["journal"].count(b'"begin"') >= 3
    newest = [max(r["serial"] for r in json.loads(by[name])["resources"]) for name in STATES]
    assert newest[0] < newest[1], "the backup is the state before the update"
    assert json.loads(by["saved plan (file)"])["kind"] == "aibplan-saved-plan"


@pytest.mark.parametrize("form", CORPUS["forms"], ids=[f["id"] for f in CORPUS["forms"]])
def test_no_output_holds_the_secret(outputs: Outputs, form: dict[str, Any]) -> None:
    leaks = scan(outputs, {"forms": [form]})
    assert not leaks, leak_table(leaks, outputs, {"forms": [form]})


def test_secrets_are_shown_as_fingerprints(outputs: Outputs) -> None:
    """What replaces a secret is its fingerprint, so the plan and the state still say where one was."""
    state = outputs.bytes_by_output["state file"]
    plan = outputs.bytes_by_output["plan text"]
    inline_forms = sum(1 for f in CORPUS["forms"] if f["place"] == "inline")
    assert state.count(b"<secret:sha256:") >= inline_forms
    assert plan.count(b"<secret:sha256:") >= inline_forms


def test_the_corpus_covers_every_form_of_the_table() -> None:
    from state.secrets import FORMS, find_secrets

    found = {hit.form.name for form in CORPUS["forms"] for hit in find_secrets(form["text"])}
    assert found == {form.name for form in FORMS}
