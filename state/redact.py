"""Keep secrets out of the state, saved plans and output: values that are secrets become fingerprints.

A fingerprint is `<secret:sha256:XXXXXXXXXXXX>`: the first 12 hex digits of an HMAC-SHA256 of the value.
The same secret always gives the same fingerprint and another secret gives another, so a plan still shows
that a password or SAS token changed without showing either value.

What is a secret:
- what `state.secrets` (the one table the validator reads too) finds: the whole value of a key named like
  a secret, and the secret part of a text written in one of its forms;
- a value this process learned is secret (`remember_secrets`): the stack loader hands over the values of
  `securestring`/`secureObject` parameters and every text computed from them (the expression evaluator
  marks them), so they are caught wherever they appear, in any body, message or line of output.
  Values of 4 characters or more are replaced wherever they appear inside a text; shorter ones where they
  stand alone (not inside a longer word).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import operator
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .jsontext import unicode_text
from .observed import same_json
from .secrets import FINGERPRINT_RE, find_secrets, is_secret_key, might_hold_secret

__all__ = [
    "FINGERPRINT_RE",
    "fingerprint",
    "forget_secrets",
    "is_secret_key",
    "known_secrets",
    "redact",
    "redact_beside",
    "redact_known",
    "redact_output",
    "redact_text",
    "remember_secrets",
]

_FINGERPRINT_KEY = b"aibplan secret fingerprint v1"
# Known values shorter than this are replaced only where they are not part of a longer word.
_SHORT = 4


class _Known:
    """The secret values this process knows, and one pattern that finds any of them (longest first, so a
    text computed from a secret is replaced whole before the secret inside it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: frozenset[str] = frozenset()
        self.pattern: re.Pattern[str] | None = None
        # Every value reads the same inside JSON text (nothing JSON escapes), so a body's JSON text can be
        # searched instead of walking it.
        self.json_safe = True

    def add(self, values: Iterable[str]) -> bool:
        new = {v for v in values if isinstance(v, str) and v and not FINGERPRINT_RE.fullmatch(v)}
        with self.lock:
            if new <= self.values:
                return False
            self.values = self.values | new
            self.pattern = _known_pattern(self.values)
            self.json_safe = all(json.dumps(v, ensure_ascii=False)[1:-1] == v for v in self.values)
            return True

    def clear(self) -> None:
        with self.lock:
            self.values, self.pattern, self.json_safe = frozenset(), None, True


def _known_pattern(values: frozenset[str]) -> re.Pattern[str]:
    parts = [FINGERPRINT_RE.pattern]  # a fingerprint is never taken apart
    for value in sorted(values, key=lambda v: (-len(v), v)):
        escaped = re.escape(value)
        parts.append(escaped if len(value) >= _SHORT else rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])")
    return re.compile("|".join(parts))


_KNOWN = _Known()


def remember_secrets(values: Iterable[str]) -> None:
    """From now on, `values` are secrets wherever they appear (the loader calls this for secure parameters
    and what is computed from them)."""
    if _KNOWN.add(values):
        redact_text.cache_clear()


def forget_secrets() -> None:
    """Forget the values `remember_secrets` was given (a new command in the same process)."""
    _KNOWN.clear()
    redact_text.cache_clear()


def known_secrets() -> frozenset[str]:
    return _KNOWN.values


def fingerprint(value: str) -> str:
    digest = hmac.new(_FINGERPRINT_KEY, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"<secret:sha256:{digest[:12]}>"


def _fingerprint_match(match: re.Match[str]) -> str:
    found = match.group(0)
    return found if found.startswith("<secret:") and FINGERPRINT_RE.fullmatch(found) else fingerprint(found)


def redact_known(text: str) -> str:
    """`text` with every value `remember_secrets` was given replaced by its fingerprint; cheap when none
    are known (what every line the command line prints goes through)."""
    pattern = _KNOWN.pattern
    if pattern is None or not text:
        return text
    result = pattern.sub(_fingerprint_match, text)
    return text if result == text else result


# Output longer than this (a whole plan as JSON) is made of values redacted where they were read; only the
# known values are looked for again in it, which stays cheap however long it is.
_SHORT_OUTPUT = 65536


def redact_output(text: str) -> str:
    """What the command line prints: every known secret value replaced, and in lines and messages (short
    text) every secret the table finds too: a service's error message may quote one."""
    return redact_text(text) if len(text) <= _SHORT_OUTPUT else redact_known(text)


@functools.lru_cache(maxsize=65536)
def redact_text(text: str) -> str:
    """`text` with every secret replaced by its fingerprint (the same object when there is none)."""
    result = redact_known(text)
    if len(result) < 8 or not might_hold_secret(result):
        return text if result == text else result
    merged: list[list[int]] = []
    for start, end in sorted({(found.start, found.end) for found in find_secrets(result)}):
        if merged and start < merged[-1][1]:  # two forms found overlapping parts: one value
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    if merged:
        pieces, last = [], 0
        for start, end in merged:
            pieces.append(result[last:start])
            pieces.append(fingerprint(result[start:end]))
            last = end
        pieces.append(result[last:])
        result = "".join(pieces)
    return text if result == text else result


def redact(value: Any, key: str | None = None, *, like: Iterable[Any] = ()) -> Any:
    """A copy of `value` with secrets fingerprinted; unchanged parts are shared, not copied (and `value`
    itself comes back when it holds nothing that is a secret). Text that is not Unicode (a lone surrogate:
    a body read from the cloud with a stray byte) is shown with U+FFFD in its place, so it can be stored.

    `like`: earlier redacted versions of the same body (what the state holds): a text where one of them
    holds a fingerprint is a secret too, even when this process does not know the value (a command that
    reads a body back from the cloud without loading the stack's parameters).
    """
    templates = [t for t in like if t]
    if templates:
        value = _secret_where(value, templates, 0)
    if isinstance(value, (Mapping, list)) and key is None:
        # One pass over the serialised value (C speed) spares the walk for most bodies.
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):
            text = None
        known = _KNOWN.pattern
        if (
            text is not None
            and not might_hold_secret(text)
            and unicode_text(text) is text
            and (known is None or (_KNOWN.json_safe and not known.search(text)))
        ):
            return value
    return _redact(value, key)


