"""The view of `aibplan generate`: what was written, and the two commands that make it a managed stack."""

from __future__ import annotations

from ..operations.results import Generated
from .base import Shown, TextRejection


class GeneratedText(TextRejection):
    def show(self, result: Generated) -> Shown:
        out = result.out
        lines = [f"Read {result.group}."]
        lines += [f"Wrote {out / name}" for name in result.files]
        if result.config_written:
            lines.append(f"Wrote {out / 'aibplan.json'}")
        if result.declared:
            lines.append(f"Already declared in {out} (not written again): {', '.join(result.declared)}")
        lines += [
            "",
            f"{len(result.files)} resource file(s) written. To manage them: `aibplan import --all {out}`, "
            f"then `aibplan plan {out}` (it should say No changes).",
        ]
        return Shown(out="".join(line + "\n" for line in lines))
