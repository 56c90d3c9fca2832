"""Keep secrets out of the state, saved plans and output: values that look like secrets become fingerprints.

A fingerprint is `<secret:sha256:XXXXXXXXXXXX>`: the first 12 hex digits of an HMAC-SHA256 of the value.
The same secret always gives the same fingerprint and another secret gives another, so a plan still shows
that a password or SAS token changed without showing either value.

What looks like a secret:
- the whole value of a key whose name says so (`password`, `adminPassword`, `clientSecret`, `sasToken`,
  `accountKey`, `connectionString`, `privateKey`, ...);
- inside any string (inline commands, URIs): the signature of a SAS URL (`sig=`) and other secret query
  parameters, `Bearer`/`Basic` credentials, `AccountKey=`/`SharedAccessKey=`/`Password=` in connection
  strings, the value after `--password`/`--client-secret`/`--sas-token`/`--account-key`/`--token`
  style options and `*_PASSWORD=`/`*_SECRET=`/`*_TOKEN=`/`*_KEY=` assignments, JSON web tokens, and
  PEM private key blocks.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

_FINGERPRINT_KEY = b"aibplan secret fingerprint v1"
FINGERPRINT_RE = re.compile(r"<secret:sha256:[0-9a-f]{12}>")

_SECRET_KEY_RE = re.compile(
    r"(^|_|-)(password|passwd|pwd|secret|clientsecret|sastoken|sasurl|accountkey|accesskey|apikey|"
    r"connectionstring|privatekey|token|accesstoken|credential|credentials)$",
    re.IGNORECASE,
)
_SECRET_KEY_ALSO = re.compile(
    r"(password|secret|sastoken|accountkey|accesskey|apikey|connectionstring|privatekey|accesstoken)$",
    re.IGNORECASE,
)
# Patterns over any string; group "v" is the secret part that is replaced.
_PATTERNS = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?P<v>.*?)-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(
        r"[?&](?:sig|signature|code|token|access_token|api[-_]?key|password|secret|client_secret)"
        r"=(?P<v>[^&#\s'\"]+)",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:Bearer|Basic)\s+(?P<v>[A-Za-z0-9\-._~+/]{8,}=*)", re.IGNORECASE),
    re.compile(
        r"\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd|ClientSecret)"
        r"=(?P<v>[^;\s'\"]+)",
        re.IGNORECASE,
    ),
    re.compile(
        r"(?:^|\s)--?(?:password|passwd|client-secret|secret|sas-token|sas|account-key|token|api-key|"
        r"access-key|pat)(?:=|\s+)(?P<q>['\"]?)(?P<v>[^\s'\"]+)(?P=q)",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b[A-Za-z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|APIKEY|API_KEY|ACCOUNT_KEY|ACCESS_KEY|SAS)"
        r"\s*=\s*(?P<q>['\"]?)(?P<v>[^\s'\";]+)(?P=q)",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?P<v>eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"),
)
# Words one of which every secret above comes with: text holding none of them is left alone unread.
# (Substring tests on the lower-cased text run at C speed; one regex alternation was far slower.)
_TRIGGER_WORDS = (
    "sig=",
    "signature",  # signature=, SharedAccessSignature=
    "code=",
    "token",
    "bearer",
    "basic",
    "key",  # AccountKey=, --account-key, api_key, PRIVATE KEY, *_KEY=
    "passw",
    "pwd",
    "secret",
    "sas",
    "eyj",
    "--pat",
    "connectionstring",
    "credential",
)


def _might_hold_secret(text: str) -> bool:
    low = text.lower()
    return any(word in low for word in _TRIGGER_WORDS)


def fingerprint(value: str) -> str:
    digest = hmac.new(_FINGERPRINT_KEY, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"<secret:sha256:{digest[:12]}>"


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    folded = key.replace("-", "").replace("_", "")
    return bool(_SECRET_KEY_RE.search(key) or _SECRET_KEY_ALSO.search(folded))


@functools.lru_cache(maxsize=65536)
def redact_text(text: str) -> str:
    """`text` with every secret-looking part replaced by its fingerprint (the same object when none)."""
    if len(text) < 8 or not _might_hold_secret(text):
        return text
    result = text
    for pattern in _PATTERNS:
        if pattern.search(result) is not None:
            result = pattern.sub(_replace_group, result)
    return text if result == text else result


def _replace_group(match: re.Match[str]) -> str:
    value = match.group("v")
    if FINGERPRINT_RE.fullmatch(value) or value.startswith("<secret:") or _is_reference(value):
        return match.group(0)
    start, end = match.span("v")
    whole_start = match.start(0)
    text = match.group(0)
    return text[: start - whole_start] + fingerprint(value) + text[end - whole_start :]


def _is_reference(value: str) -> bool:
    """A shell variable or a template placeholder names a secret; it is not one."""
    return value.startswith(("$", "%", "[")) or value in ("***", "<redacted>")


def redact(value: Any, key: str | None = None) -> Any:
    """A copy of `value` with secrets fingerprinted; unchanged parts are shared, not copied (and `value`
    itself comes back when it holds nothing that looks like a secret)."""
    if isinstance(value, (Mapping, list)) and key is None:
        # One pass of the trigger over the serialised value (C speed) spares the walk for most bodies.
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = None
        if text is not None and not _might_hold_secret(text):
            return value
    return _redact(value, key)


def _redact(value: Any, key: str | None) -> Any:
    if isinstance(value, str):
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


def contains_secret(value: Any) -> bool:
    return redact(value) is not value