def redact_beside(value: Any, base: Any, base_redacted: Any) -> Any:
    """`redact(value)` where `base_redacted` is `redact(base)` already and `value` mostly equals `base` (the
    cloud's body beside the stack's, which the service fills in and rewrites in a few places): the parts
    equal to `base` take their redaction from `base_redacted`, only the others are redacted (a
    5,600-resource no-op plan redacted every cloud body whole: 0.2 s)."""
    if value == base:
        return base_redacted
    if isinstance(value, (Mapping, list)):
        return _beside(value, base, base_redacted, None)
    return redact(value)


def redact_answer(answer: Mapping[str, Any], sent: Mapping[str, Any], sent_redacted: Any) -> Any:
    """`redact(answer)` for the body the service answered to the body `sent`, whose redaction is
    `sent_redacted`: the parts it holds exactly as sent (the same JSON: `1`, `1.0` and `true` told apart)
    are `sent_redacted`'s own, shared rather than copied; only what the service added or rewrote is
    redacted. What an apply keeps of each answer, without writing out and screening all of it again (and
    comparing it with the applied body, for the state's observed changes, is then mostly `is`)."""
    return _beside(answer, sent, sent_redacted, None, same_json)


def _beside(
    value: Any, base: Any, base_redacted: Any, key: str | None, same: Callable[[Any, Any], bool] = operator.eq
) -> Any:
    """`_redact(value, key)`, taking the parts equal to `base` (as `same` tells) from `base_redacted`
    (objects walked key by key, lists of the same length item by item, as `_redact` walks them)."""
    if same(value, base):
        return base_redacted
    if isinstance(value, Mapping) and isinstance(base, Mapping) and isinstance(base_redacted, Mapping):
        return {
            k: _beside(v, base[k], base_redacted[k], str(k), same)
            if k in base and k in base_redacted
            else _redact(v, str(k))
            for k, v in value.items()
        }
    if (
        isinstance(value, list)
        and isinstance(base, list)
        and isinstance(base_redacted, list)
        and len(value) == len(base) == len(base_redacted)
    ):
        return [_beside(v, b, r, key, same) for v, b, r in zip(value, base, base_redacted, strict=True)]
    return _redact(value, key)


_LIKE_DEPTH = 100


def _secret_where(value: Any, templates: list[Any], depth: int) -> Any:
    """`value` with every text fingerprinted where a template holds a fingerprint at the same place."""
    if isinstance(value, str):
        if not FINGERPRINT_RE.fullmatch(value) and any(
            isinstance(t, str) and FINGERPRINT_RE.fullmatch(t) for t in templates
        ):
            return fingerprint(value)
        return value
    if depth > _LIKE_DEPTH:
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] | None = None
        for k, v in value.items():
            under = [t[k] for t in templates if isinstance(t, Mapping) and k in t]
            new = _secret_where(v, under, depth + 1) if under else v
            if new is not v and out is None:
                out = dict(value)
            if out is not None:
                out[k] = new
        return out if out is not None else value
    if isinstance(value, list):
        items = [
            _secret_where(v, under, depth + 1)
            if (under := [t[i] for t in templates if isinstance(t, list) and i < len(t)])
            else v
            for i, v in enumerate(value)
        ]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value


def _redact(value: Any, key: str | None) -> Any:
    if isinstance(value, str):
        value = unicode_text(value)
        if key is not None and is_secret_key(key) and value and not FINGERPRINT_RE.fullmatch(value):
            return fingerprint(value)
        return redact_text(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] | None = None
        for k, v in value.items():
            new = _redact(v, str(k))
            if new is not v and out is None:
                out = dict(value)
            if out is not None:
                out[k] = new
        return out if out is not None else value
    if isinstance(value, list):
        items = [_redact(v, key) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value
