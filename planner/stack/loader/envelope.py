"""One resource's values evaluated as the loader reads them: what fails is reported, what is not known here
is kept as unresolved, and values known only after apply are set aside (the body) or refused (anywhere
else, AIB0004)."""

from __future__ import annotations

from typing import Any

from ...diagnostics import JsonPath, Severity
from ..evaluate import evaluate
from ..expressions import Evaluator, Unknown
from .loading import Loading, expression_diagnostic
from .references import split_unknowns


class Envelope:
    """Evaluates one resource's values, reporting what fails and keeping what is unresolved."""

    def __init__(
        self, raw: dict[str, Any], shown: str, pointer: JsonPath, evaluator: Evaluator, loading: Loading
    ) -> None:
        self.raw, self.shown, self.pointer = raw, shown, pointer
        self.evaluator, self.loading = evaluator, loading
        self.unknown = loading.unknown.get(shown, frozenset())
        self.unresolved: list[JsonPath] = []
        self.last_missing: str | None = None
        # Values of the body known only after apply (reference()), by path.
        self.known_after_apply: list[tuple[JsonPath, Unknown]] = []

    def value(self, key: str) -> Any:
        value, paths = self.evaluate(self.raw.get(key), (key,), None)
        self.unresolved += paths
        return value

    def evaluate(
        self,
        value: Any,
        path: JsonPath,
        address: str | None,
        *,
        record: bool = True,
        unknown_allowed: bool = False,
    ) -> tuple[Any, list[JsonPath]]:
        """The value evaluated, and the paths left unresolved; a use of a missing value is recorded for
        AIB0010 unless the caller reports it itself (`record=False`, as for apiVersion). A value known only
        after apply is kept aside where `unknown_allowed` (the body), and an error anywhere else."""
        kind = type(value)
        if kind is not dict and kind is not list and (kind is not str or value[:1] != "["):
            return value, []  # a plain string, number, boolean or null: nothing to evaluate
        made = self.evaluator.unknown_values
        done = evaluate(
            self.evaluator,
            value,
            path,
            self.unknown,
            loops=path == ("properties",) and self.shown in self.loading.with_copy,
        )
        for exc in done.errors:
            expression_diagnostic(exc, self.shown, self.pointer, self.loading, address)
        for what, where in done.missing:
            self.last_missing = f"{what}: {self.loading.unknown_why.get((self.shown, what), 'not known')}"
            if record:
                self.loading.missing.setdefault((self.shown, what), []).append((self.pointer, where, address))
        if self.evaluator.unknown_values == made:  # no reference() value in this one
            return done.value, done.unresolved
        evaluated, found = split_unknowns(done.value, path)
        if found and unknown_allowed:
            self.known_after_apply += found
        elif found:
            self.loading.add(
                "AIB0004",
                Severity.ERROR,
                f"'{path[0]}' must be known before apply; a reference() value is known only after it",
                file=self.shown,
                path=found[0][0],
                pointer=self.pointer,
                address=address,
                hint="write the value literally, or take it from a parameter",
            )
        return evaluated, done.unresolved + [where for where, _ in found]
