"""`--format markdown`: parsed as CommonMark with GitHub tables, its Mermaid charts syntax-checked, and the
plan and drift summaries pinned by golden files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from planner.execution.engine import open_provider, prepare, read_state
from planner.planning.drift import make_drift_report
from planner.planning.plan import make_plan
from planner.plans.plan import Plan
from planner.render.graph import to_mermaid
from planner.render.markdown import drift_to_markdown, plan_mermaid, plan_to_markdown
from tests.helpers import CASES, FIXTURES, Run, materialise

# A syntax check of Mermaid flowcharts, for the statements aibplan writes (graph, plan and drift charts).
# It follows Mermaid's flowchart grammar for: the `flowchart DIR` header; nodes `id["label"]`,
# `id(("label"))`, `id[/"label"/]`; links `a --> b` and `a -->|"label"| b`; `classDef name prop:value,...`;
# `class a,b name`.
# Beyond the grammar it checks what makes a chart render wrong without a syntax error: a link or class to a
# node never declared, a node declared twice, a class never defined, an id Mermaid reserves (`end`,
# `graph`, ...), a label that would close its quotes early.

_DIRECTIONS = ("LR", "RL", "TB", "TD", "BT")
_ID = r"[A-Za-z_][A-Za-z0-9_]*"
_NODE = re.compile(
    rf'^(?P<id>{_ID})(?:\["(?P<label>[^"]*)"\]|\(\("(?P<label2>[^"]*)"\)\)|\[/"(?P<label3>[^"]*)"/\])$'
)
_LINK = re.compile(rf'^(?P<a>{_ID}) -->(?:\|"(?P<label>[^"|]*)"\|)? (?P<b>{_ID})$')
_CLASSDEF = re.compile(
    rf"^classDef (?P<name>{_ID}) (?P<styles>[a-z-]+:[#A-Za-z0-9.%-]+(?:,[a-z-]+:[#A-Za-z0-9.%-]+)*)$"
)
_CLASS = re.compile(rf"^class (?P<ids>{_ID}(?:,{_ID})*) (?P<name>{_ID})$")
_RESERVED = {
    "end",
    "graph",
    "flowchart",
    "subgraph",
    "class",
    "classDef",
    "click",
    "style",
    "linkStyle",
    "direction",
}
_LABEL_MARKUP = re.compile(r"<(?!br/>)[^>]*>")


class MermaidSyntaxError(AssertionError):
    pass


def check_flowchart(text: str) -> dict[str, str]:
    """Check a flowchart; returns its nodes (id → label). Raises MermaidSyntaxError with the line."""
    lines = [line.strip() for line in text.strip("\n").split("\n")]
    header = lines[0].split()
    if len(header) != 2 or header[0] != "flowchart" or header[1] not in _DIRECTIONS:
        raise MermaidSyntaxError(f"line 1: expected `flowchart LR|TD|...`, got {lines[0]!r}")
    nodes: dict[str, str] = {}
    links: list[tuple[int, str, str]] = []
    classes: list[tuple[int, list[str], str]] = []
    defined: set[str] = set()
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        if m := _CLASSDEF.match(line):
            defined.add(m["name"])
        elif m := _CLASS.match(line):
            classes.append((number, m["ids"].split(","), m["name"]))
        elif m := _LINK.match(line):
            links.append((number, m["a"], m["b"]))
        elif m := _NODE.match(line):
            node = m["id"]
            label = m["label"] or m["label2"] or m["label3"] or ""
            if node in nodes:
                raise MermaidSyntaxError(f"line {number}: node {node} declared twice")
            if node in _RESERVED:
                raise MermaidSyntaxError(f"line {number}: {node!r} is a Mermaid keyword")
            if _LABEL_MARKUP.search(label):
                raise MermaidSyntaxError(f"line {number}: markup in label {label!r}")
            nodes[node] = label
        else:
            raise MermaidSyntaxError(f"line {number}: not a flowchart statement: {line!r}")
    for number, a, b in links:
        for end in (a, b):
            if end not in nodes:
                raise MermaidSyntaxError(f"line {number}: link to undeclared node {end}")
    for number, ids, name in classes:
        if name not in defined:
            raise MermaidSyntaxError(f"line {number}: class {name} has no classDef")
        for node in ids:
            if node not in nodes:
                raise MermaidSyntaxError(f"line {number}: class for undeclared node {node}")
    return nodes


GOLDEN = FIXTURES / "markdown"
PROVIDER = "local (simulated Azure; nothing is created in a real subscription)"


def parse(text: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(text)


def mermaid_blocks(tokens: list[Token]) -> list[str]:
    return [t.content for t in tokens if t.type == "fence" and t.info.strip() == "mermaid"]


def table_rows(tokens: list[Token]) -> list[list[str]]:
    """Each table row as its cells' inline text (header rows included)."""
    rows: list[list[str]] = []
    for index, token in enumerate(tokens):
        if token.type == "tr_open":
            rows.append([])
        elif token.type in ("th_open", "td_open"):
            rows[-1].append(tokens[index + 1].content)
    return rows


