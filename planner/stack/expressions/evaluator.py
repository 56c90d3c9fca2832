"""The evaluator: expressions evaluated against the parameters, variables and scope of one template,
calling the function library (every `functions_*` module)."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NoReturn

from . import (
    functions_array,
    functions_conversion,
    functions_logic,
    functions_numeric,
    functions_scope,
    functions_string,
    loops,
)
from .errors import ExpressionError, JsonPath
from .functions import NOT_IMPLEMENTED, RUNTIME_ONLY, Function, arity_message
from .loops import Loops, copy_loop, object_loops, variable_loops
from .parser import Call, Index, Known, Literal, Member, Node, parse
from .unknown import (
    References,
    ReferenceTarget,
    Unknown,
    any_unknown,
    fill_not_yet,
    has_unknown,
    unknown_access,
    unknown_call,
)
from .values import copy_json, is_int, lookup, type_name

# The whole library by lower-case name (if() is handled by the evaluator itself).
_FUNCTIONS: dict[str, Function] = {
    **functions_scope.FUNCTIONS,
    **functions_logic.FUNCTIONS,
    **functions_conversion.FUNCTIONS,
    **functions_string.FUNCTIONS,
    **functions_array.FUNCTIONS,
    **functions_numeric.FUNCTIONS,
    **loops.FUNCTIONS,
}


@dataclass(frozen=True)
class Scope:
    """Where the template is deployed; None means not known (no guessing is done)."""

    subscription_id: str | None
    resource_group: str | None
    location: str | None
    tenant_id: str = "00000000-0000-0000-0000-000000000000"
    deployment_name: str = "aibplan"


_MISSING_SUBSCRIPTION = "subscription id is not known: validate inside a stack or set subscriptionId"
_MISSING_RESOURCE_GROUP = "resource group is not known: validate inside a stack or set resourceGroup"
_MISSING_LOCATION = "resource group location is not known: validate inside a stack or set location"


class Evaluator:
    """Evaluates ARM expressions against known parameters, variables and scope.

    Variables are evaluated lazily on first use and cached; ``if()`` only evaluates
    the branch it picks. ``newGuid()``/``utcNow()`` are rejected unless
    ``allow_nondeterministic`` is set (ARM only allows them in a parameter's
    ``defaultValue``); ``clock`` supplies "now" for ``utcNow()`` (tests). The function library reads
    ``scope``, ``parameters`` and ``clock`` and calls ``variable()``, ``scope_object()``,
    ``subscription_id()``, ``resource_group()``, ``require_nondeterministic()`` and ``reference()``.

    Secrets: ``secure`` names the parameters declared ``securestring``/``secureObject``. A value computed
    from one is marked as it is computed (a function's result is marked when an argument was, a property
    or index of a marked value is marked, a variable computed from one is marked wherever it is used; an
    ``if()`` condition and a boolean result carry no characters of it and are not). ``secret_values`` holds
    the secure parameters' texts and every text of a marked result, for the redactor.

    Values known only after apply: without ``references``, ``reference()`` gives an `Unknown` (see
    expressions.unknown for how it travels through expressions); with them, it asks them, and `resolve()`
    evaluates an unknown again.
    """

    def __init__(
        self,
        scope: Scope,
        parameters: Mapping[str, Any],
        variables: Mapping[str, Any],
        *,
        allow_nondeterministic: bool = False,
        clock: Callable[[], datetime] | None = None,
        secure: Collection[str] = (),
        references: References | None = None,
    ) -> None:
        self.scope = scope
        self.references = references
        # Whether an unknown was made: until then no argument needs to be searched for one.
        self._unknowns = False
        # How many strings evaluated to a value holding an unknown: a value evaluated while this stayed
        # the same holds none (the loader then does not search it).
        self.unknown_values = 0
        self.parameters = parameters
        # The names `parameters()` asked for (a resource file outside a template reads the stack's values).
        self.parameters_read: set[str] = set()
        self._secure = frozenset(name.lower() for name in secure)
        self.secret_values: set[str] = set()
        for name, value in parameters.items():
            if name.lower() in self._secure:
                self.secret_values.update(string_leaves(value))
        # Whether what is being evaluated now read a secure value (see the class docstring).
        self._marked = False
        self._variable_marked: dict[str, bool] = {}
        self._raw_variables = variables
        self._variable_names = {name.lower(): name for name in variables if name.lower() != "copy"}
        # Variables a top-level `"copy": [...]` makes (each an array), by lower-case name.
        self._variable_loops = variable_loops(variables)
        self._variable_names.update(
            {lowered: entry["name"] for lowered, (_, entry) in self._variable_loops.items()}
        )
        # The copy loops enclosing what is evaluated now (copyIndex()).
        self.loops = Loops()
        self._variable_cache: dict[str, Any] = {}
        # Expressions evaluated already, by text, while the loops around them are as in `_kept_loops`
        # (see evaluate_string); not with references (their answers change) or nondeterminism allowed.
        self._kept: dict[str, Any] | None = {} if references is None and not allow_nondeterministic else None
        self._kept_loops: object = None
        self._in_progress: list[str] = []
        self._allow_nondeterministic = allow_nondeterministic
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(timezone.utc))

    # -- public API

    @property
    def made_unknowns(self) -> bool:
        """Whether a value known only after apply was made (so results may hold one)."""
        return self._unknowns

    def evaluate_value(self, value: Any, path: JsonPath = ()) -> Any:
        """Return a new structure with every expression string inside value evaluated.

        Errors carry ``path``: the given path plus the location of the offending string.
        """
        if isinstance(value, str):
            try:
                return self.evaluate_string(value)
            except ExpressionError as exc:
                if not exc._located:
                    exc.path = tuple(path)
                    exc._located = True
                raise
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if self._in_progress and key.lower() == "copy" and isinstance(item, list):
                    out.update(object_loops(self, item, (*path, key)))  # a copy inside a variable's object
                    continue
                new_key = key
                if key.startswith("[") and key.endswith("]"):
                    # ARM evaluates expressions in property names too (userAssignedIdentities keys).
                    new_key = self.evaluate_value(key, (*path, key))
                    if not isinstance(new_key, str):
                        raise ExpressionError(property_name_problem(new_key), path=(*path, key))
                out[new_key] = self.evaluate_value(item, (*path, key))
            return out
        if isinstance(value, list):
            return [self.evaluate_value(item, (*path, i)) for i, item in enumerate(value)]
        return value

    def evaluate_string(self, text: str) -> Any:
        """Evaluate one JSON string: an expression, an escaped ``[[`` literal or plain text."""
        if not text or text[0] != "[" or text[-1] != "]":
            return text
        if text.startswith("[["):
            return text[1:]
        kept = self._kept
        if kept is not None:
            loops = self.loops.state()
            if loops != self._kept_loops:
                kept.clear()
                self._kept_loops = loops
            if text in kept:
                return copy_json(kept[text])
        outer = self._marked
        self._marked = False
        try:
            value = copy_json(self._eval(parse(text)))
        except ExpressionError as exc:
            if exc.expression is None:
                exc.expression = text
            raise
        except RecursionError:
            raise ExpressionError("expression is nested too deeply", expression=text) from None
        finally:
            marked = self._marked
            self._marked = outer or marked
        if marked:
            self.secret_values.update(string_leaves(value))
        if self._unknowns and has_unknown(value):
            self.unknown_values += 1
        elif kept is not None and not marked:
            # The same text gives the same value while the loops around it are the same (the parameters,
            # variables and scope do not change): a template repeats a name or an id in several places.
            # A value computed from a secret is not kept (it must mark what uses it), nor an unknown.
            kept[text] = value
            return copy_json(value)
        return value

    # -- evaluation

    def resolve(self, unknown: Unknown) -> Any:
        """The unknown's value evaluated again, `reference()` answered by this evaluator's references
        (still unknown, wholly or in part, where they answer NOT_YET)."""
        return copy_json(self._eval(unknown.residual))

    def _eval(self, node: Node) -> Any:
        kind = type(node)  # the node classes have no subclasses
        if kind is Call:
            return self._call(node)  # type: ignore[arg-type]
        if kind is Literal or kind is Known:
            return node.value  # type: ignore[union-attr]
        if isinstance(node, Member):
            return self._access(node.target, node.name, f"property '{node.name}'")
        assert isinstance(node, Index)
        key = self._eval(node.index)
        return self._access(node.target, key, f"index [{json.dumps(key, default=str)}]")

    def _access(self, target_node: Node, key: Any, what: str) -> Any:
        # resourceGroup().location etc.: only the requested property must be known.
        if (
            isinstance(target_node, Call)
            and not target_node.args
            and target_node.name.lower() in ("resourcegroup", "subscription")
            and isinstance(key, str)
        ):
            target = self.scope_object(target_node.name.lower(), key)
        else:
            target = self._eval(target_node)
        if self._unknowns and (isinstance(target, Unknown) or isinstance(key, Unknown)):
            return unknown_access(target, key)
        if isinstance(target, dict):
            if not isinstance(key, str):
                raise ExpressionError(f"cannot index an object with {type_name(key)} {key!r}")
            found, value = lookup(target, key)
            if not found:
                available = ", ".join(target) or "none"
                raise ExpressionError(f"property '{key}' does not exist (available: {available})")
            return value
        if isinstance(target, list):
            if not is_int(key):
                raise ExpressionError(f"cannot access {what} of an array: use an integer index")
            if not 0 <= key < len(target):
                raise ExpressionError(f"index {key} is out of range for an array of length {len(target)}")
            return target[key]
        if isinstance(target, str) and is_int(key):
            if not 0 <= key < len(target):
                raise ExpressionError(f"index {key} is out of range for a string of length {len(target)}")
            return target[key]
        raise ExpressionError(f"cannot access {what} of {type_name(target)}")

    def _call(self, node: Call) -> Any:
        lowered = node.name.lower()
        spec = _FUNCTIONS.get(lowered)
        if spec is None and lowered != "if":
            self._unknown_function(node.name)
        count = len(node.args)
        if lowered == "if":
            if count != 3:
                raise ExpressionError(f"{node.name}() expects 3 arguments, got {count}")
            before = self._marked
            condition = self._eval(node.args[0])
            self._marked = before  # the condition picks a branch; it is not part of the value
            if isinstance(condition, Unknown):
                # Which branch is taken is known only after apply: both are evaluated now.
                return unknown_call(node.name, [condition, *(self._eval(arg) for arg in node.args[1:])])
            if not isinstance(condition, bool):
                raise ExpressionError(
                    f"{node.name}() expects a boolean condition, got {type_name(condition)}"
                )
            return self._eval(node.args[1] if condition else node.args[2])
        assert spec is not None
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            raise ExpressionError(arity_message(node.name, spec, count))
        before = self._marked
        args = [arg.value if type(arg) is Literal else self._eval(arg) for arg in node.args]
        if self._unknowns and any_unknown(args):
            result = self._call_with_unknown(node.name, lowered, args)
        else:
            result = spec.impl(self, node.name, args)
        if isinstance(result, bool):
            self._marked = before  # a yes or no carries none of a secret's characters
        return result

    def _call_with_unknown(self, name: str, lowered: str, args: list[Any]) -> Any:
        """A function called with an unknown argument: unknown too, unless the known arguments decide."""
        if lowered == "and" and any(arg is False for arg in args):
            return False
        if lowered == "or" and any(arg is True for arg in args):
            return True
        if lowered == "reference":
            raise ExpressionError(
                f"{name}() needs a resource id or name known before apply, not a value of another reference()"
            )
        return unknown_call(name, args)

    def reference(self, target: ReferenceTarget, name: str, args: list[Any]) -> Any:
        """What `reference()` gives: an unknown until references can answer, then their answer (with
        unknowns where they answer NOT_YET)."""
        call = Call(name, tuple(Known(arg) for arg in args), 0)
        self._unknowns = True
        if self.references is None:
            return Unknown(call, frozenset((target,)))
        return fill_not_yet(self.references.value_of(target), call, target)

    @staticmethod
    def _unknown_function(name: str) -> NoReturn:
        lowered = name.lower()
        if lowered in RUNTIME_ONLY or lowered.startswith("list"):
            raise ExpressionError(
                f"unsupported function '{name}': it cannot be evaluated before deployment",
                function=name,
            )
        if lowered in NOT_IMPLEMENTED:
            raise ExpressionError(f"unsupported function '{name}': not implemented by aibplan", function=name)
        raise ExpressionError(f"unknown function '{name}'", function=name)

    def parameter(self, name: str) -> Any:
        """The value of parameter `name` (any case); marks what is being evaluated when it is secure."""
        self.parameters_read.add(name)
        found, value = lookup(self.parameters, name)
        if not found:
            raise ExpressionError(f"parameter '{name}' is not defined", missing=f"parameter '{name}'")
        if name.lower() in self._secure:
            self._marked = True
        return value

    def variable(self, name: str) -> Any:
        lowered = name.lower()
        if lowered in self._variable_cache:
            self._marked = self._marked or self._variable_marked[lowered]
            return self._variable_cache[lowered]
        actual = self._variable_names.get(lowered)
        if actual is None:
            raise ExpressionError(f"variable '{name}' is not defined")
        if lowered in self._in_progress:
            start = self._in_progress.index(lowered)
            chain = [self._variable_names[v] for v in self._in_progress[start:]] + [actual]
            raise ExpressionError("variable cycle: " + " -> ".join(chain))
        self._in_progress.append(lowered)
        outer = self._marked
        self._marked = False
        try:
            with self.loops.none():
                if lowered in self._variable_loops:
                    position, entry = self._variable_loops[lowered]
                    value = self.copy_loop(entry, ("variables", "copy", position))
                else:
                    value = self.evaluate_value(self._raw_variables[actual], ("variables", actual))
        except ExpressionError as exc:
            if exc.variable_path is None:
                # Keep where inside the variable it failed; the caller's string gets the path.
                exc.variable_path = exc.path
                exc.message = f"in variable '{actual}': {exc.message}"
            exc.path, exc.expression, exc._located = (), None, False
            raise
        finally:
            self._in_progress.pop()
            marked = self._marked
            self._marked = outer or marked
        self._variable_cache[lowered] = value
        self._variable_marked[lowered] = marked
        return value

    def copy_loop(self, entry: dict[str, Any], path: JsonPath) -> list[Any]:
        """The array a property or variable copy loop makes (expressions.loops)."""
        return copy_loop(self, entry, path)

    def require_nondeterministic(self, name: str) -> None:
        if not self._allow_nondeterministic:
            raise ExpressionError(f"{name}() is only allowed in a parameter's defaultValue")

    # -- scope

    def subscription_id(self) -> str:
        if self.scope.subscription_id is None:
            raise ExpressionError(_MISSING_SUBSCRIPTION, missing="the subscription id")
        return self.scope.subscription_id

    def resource_group(self) -> str:
        if self.scope.resource_group is None:
            raise ExpressionError(_MISSING_RESOURCE_GROUP, missing="the resource group")
        return self.scope.resource_group

    def _location(self) -> str:
        if self.scope.location is None:
            raise ExpressionError(_MISSING_LOCATION, missing="the resource group's location")
        return self.scope.location

    def scope_object(self, kind: str, wanted: str | None) -> dict[str, Any]:
        """resourceGroup()/subscription(); with wanted, only that property must be known."""
        builders: dict[str, Callable[[], Any]]
        if kind == "resourcegroup":
            builders = {
                "id": lambda: (
                    f"/subscriptions/{self.subscription_id()}/resourceGroups/{self.resource_group()}"
                ),
                "name": self.resource_group,
                "type": lambda: "Microsoft.Resources/resourceGroups",
                "location": self._location,
                "properties": lambda: {"provisioningState": "Succeeded"},
            }
        else:
            builders = {
                "id": lambda: f"/subscriptions/{self.subscription_id()}",
                "subscriptionId": self.subscription_id,
                "tenantId": lambda: self.scope.tenant_id,
            }
        if wanted is None:
            return {key: build() for key, build in builders.items()}
        found, build = lookup(builders, wanted)
        if kind == "subscription" and wanted.lower() == "displayname":
            raise ExpressionError("subscription().displayName is not known before deployment", function=None)
        if not found:
            return {key: None for key in builders}  # lets _access report the missing name
        return {wanted: build()}


def string_leaves(value: Any, *, keys: bool = False) -> Iterator[str]:
    """Every non-empty text inside a JSON value, however deep; object keys too with `keys` (the keys of a
    secure object are its shape, not its secret)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item:
                yield item
        elif isinstance(item, dict):
            if keys:
                stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def property_name_problem(value: Any) -> str:
    """Why `value` cannot be a property name."""
    if isinstance(value, Unknown):
        return "a property name must be known before apply; a reference() value is known only after it"
    return f"a property name must evaluate to a string, not {type(value).__name__}"
