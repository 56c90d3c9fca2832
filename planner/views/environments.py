"""The view of `aibplan env list`: a table, or one JSON document."""

from __future__ import annotations

from ..operations.environments import Environments
from .base import JsonRejection, Shown, TextRejection, View, document


class EnvironmentsText(TextRejection):
    def show(self, result: Environments) -> Shown:
        if not result.environments:
            return Shown(
                out="This stack has no environments: its settings are aibplan.json's own. Add an "
                "`environments` section, or a NAME.parameters.json, to make some.\n"
            )
        rows = [("", "ENVIRONMENT", "RESOURCE GROUP", "SUBSCRIPTION", "STATE", "PARAMETERS")]
        for e in result.environments:
            rows.append(
                (
                    "*" if e.selected else "",
                    e.name,
                    e.resource_group,
                    e.subscription_id,
                    e.state,
                    e.parameter_file or "-",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
        ]
        if any(e.selected for e in result.environments):
            lines.append("")
            lines.append("* acted on without --env (defaultEnvironment, or --env / AIBPLAN_ENV)")
        return Shown(out="\n".join(lines) + "\n")


class EnvironmentsJson(JsonRejection):
    def show(self, result: Environments) -> Shown:
        return Shown(
            out=document(
                {
                    "format_version": "1",
                    "environments": [
                        {
                            "name": e.name,
                            "subscription_id": e.subscription_id,
                            "resource_group": e.resource_group,
                            "location": e.location,
                            "provider": e.provider,
                            "state": e.state,
                            "parameter_file": e.parameter_file,
                            "selected": e.selected,
                        }
                        for e in result.environments
                    ],
                }
            )
        )


def environments_view(fmt: str) -> View[Environments]:
    return EnvironmentsJson() if fmt == "json" else EnvironmentsText()