def case_plan(name: str, tmp_path: Path) -> tuple[Plan, Path]:
    case = json.loads((CASES / f"{name}.json").read_text())
    root = materialise(case, tmp_path)
    prepared, _ = prepare(root)
    assert prepared is not None
    state, _ = read_state(prepared.stack)
    provider = open_provider(prepared.stack)
    try:
        options: dict[str, Any] = case.get("options", {})
        plan = make_plan(
            prepared.stack,
            prepared.graph,
            state,
            provider,
            targets=tuple(options.get("targets", ())),
            replace_addresses=tuple(options.get("replace", ())),
        )
    finally:
        provider.close()
    return replace(plan, provider=PROVIDER), root


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("AIBPLAN_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {name}; run with AIBPLAN_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text()


@pytest.mark.parametrize(
    "name",
    [
        "gallery--location",
        "drift--tag-and-deleted-definition",
        "consequence--running-build",
        "unknowns--identity-location",
    ],
)
def test_the_plan_summary_renders(name: str, tmp_path: Path) -> None:
    plan, _ = case_plan(name, tmp_path)
    text = plan_to_markdown(plan)
    tokens = parse(text)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings[0] == "aibplan plan" and "Changes" in headings
    changes = [c for c in plan.changes if c.is_change]
    rows = table_rows(tokens)
    change_rows = [r for r in rows if r and r[1].strip("`") in {c.address for c in changes}]
    assert len(change_rows) == len(changes)
    assert all(len(r) == 3 for r in change_rows)
    (chart,) = mermaid_blocks(tokens)
    nodes = check_flowchart(chart)
    assert sorted(label.split("<br/>")[0] for label in nodes.values()) == sorted(c.address for c in changes)
    if plan.drift:
        assert "Objects have changed outside of aibplan" in headings
    golden(f"{name}.md", text)


def test_the_drift_summary_renders(tmp_path: Path) -> None:
    case = json.loads((CASES / "drift--tag-and-deleted-definition.json").read_text())
    root = materialise(case, tmp_path)
    prepared, _ = prepare(root)
    assert prepared is not None
    state, _ = read_state(prepared.stack)
    provider = open_provider(prepared.stack)
    try:
        report = make_drift_report(
            state,
            provider,
            subscription=prepared.stack.config.subscription_id,
            resource_group="rg-plan-fixtures",
        )
    finally:
        provider.close()
    text = drift_to_markdown(replace(report, provider=PROVIDER))
    tokens = parse(text)
    (chart,) = mermaid_blocks(tokens)
    assert set(check_flowchart(chart).values()) == {
        "imageDefinition.gal/ubuntu<br/>deleted",
        "imageTemplate.t<br/>changed",
    }
    assert "n_imageDefinition_gal_ubuntu --> n_imageTemplate_t" in chart
    rows = table_rows(tokens)
    assert ["Resource", "Drift", "What"] in rows
    assert any(r[1] == "deleted" for r in rows) and any(r[1] == "changed" for r in rows)
    golden("drift.md", text)


def test_no_changes_and_no_drift_have_no_chart(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = str(example("quickstart"))
    assert cli("apply", "--auto-approve", root).exit_code == 0
    plan = cli("plan", "--format", "markdown", root).stdout
    assert "**No changes.**" in plan and not mermaid_blocks(parse(plan))
    drift = cli("drift", "--format", "markdown", root)
    assert (
        drift.exit_code == 0 and "**No drift.**" in drift.stdout and not mermaid_blocks(parse(drift.stdout))
    )


def test_values_cannot_break_the_table_or_inject_html(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = str(example("quickstart"))
    assert cli("apply", "--auto-approve", root).exit_code == 0
    nasty = "a|b `c` <script>alert(1)</script> *d*"
    assert cli("sim", "set-tag", root, "gallery.corpImages", f"owner={nasty}").exit_code == 0
    for command in ("plan", "drift"):
        text = cli(command, "--format", "markdown", root).stdout
        tokens = parse(text)
        children = [c for t in tokens for c in (t.children or [])]
        html = [t.content for t in tokens + children if t.type in ("html_block", "html_inline")]
        assert all(h.startswith(("<details>", "</details>")) for h in html), html
        rows = [r for r in table_rows(tokens) if r and "gallery.corpImages" in r[0]]
        assert rows and all(len(r) == 3 for r in rows), rows
    # The drift table shows the value itself, as code (so as text): pipes, backticks and tags intact.
    assert any(c.type == "code_inline" and c.content == f'"{nasty}"' for c in children)


def test_the_dependency_graph_as_mermaid_passes_the_check(example: Callable[[str], Path]) -> None:
    for name in ("quickstart", "arm-deployment"):
        prepared, _ = prepare(example(name))
        assert prepared is not None
        check_flowchart(to_mermaid(prepared.graph))


@pytest.mark.parametrize(
    "chart",
    [
        'graph LR\n  a["x"]',
        'flowchart LR\n  a["x"]\n  a --> b',
        'flowchart LR\n  a["x"]\n  class a missing',
        'flowchart LR\n  end["x"]',
        'flowchart LR\n  a["say "hi""]',
        'flowchart LR\n  a["x"]\n  a["y"]',
    ],
)
def test_the_mermaid_check_rejects_broken_charts(chart: str) -> None:
    with pytest.raises(MermaidSyntaxError):
        check_flowchart(chart)


def test_plan_chart_links_follow_dependencies(tmp_path: Path) -> None:
    plan, _ = case_plan("gallery--location", tmp_path)
    chart = plan_mermaid(plan)
    check_flowchart(chart)
    assert "n_gallery_gal --> n_imageDefinition_gal_ubuntu" in chart
    assert "n_imageDefinition_gal_ubuntu --> n_imageTemplate_t" in chart
    assert "class n_imageTemplate_t aibReplace" in chart


@pytest.mark.skipif(
    not os.environ.get("AIBPLAN_MERMAID_MODULES") or shutil.which("node") is None,
    reason="set AIBPLAN_MERMAID_MODULES to a node_modules folder with mermaid@11 and jsdom to run",
)
def test_mermaids_own_parser_accepts_the_charts(example: Callable[[str], Path], tmp_path: Path) -> None:
    graphs = []
    for name in ("quickstart", "arm-deployment"):
        prepared, _ = prepare(example(name))
        assert prepared is not None
        graph_file = tmp_path / f"graph-{name}.md"
        graph_file.write_text(f"```mermaid\n{to_mermaid(prepared.graph)}```\n")
        graphs.append(str(graph_file))
    files = [*map(str, sorted(GOLDEN.glob("*.md"))), *graphs]
    run = subprocess.run(
        ["node", str(Path(__file__).parent.parent / "js" / "check-mermaid.mjs"), *files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("ok ") == len(files)
