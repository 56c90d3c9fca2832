"""The one error of the expression language, with where it happened and what was not known."""

from __future__ import annotations

JsonPath = tuple[str | int, ...]


class ExpressionError(Exception):
    """An expression that cannot be evaluated.

    ``function`` is set (to the name as written) only when the problem is an unknown or
    unsupported function; ``path`` is the location of the offending string, relative to
    the path given to :meth:`Evaluator.evaluate_value` (``()`` until it is filled in);
    ``expression`` is the source text of that string. When the failure happened inside a
    variable's definition, ``variable_path`` is ``("variables", name, ...)`` pointing into
    it and the message starts with ``in variable 'name':``. ``missing`` names the value that was not
    known (``parameter 'x'``, ``resourceGroup().location``...) when that is the whole problem, so a
    caller validating a file without its stack can report it instead of failing.
    """

    def __init__(
        self,
        message: str,
        *,
        function: str | None = None,
        path: JsonPath | None = None,
        expression: str | None = None,
        missing: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing
        self.function = function
        self.path: JsonPath = tuple(path) if path is not None else ()
        self.expression = expression
        self.variable_path: JsonPath | None = None
        self._located = path is not None

    def __str__(self) -> str:
        return self.message
