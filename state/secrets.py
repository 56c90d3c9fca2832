"""What a secret looks like: the one table the validator (AIB3410/AIB3510) and the redactor (`state.redact`)
both read, so what is flagged is what is kept out of the state, plans and output, and the other way round.

Two kinds of entries:
- `SECRET_KEY_WORDS`: a key named like one of these holds a secret as a whole (`adminPassword`,
  `clientSecret`, `sasToken`, ...);
- `FORMS`: secrets inside any text (inline commands, URIs, tags), each a pattern whose `v` group (or
  `v1`/`v2` for a quoted value) is the secret part; the rest of the text is kept.

A value that only names a secret is not one: a shell or PowerShell variable (`$PASSWORD`, `$(cmd)`,
`%PASSWORD%`, `${VAR}`), a template placeholder (`[parameters('x')]`, `VALUE`, `...`) or a fingerprint
made before. docs/state.md ("No secrets") lists this table
(tests/secrets/test_secret_table.py keeps it true).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Sign:
    """A word (lower case) and, optionally, a pattern the lower-cased text holds as well (searched only when
    the word is there; fastest when it starts with a literal)."""

    word: str
    pattern: re.Pattern[str] | None = None

    def holds(self, low: str) -> bool:
        return self.pattern is None or self.pattern.search(low) is not None


def _signs(*words: str, then: str | None = None) -> tuple[Sign, ...]:
    """Signs for `words`; with `then`, each word must be followed by that pattern."""
    return tuple(Sign(w, None if then is None else re.compile(re.escape(w) + then)) for w in words)


@dataclass(frozen=True)
class SecretForm:
    """One way a secret is written inside text."""

    name: str
    # What the validator says the text looks like ("this looks like a SAS token ...").
    what: str
    # The line docs/state.md shows for it.
    doc: str
    # The pattern's text and flags, compiled when a text is first searched with it: a plan that finds no
    # sign of any form in its text compiles none (13 patterns, about 10 ms of every command's start).
    source: str
    # What the lower-cased text holds whenever the pattern can match, tested first (cheaply): one of these
    # signs, each a word and, where the word alone is common (`net` in every `windows.net`), a short
    # pattern as well.
    signs: tuple[Sign, ...]
    flags: int = 0

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(self.source, self.flags)


# A value quoted with " or ' (spaces allowed), else a run of characters up to a space or quote.
_QUOTED_OR_WORD = r"(?:\"(?P<v1>[^\"\n]+)\"|'(?P<v2>[^'\n]+)'|(?P<v>[^\s'\"]+))"
_I = re.IGNORECASE

FORMS: tuple[SecretForm, ...] = (
    SecretForm(
        "private-key",
        "a private key",
        "PEM private key blocks (`-----BEGIN ... PRIVATE KEY-----` to `-----END ... PRIVATE KEY-----`)",
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?P<v>.+?)-----END [A-Z ]*PRIVATE KEY-----",
        _signs("private key"),
        flags=re.S,
    ),
    SecretForm(
        "url-query",
        "a SAS token or a secret in a URL query",
        "secret URL query parameters: a SAS signature `sig=`, `signature=`, `code=`, `token=`, "
        "`access_token=`, `api_key=`/`apikey=`, `password=`, `secret=`, `client_secret=`",
        r"[?&](?:sig|signature|code|token|access_token|api[-_]?key|password|secret|client_secret)"
        r"=(?P<v>[^&#\s'\"]+)",
        _signs("sig", then="(?:nature)?=") + _signs("code=", "token=", "key=", "password=", "secret="),
        flags=_I,
    ),
    SecretForm(
        "url-userinfo",
        "a password in a URL",
        "the password in a URL's user information (`https://user:PASSWORD@host`)",
        r"\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@'\"]+:(?P<v>[^/\s@'\"]+)@",
        (Sign("@", re.compile(r"://[^/\s@]*:[^/\s@]*@")),),
    ),
    SecretForm(
        "authorization",
        "a bearer token or basic credentials",
        "`Bearer` and `Basic` credentials (8 characters or more)",
        r"\b(?:Bearer|Basic)\s+(?P<v>[A-Za-z0-9\-._~+/]{8,}=*)",
        _signs("bearer", "basic"),
        flags=_I,
    ),
    SecretForm(
        "connection-string",
        "a key or password in a connection string",
        "`AccountKey=`, `SharedAccessKey=`, `SharedAccessSignature=`, `Password=`, `Pwd=`, `ClientSecret=` "
        "in connection strings (up to the next `;`)",
        r"\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd|ClientSecret)"
        r"=(?P<v>[^;\s'\"]+)",
        _signs("key=", "signature=", "password=", "pwd=", "secret=") + _signs("sig", then="nature="),
        flags=_I,
    ),
    SecretForm(
        "option",
        "a password, secret or token option",
        "the value after a command option `--password`, `--passwd`, `--pwd`, `--client-secret`, `--secret`, "
        "`--sas-token`, `--sas`, `--account-key`, `--token`, `--api-key`, `--access-key`, `--pat` (one dash "
        "too, as PowerShell's `-Password`), with `=` or a space, quoted values with spaces included",
        r"(?:^|(?<=\s))--?(?:password|passwd|pwd|client-secret|secret|sas-token|sas|account-key|token|"
        r"api-key|access-key|pat)(?:=|\s+)" + _QUOTED_OR_WORD,
        _signs(
            "-pass",
            "-pwd",
            "-client-secret",
            "-secret",
            "-sas",
            "-account-key",
            "-token",
            "-api-key",
            "-access-key",
            "-pat",
        ),
        flags=_I,
    ),
    SecretForm(
        "curl-user",
        "a password given to curl",
        "the password in `curl -u USER:PASSWORD` / `--user USER:PASSWORD`",
        r"\bcurl\b[^|;&\n]*?[ \t](?:-u|--user)(?:=|[ \t]+)['\"]?[^\s:'\"]+:(?P<v>[^\s'\"]+)",
        (Sign("curl", re.compile(r"curl\b[^|;&\n]*?[ \t]-(?:u|-user)[ \t=]")),),
        flags=_I,
    ),
    SecretForm(
        "assignment",
        "a password, token or key",
        "assignments and settings of a name ending in `PASSWORD`, `PASSWD`, `PWD`, `SECRET`, `TOKEN`, "
        "`APIKEY`/`API_KEY`, `ACCOUNT_KEY`, `ACCESS_KEY`, `SAS` (any case) or `_KEY` (upper case, as "
        "`STORAGE_KEY`), with `=` or `:` "
        '(`DB_PASSWORD=...`, `$env:API_TOKEN = "..."`, `password: ...`, `"clientSecret": "..."`), '
        "quoted values with spaces included",
        r"\b[A-Za-z0-9_]*(?:PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|ACCOUNT_KEY|ACCESS_KEY|SAS|(?-i:_KEY))"
        r"(?:[\"']?[ \t]*:[ \t]*|[\"']?\s*=\s*)" + _QUOTED_OR_WORD.replace(r"[^\s'\"]+", r"[^\s'\";]+"),
        _signs("pass", "pwd", "secret", "token", "key", "sas", then=r"\w*[\"']?\s*[=:]"),
        flags=_I,
    ),
    SecretForm(
        "net-user",
        "a password (net user)",
        "the password in `net user NAME PASSWORD`",
        r"\bnet\s+user\s+(?:\"[^\"]+\"|[^\s\"]+)[ \t]+(?:\"(?P<v1>[^\"\n]+)\"|(?P<v>(?![*/])[^\s\"]+))",
        _signs("net", then=r"\s+user\s"),
        flags=_I,
    ),
    SecretForm(
        "securestring",
        "a plain-text secret (ConvertTo-SecureString)",
        "the quoted text given to PowerShell's `ConvertTo-SecureString`",
        r"ConvertTo-SecureString\s+(?:-String\s+)?(?:\"(?P<v1>[^\"\n]+)\"|'(?P<v2>[^'\n]+)')",
        _signs("convertto-securestring"),
        flags=_I,
    ),
    SecretForm(
        "jwt",
        "a JSON web token",
        "JSON web tokens (`eyJ...`, three dot-separated parts)",
        r"\b(?P<v>eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})",
        _signs("eyj"),
    ),
    SecretForm(
        "github-token",
        "a GitHub token",
        "GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`)",
        r"\b(?P<v>(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})",
        _signs("gh", then=r"(?:[pousr]_|ithub_pat_)"),
    ),
    SecretForm(
        "aws-access-key",
        "an AWS access key",
        "AWS access key ids (`AKIA...`, `ASIA...`)",
        r"\b(?P<v>(?:AKIA|ASIA)[0-9A-Z]{16})\b",
        _signs("akia", "asia", then=r"[0-9a-z]{16}"),
    ),
)

# A key is a secret's when it is one of these words, or ends in one after a `-` or `_` (`admin_password`,
# `x-token`), any case ...
SECRET_KEY_WORDS = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "clientsecret",
    "sastoken",
    "sasurl",
    "accountkey",
    "accesskey",
    "apikey",
    "connectionstring",
    "privatekey",
    "token",
    "accesstoken",
    "credential",
    "credentials",
)
# ... or when it ends in one of these, `-` and `_` left out (`adminPassword`, `storageAccountKey`).
SECRET_KEY_ENDINGS = (
    "password",
    "secret",
    "sastoken",
    "accountkey",
    "accesskey",
    "apikey",
    "connectionstring",
    "privatekey",
    "accesstoken",
)
_SECRET_KEY_RE = re.compile(r"(^|_|-)(" + "|".join(SECRET_KEY_WORDS) + r")$", _I)
_SECRET_KEY_ALSO = re.compile("(" + "|".join(SECRET_KEY_ENDINGS) + ")$", _I)
# What a secret becomes in the state and output (state.redact); never taken for a secret again.
FINGERPRINT_RE = re.compile(r"<secret:sha256:[0-9a-f]{12}>")
# What names a secret without being one: variables, command substitutions, placeholders.
_REFERENCE_STARTS = ("$", "%", "[", "<secret:")
_PLACEHOLDERS = frozenset(("***", "<redacted>", "...", "VALUE"))


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """A JSON key whose whole value is a secret (`adminPassword`, `client_secret`, `sasToken`...)."""
    folded = key.replace("-", "").replace("_", "")
    return bool(_SECRET_KEY_RE.search(key) or _SECRET_KEY_ALSO.search(folded))


def _fewest_words() -> tuple[tuple[str, ...], tuple[tuple[tuple[str, Sign], ...], ...]]:
    """The signs' words with every word that holds a shorter one dropped (a text holding `-pass` holds
    `pass`), and per form its signs, each with the word left that stands for it."""
    words = {sign.word for form in FORMS for sign in form.signs}
    fewest = sorted(w for w in words if not any(o != w and o in w for o in words))
    per_form = tuple(
        tuple((next(f for f in fewest if f in sign.word), sign) for sign in form.signs) for form in FORMS
    )
    return tuple(fewest), per_form


_WORDS, _FORM_SIGNS = _fewest_words()


def _candidates(low: str) -> list[SecretForm]:
    """The forms that may match the lower-cased text: one substring test per word (C speed), then, for
    the signs whose word is there, their own word and pattern."""
    present = {word for word in _WORDS if word in low}
    if not present:
        return []
    return [
        form
        for form, signs in zip(FORMS, _FORM_SIGNS, strict=True)
        if any(word in present and sign.word in low and sign.holds(low) for word, sign in signs)
    ]


def _signs_by_word() -> dict[str, tuple[Sign, ...]]:
    by_word: dict[str, list[Sign]] = {}
    for signs in _FORM_SIGNS:
        for word, sign in signs:
            by_word.setdefault(word, []).append(sign)
    return {word: tuple(signs) for word, signs in by_word.items()}


_SIGNS_BY_WORD = _signs_by_word()


def might_hold_secret(text: str) -> bool:
    """False when no form can match: the text holds none of their signs. (What `_candidates` finds, told
    from the first sign that holds: most texts hold no word at all, or a common one alone, such as `sig`
    in a run output named `...-sig`.)"""
    low = text.lower()
    for word in _WORDS:
        if word in low:
            for sign in _SIGNS_BY_WORD[word]:
                if sign.word in low and sign.holds(low):
                    return True
    return False


def is_reference(value: str) -> bool:
    """A variable, a command substitution or a placeholder names a secret; it is not one."""
    return value.startswith(_REFERENCE_STARTS) or value in _PLACEHOLDERS


@dataclass(frozen=True)
class Found:
    """A secret found in a text: which form, and where its value is (start, end)."""

    form: SecretForm
    start: int
    end: int


def _value_start(match: re.Match[str]) -> int | None:
    for group in ("v", "v1", "v2"):
        try:
            if match.group(group) is not None:
                return match.start(group)
        except IndexError:
            continue
    return None


def secret_value_span(match: re.Match[str]) -> tuple[int, int] | None:
    """Where the secret value of a match is, or None when it is a reference (not a secret)."""
    for group in ("v", "v1", "v2"):
        try:
            value = match.group(group)
        except IndexError:
            continue
        if value is not None:
            if not value or is_reference(value):
                return None
            return match.span(group)
    return None


def find_secrets(text: str) -> Iterator[Found]:
    """Every secret the forms find in `text`, in the table's order (a value may be found by two forms)."""
    low = text.lower()
    made = [m.span() for m in FINGERPRINT_RE.finditer(text)] if "<secret:" in text else []
    for form in _candidates(low):
        position = 0
        while (match := form.pattern.search(text, position)) is not None:
            span = secret_value_span(match)
            if span is not None and not any(s < span[1] and span[0] < e for s, e in made):
                yield Found(form, *span)
            # Go on from where the value starts, not past the match: a value may hold another secret's
            # name (`token: $X password=S3cret`), and a reference skipped must not hide what follows it.
            start = _value_start(match)
            position = max(match.start() + 1, start if start is not None else match.end())


def describe() -> str:
    """The list docs/state.md shows under "No secrets" (`python -m state.secrets` prints it)."""
    words = ", ".join(f"`{word}`" for word in SECRET_KEY_WORDS)
    endings = ", ".join(f"`{word}`" for word in SECRET_KEY_ENDINGS)
    lines = [
        f"- the whole value of a key named like a secret, in any case: a key that is {words}, or ends in "
        f"one of them after a `-` or `_` (`admin_password`, `x-token`); or a key that ends in {endings} "
        "once `-` and `_` are left out (`adminPassword`, `storageAccountKey`, `client_secret`);",
        "- inside any text (inline commands, URIs, tags, descriptions), the secret part of:",
        *(f"  - {form.doc} ({form.name});" for form in FORMS),
        "- the value of every `securestring` and `secureObject` parameter, and every text an expression "
        "computes from one (`concat`, `format`, `base64`, `toUpper`, a property of a secure object, a "
        "variable, ...), wherever it appears: values of 4 characters or more inside any text, shorter "
        "ones where they stand alone.",
    ]
    return "\n".join(lines) + "\n"
