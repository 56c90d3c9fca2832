"""The view of apply, destroy and a saved plan's apply: how it ended (the plan itself was shown when it
was ready, through the hooks, with `PlanText.plan`)."""

from __future__ import annotations

from ..operations.results import ApplyOutcome, ApplyStatus
from ..render.builds import render_results
from .base import Shown, TextRejection


class ApplyText(TextRejection):
    def __init__(self, color: bool = False) -> None:
        self.color = color

    def show(self, result: ApplyOutcome) -> Shown:
        if result.status is ApplyStatus.DECLINED:
            return Shown(err="Apply cancelled.\n")
        if result.status is ApplyStatus.NO_CHANGES:
            return Shown()
        if result.status is ApplyStatus.ALREADY_REFRESHED:
            return Shown(out="\nNo changes. The state already matches the cloud.\n")
        if result.status is ApplyStatus.REFRESHED:
            refreshed = result.refreshed
            assert refreshed is not None
            return Shown(
                out=f"\nRefresh complete! State updated: {len(refreshed.updated)} resource(s) refreshed, "
                f"{len(refreshed.removed)} removed. Nothing in the cloud was changed.\n"
            )
        return self._applied(result)

    def _applied(self, result: ApplyOutcome) -> Shown:
        applied = result.applied
        assert applied is not None
        shown = Shown()
        for line in result.builds_refused:
            shown += Shown(err=f"Error: {line}\n")
        if result.builds_not_started:
            shown += Shown(err=f"Builds not started: {result.builds_not_started}.\n")
        counts = (
            f"Resources: {applied.added} added, {applied.changed} changed, {applied.replaced} replaced, "
            f"{applied.destroyed} destroyed."
        )
        if applied.ok:
            if result.plan.destroy:
                return shown + Shown(out=f"\nDestroy complete! Resources: {applied.destroyed} destroyed.\n")
            shown += Shown(out=f"\nApply complete! {counts}\n")
            if result.builds is not None:
                shown += Shown(out=render_results(result.builds.outcomes, color=self.color))
            return shown
        err = ""
        if applied.failures:
            err += f"\n{len(applied.failures)} change(s) failed:\n"
        for failure in applied.failures:
            err += f"Error: {failure.address}: {failure.action} failed: {failure.code}: {failure.message}\n"
        if applied.skipped:
            err += f"\n{len(applied.skipped)} change(s) not made:\n"
        for address, reason in applied.skipped:
            err += f"  {address}: {reason}\n"
        if applied.interrupted:
            err += f"\nInterrupted. {counts} The state file holds what was done.\n"
        else:
            err += f"\nApply failed. {counts} The state file holds what was done.\n"
        return shown + Shown(err=err)
